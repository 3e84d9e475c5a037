"""Every CLI command that writes somewhere, given a read-only output path, an
existing file as its output folder (or a folder as its output file), or a path
under a file: one line, non-zero exit, no traceback, and no work done first.

The commands are found by walking the parser, so a new command with ``--out``
(or ``--csv``) fails this test until it is added to :data:`MINIMAL` below.
"""
import contextlib
import os
import subprocess
from pathlib import Path

import pytest

from eqspike.cli import build_parser, main

#: Output options scanned and whether each names a folder or a file.
OUTPUT_OPTIONS = {"--out": "folder", "--csv": "file"}


def _commands(parser, path=()):
    """(command path, output option) of every leaf sub-command with an output option."""
    import argparse
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, path + (name,))
    opts = {s for a in parser._actions for s in a.option_strings}
    for opt in OUTPUT_OPTIONS:
        if path and opt in opts:
            yield path, opt


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Valid inputs for the commands that need some (a spec, a results folder, a CSV)."""
    d = tmp_path_factory.mktemp("inputs")
    spec = d / "toy.toml"
    spec.write_text('[sweep]\nname = "toy"\npoint = "toy"\n[sweep.vary]\nx = [0.1, 0.2]\n')
    assert main(["sweep", "run", str(spec), "--out", str(d / "results"), "--workers", "0",
                 "--no-progress"]) == 0
    csv = d / "pulses.csv"
    csv.write_text("pulse,direction,conductance_S\n" +
                   "".join(f"{i},up,{1e-6 * (1 + i)}\n" for i in range(8)) +
                   "".join(f"{i},down,{1e-6 * (8 - i)}\n" for i in range(8)))
    from eqspike.devices.profile import DeviceProfile
    profile = DeviceProfile.ideal(8).to_json(d / "profile.json")
    return {"spec": str(spec), "results": str(d / "results"), "csv": str(csv), "profile": str(profile)}


#: Minimal valid arguments of each command, without its output option.
MINIMAL = {
    ("device", "characterize"): lambda i: ["--model", "taox_rram"],
    ("device", "fit"): lambda i: [i["csv"]],
    ("device", "variability"): lambda i: ["--model", "taox_rram", "--devices", "2"],
    ("device", "aihwkit", "export"): lambda i: [i["profile"]],   # --out is a file (not replaced)
    ("device", "aihwkit", "import"): lambda i: ["ReRamES"],
    ("circuit", "characterize"): lambda i: ["--circuit", "axon_hillock", "--points", "3"],
    ("run",): lambda i: ["--n-train", "20", "--n-test", "10", "--epochs", "1", "--hidden", "8"],
    ("compare",): lambda i: ["--n-train", "20", "--n-test", "10", "--epochs", "1", "--hidden", "8"],
    ("train",): lambda i: ["--n-train", "20", "--n-test", "10", "--sizes", "784,8,10"],
    ("stdp",): lambda i: ["--span", "3"],
    ("sweep", "run"): lambda i: [i["spec"], "--workers", "0", "--no-progress"],
    ("sweep", "plot"): lambda i: [i["results"]],
    ("sweep", "summary"): lambda i: [i["results"]],
    ("validate",): lambda i: [i["results"]],   # the output folder is checked before the run folder is read
}

CASES = sorted(_commands(build_parser()))


def test_every_command_with_an_output_option_is_scanned():
    found = {path for path, _ in CASES}
    assert found == set(MINIMAL), f"add these commands to MINIMAL: {found - set(MINIMAL)}"
    assert len(CASES) >= 11


def _writable(d: Path) -> bool:
    try:
        (d / ".probe").write_text("")
    except OSError:
        return False
    (d / ".probe").unlink()
    return True


@contextlib.contextmanager
def read_only_folder(parent: Path):
    """A folder nobody may write in: mode 0555, or (as root, who ignores modes)
    the immutable attribute; skips where neither holds."""
    d = parent / "readonly"
    d.mkdir()
    d.chmod(0o555)
    immutable = False
    try:
        if _writable(d):
            d.chmod(0o755)
            r = subprocess.run(["chattr", "+i", str(d)], capture_output=True)
            immutable = r.returncode == 0
            if not immutable or _writable(d):
                pytest.skip("cannot make a read-only folder here (root without chattr +i)")
        yield d
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(d)], capture_output=True)
        d.chmod(0o755)


def _bad_targets(tmp_path: Path, kind: str, ro: Path):
    """(label, path) of unusable output paths for an option of ``kind``."""
    f = tmp_path / "existing_file"
    f.write_text("keep me")
    d = tmp_path / "existing_folder"
    d.mkdir(exist_ok=True)
    targets = [("read-only parent", ro / ("new" if kind == "folder" else "new.csv")),
               ("under a file", f / ("sub" if kind == "folder" else "sub.csv"))]
    if kind == "folder":
        targets += [("read-only folder", ro), ("existing file", f)]
    else:
        targets += [("existing folder", d)]
    return targets


@pytest.mark.parametrize("path,opt", CASES, ids=[" ".join(p) + " " + o for p, o in CASES])
def test_unusable_output_path_gives_one_line_and_no_traceback(path, opt, inputs, tmp_path, capsys,
                                                              monkeypatch):
    # nothing heavy may run before the output path is checked
    from eqspike import datasets, spice

    def no_work(*a, **k):
        raise AssertionError("work started before the output path was checked")
    monkeypatch.setattr(spice, "run_netlist", no_work)
    monkeypatch.setattr(datasets, "load_dataset", no_work)
    with read_only_folder(tmp_path) as ro:
        for label, target in _bad_targets(tmp_path, OUTPUT_OPTIONS[opt], ro):
            capsys.readouterr()
            rc = main(list(path) + MINIMAL[path](inputs) + [opt, str(target)])
            err = capsys.readouterr().err
            assert rc not in (0, None), (label, path)
            assert "Traceback" not in err, (label, err)
            lines = [l for l in err.splitlines() if l.strip()]
            assert len(lines) == 1 and lines[0].startswith("eqspike: error:"), (label, err)
            assert opt in lines[0] or str(target) in lines[0], (label, err)
    assert (tmp_path / "existing_file").read_text() == "keep me"
    assert os.listdir(ro) == []

"""The ngspice netlist of a trained network's free (inference) phase for one image.

What is in it (docs/validation.md has the figure and the reasons):

- **Synapses**: each weight is two cells, ``G+`` on the weight's "+" column
  and ``G-`` on its "-" column, at the conductances the network holds
  (:mod:`.runfolder`).  ``synapse="compact"``: each cell is the device's
  compact-model read I-V at its programmed state (PKU / TaOx RRAM:
  ``I = I0 exp(-g/g0) sinh(V_cell/V0)`` behind its series resistance, the gap
  ``g`` solved so that ``I(V_read) / V_read = G``; the series resistance
  folded into the prefactor to first order, ``I = f(V) / (1 + f'(V_read) R_s)``,
  which varies by < 1e-4 over 0..V_read), written as an antiparallel pair
  of ideal diodes (``2 Is sinh(V / (N Vt))`` with ``N Vt = V0``: the same
  equation in compiled elements); the state is held during the read.  ``synapse="linear"``: a resistor of G.
- **Rows**: input pixels' spikes (the model's own sigma-delta spikes of
  that image) are read pulses of ``V_read`` (``PWL`` sources, edges of the
  crossbar characterisation, effective width = the crossbar profile's
  ``read_pulse_width_s``) starting ``pulse_offset`` into the step.  Rows of
  hidden/output neurons are driven by a one-shot: the neuron's output spike
  triggers one read pulse of the same effective width (a behavioural pulse
  shaper; the driver's supply energy is measured).  Rows that never carry a
  pulse are held at 0 V (a driver's low output).
- **Columns**: each column has ``r_wire_ohm`` per cell (cell i sees i + 1
  segments to the neuron end) and ``c_wire_F`` per cell to ground; rows
  carry ``c_wire_F`` per cell they cross.  The column end is held at 0 V
  (a current conveyor's virtual ground, ideal, with an optional input
  resistance ``r_in_ohm``).
- **Feedback (W^T)**: a second array per hidden weight layer holds the
  same conductances transposed: its rows are driven by the upper layer's
  spikes, its columns feed the lower layer's neurons.  The forward array
  and the feedback array are two arrays (a single array read both ways
  would need its rows held at virtual ground while they are driven, i.e.
  time multiplexing, which the spiking network does not have).  The
  clamped input layer gets no feedback array (the model computes none).
- **Neuron** = membrane + spike generator.  The membrane is the model's
  leaky integrator in continuous time: the "+" column current minus the "-"
  column current (a current mirror) and the bias current charge ``C_u``
  that leaks through ``R_u`` (time constant ``tau = step / eps``); its
  voltage is the model's ``u`` in volts.  A transconductor (behavioural,
  saturating like an OTA at its tail current) turns ``u`` into the spike
  generator's input current ``input_scale_A * clip(u, 0, 1)``.  The spike
  generator is the characterised transistor-level neuron circuit (the
  Axon-Hillock of ``circuits/neurons.py`` by default) with its PTM 180 nm
  model card; neurons share the supply ``vdd`` and one bias generator.

Two netlists per image (:mod:`.simulate` says why the split is exact):
:func:`input_array_netlist` (stage 1: input rows, ``W[0]`` and its held
column ends, optionally a subset of the columns) and :func:`build_netlist`
(stage 2: neurons, ``W[1..]``, feedback arrays; layer 1 gets the charge
stage 1 measured, as trapezoid current pulses at the input pulses' times).

Charge scale: one unit of weight (``G+ - G- = G_ref``) delivers
``Q_w = G_ref V_read t_eff`` per spike; the model's drive of one spike is
``theta W`` for one step, so a drive of 1 is the current
``I_s = Q_w / (theta * step)`` and the membrane injection is
``(I+ - I-) / (I_s R_u) + b / R_u``.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from eqspike.errors import ParameterError
from eqspike.params import param, validate

__all__ = ["CircuitOptions", "NetworkScale", "build_netlist", "input_array_netlist", "network_scale", "neuron_circuit",
           "programmed_gap_m", "SUPPORTED_COMPACT"]

#: device models whose read I-V at a programmed state is implemented (PKU equations)
SUPPORTED_COMPACT = ("taox_rram", "pku_rram")
_LOCAL_SMOOTH_V = 0.02   # width of the one-shot's smooth gates (V)
_IS_REF_A = 1e-9         # saturation current of the cell diode model per unit area (A)
_VT_27C = 1.380649e-23 * 300.15 / 1.602176634e-19   # thermal voltage at ngspice's default 27 C (V)


@dataclass(frozen=True)
class CircuitOptions:
    """How the chip is simulated (the ablations switch these)."""
    synapse: str = param("compact", unit="", choices=("compact", "linear"),
                         doc="cells as the device's compact-model read I-V at the programmed state, "
                             "or linear resistors of the same read conductance")
    wires: str = param("resistive", unit="", choices=("resistive", "ideal"),
                       doc="column wires with r_wire_ohm per cell and wire capacitance, or ideal")
    r_wire_ohm: float = param(10.0, unit="ohm", low=0, high=1e4,
                              doc="column wire resistance per cell (resistive wires)")
    c_wire_F: float = param(0.1e-15, unit="F", low=0, high=1e-12,
                            doc="wire capacitance per cell, rows and columns (resistive wires)")
    r_in_ohm: float = param(0.0, unit="ohm", low=0, high=1e8,
                            doc="input resistance of the column's virtual ground (0: ideal)")
    r_membrane_ohm: float = param(1e6, unit="ohm", low=1, high=1e12,
                                  doc="membrane leak resistance R_u (behavioural; sets the volt scale)")
    pulse_offset: float = param(0.1, unit="steps", low=0, high=0.8,
                                doc="input read pulses start this fraction of a step into the step")
    steps_per_period: float = param(40.0, unit="1", low=5, high=1e4,
                                    doc="max time step = step time / this")

    def __post_init__(self) -> None:
        validate(self)


@dataclass(frozen=True)
class NetworkScale:
    """Time and charge scales of the chip (SI)."""
    step_s: float          # circuit time of one model step
    t_eff_s: float         # effective read pulse width
    rise_s: float          # read pulse edge
    v_read_V: float
    i_unit_A: tuple        # I_s per weight layer: current of a drive of 1
    tau_s: float           # membrane time constant
    input_scale_A: float   # spike generator current at u = 1


def network_scale(net, opts: CircuitOptions) -> NetworkScale:
    from eqspike.network.neuron_transfer import step_time_s
    p = net.rule_options()
    theta = float(p.theta)
    step = step_time_s(net.neuron, theta)
    xb = net.crossbar
    rise = float((xb.provenance or {}).get("parameters", {}).get("rise_time_s", 0.1e-9))
    t_eff = float(xb.read_pulse_width_s)
    if t_eff <= 2 * rise or t_eff > 0.5 * step:
        raise ParameterError(f"read pulse width {t_eff:g} s must exceed twice its edge ({rise:g} s) and "
                             f"stay below half a step ({step:g} s)")
    i_unit = tuple(float(g) * xb.read_voltage_V * t_eff / (theta * step) for g in net.g_ref)
    return NetworkScale(step_s=step, t_eff_s=t_eff, rise_s=rise, v_read_V=float(xb.read_voltage_V),
                        i_unit_A=i_unit, tau_s=step / float(net.cfg.eps),
                        input_scale_A=float(net.neuron.input_scale_A))


def programmed_gap_m(G_S: np.ndarray, dev, v_read_V: float) -> np.ndarray:
    """Gap (m) at which a PKU cell behind its series resistance reads ``G`` at ``v_read_V``.

    ``G V = I0 exp(-g/g0) sinh((V - G V R_s)/V0)``, solved for g.
    """
    G = np.asarray(G_S, dtype=np.float64)
    v_cell = v_read_V * (1.0 - G * dev.r_series_ohm)
    if np.any(v_cell <= 0):
        raise ParameterError("conductance too large for the device's series resistance")
    return -dev.g0_m * np.log(G * v_read_V / (dev.i0_A * np.sinh(v_cell / dev.v0_V)))


def _f(x: float) -> str:
    return f"{float(x):.6g}"


def neuron_circuit(net):
    """The characterised spike-generator circuit (instance) named by the neuron profile."""
    from eqspike.circuits.neurons import make_neuron
    prov = net.neuron.provenance or {}
    name = prov.get("circuit") or net.neuron.circuit
    params = dict(prov.get("parameters") or {})
    params.pop("circuit", None)
    try:
        return make_neuron(name, **params)
    except ParameterError as e:
        raise ParameterError(f"neuron profile '{net.neuron.name}': circuit {name!r} cannot be rebuilt "
                             f"from its provenance ({e}); validate needs a characterised circuit") from None


def _neuron_template(circ) -> tuple[list[str], list[str], set[str]]:
    """(shared lines: supplies and bias mirrors, per-neuron lines, local node names)."""
    lines = [l for l in circ._body(0.0).splitlines() if l.strip() and not l.startswith("*")]
    bias_nodes = set()
    for l in lines:
        t = l.split()
        if t[0].lower().startswith("ib"):
            bias_nodes |= {n for n in t[1:3] if n not in ("0", "vddb", "vdd")}
    shared, per = [], []
    for l in lines:
        name = l.split()[0].lower()
        if name in ("vdd", "vddb"):
            shared.append(l)
        elif name == "iin":
            continue
        elif name.startswith("ib") or (name.startswith("m") and name[1:] in bias_nodes):
            shared.append(l)
        else:
            per.append(l)
    local = set()
    for l in per:
        t = l.split()
        if t[0].startswith("."):
            local |= set(re.findall(r"v\((\w+)\)", l))
            continue
        n_nodes = 4 if t[0][0].lower() == "m" else 2
        local |= {n for n in t[1:1 + n_nodes] if n not in ("0", "vdd", "vddb") and n not in bias_nodes}
    return shared, per, local


def _instantiate(per: list[str], local: set[str], tag: str) -> tuple[list[str], str]:
    """Per-neuron lines with local nodes and element names suffixed by ``tag``; the .ic part."""
    out, ic = [], ""
    for l in per:
        if l.startswith(".ic"):
            ic = re.sub(r"v\((\w+)\)", lambda m: f"v({m.group(1)}_{tag})", l[3:].strip())
            continue
        t = l.split()
        t[0] = f"{t[0]}_{tag}"
        n_nodes = 4 if t[0][0].lower() == "m" else 2
        for i in range(1, 1 + n_nodes):
            if t[i] in local:
                t[i] = f"{t[i]}_{tag}"
        out.append(" ".join(t))
    return out, ic


def _pwl(times: np.ndarray, scale: NetworkScale, v: float, t_stop: float) -> str:
    """PWL of read pulses starting at ``times`` (s): edges ``rise``, effective width ``t_eff``."""
    r, w = scale.rise_s, scale.t_eff_s - scale.rise_s
    pts = ["0 0"]
    for t in times:
        pts += [f"{_f(t)} 0", f"{_f(t + r)} {_f(v)}", f"{_f(t + r + w)} {_f(v)}", f"{_f(t + 2 * r + w)} 0"]
    pts.append(f"{_f(t_stop)} 0")
    return "PWL(" + " ".join(pts) + ")"


class _Builder:
    def __init__(self, net, x_spikes: np.ndarray, opts: CircuitOptions, T: int, title: str):
        self.net, self.opts, self.T = net, opts, int(T)
        self.sc = network_scale(net, opts)
        self.circ = neuron_circuit(net)
        self.x_spikes = np.asarray(x_spikes)     # (T, n_0) 0/1 input spikes
        self.lines: list[str] = [title]
        self.ics: list[str] = []
        self.saves: list[str] = ["time"]
        self.t_stop = self.T * self.sc.step_s
        self.compact = opts.synapse == "compact"
        self.resistive = opts.wires == "resistive"
        if self.compact:
            model = net.device_model
            if model not in SUPPORTED_COMPACT:
                raise ParameterError(f"synapse='compact' needs a device compact model with a read I-V "
                                     f"({', '.join(SUPPORTED_COMPACT)}); this run has "
                                     f"{model or 'ideal synapses'}: use --synapse linear")
            from eqspike.devices.models import MODELS
            self.dev = MODELS[model].params(net.device_parameters)
        self.driver_rows: list[str] = []     # rows whose driver current is measured
        self.n_cells = 0
        self._model_added = False
        self.row_caps = True

    # -------------------------------------------------------------- cells
    def cell(self, name: str, row: str, col: str, G: float) -> None:
        self.n_cells += 1
        if not self.compact:
            self.lines.append(f"R{name} {row} {col} {_f(1.0 / G)}")
            return
        # I = pre sinh(V / V0) as an antiparallel pair of ideal diodes (2 Is sinh(V / (N Vt))),
        # compiled elements instead of behavioural sources; area = pre / (2 Is_ref)
        a = _f(self.cell_prefactor(G) / (2 * _IS_REF_A))
        self.lines.append(f"Df{name} {row} {col} dcell area={a}")
        self.lines.append(f"Dr{name} {col} {row} dcell area={a}")

    def cell_prefactor(self, G: float) -> float:
        """``I0 exp(-g/g0)`` at the programmed gap, divided by the series-resistance factor
        ``1 + f'(V_read) R_s`` (first order; it varies by < 1e-4 over 0..V_read)."""
        d = self.dev
        gap = float(programmed_gap_m(np.array([G]), d, self.sc.v_read_V)[0])
        pre = d.i0_A * math.exp(-gap / d.g0_m)
        return pre / (1.0 + pre * d.r_series_ohm / d.v0_V * math.cosh(self.sc.v_read_V / d.v0_V))

    def diode_model(self) -> str:
        """The cell diode: ideal exponential with ``N Vt = V0`` at 27 C (no series R, no capacitance)."""
        n = self.dev.v0_V / _VT_27C
        return f".model dcell D(IS={_IS_REF_A:g} N={n:.9g} RS=0 CJO=0 TT=0)"

    # -------------------------------------------------------------- one array
    def array(self, tag: str, rows: list[str], Gp: np.ndarray, Gm: np.ndarray, cols: list[str],
              n_cols_total: int | None = None) -> None:
        """Cells of a (n_rows, n_cols) weight array between row nodes and the held ends of
        the "+" and "-" columns ``cols[j] + 'p' / 'm'``; rows held at 0 V are node '0'."""
        o = self.opts
        n_r, n_c = Gp.shape
        if self.compact and not self._model_added:
            self.lines.append(self.diode_model())
            self._model_added = True
        for j in range(n_c):
            for sign, G in (("p", Gp[:, j]), ("m", Gm[:, j])):
                end = f"{cols[j]}{sign}"
                prev = end
                for i in range(n_r):
                    if rows[i] == "0" and not self.resistive:
                        continue   # a 0 V row on a held 0 V column carries no current
                    if self.resistive:
                        node = f"{end}_{i}"
                        self.lines.append(f"Rw{tag}{sign}{j}_{i} {node} {prev} {_f(o.r_wire_ohm)}")
                        if o.c_wire_F > 0:
                            self.lines.append(f"Cw{tag}{sign}{j}_{i} {node} 0 {_f(o.c_wire_F)}")
                        prev = node
                    else:
                        node = end
                    self.cell(f"{tag}{sign}{j}_{i}", rows[i], node, float(G[i]))
        if self.resistive and o.c_wire_F > 0 and self.row_caps:
            for i, r in enumerate(rows):
                if r != "0":
                    self.lines.append(f"Cr{tag}_{i} {r} 0 {_f(2 * (n_cols_total or n_c) * o.c_wire_F)}")

    # -------------------------------------------------------------- the whole network
    def input_rows(self) -> list[str]:
        """PWL read pulses of the input pixels' spikes; '0' for rows that never spike."""
        o, sc = self.opts, self.sc
        rows = []
        for i in range(self.net.sizes[0]):
            steps = np.nonzero(self.x_spikes[:, i])[0]
            if len(steps) == 0:
                rows.append("0")
                continue
            times = (steps + o.pulse_offset) * sc.step_s
            self.lines.append(f"Vx{i} x{i} 0 {_pwl(times, sc, sc.v_read_V, self.t_stop)}")
            self.driver_rows.append(f"vx{i}")
            rows.append(f"x{i}")
        return rows

    def finish(self, t_max_s: float, options: str) -> str:
        sc = self.sc
        self.saves += [f"{v}#branch" for v in self.driver_rows]
        self.lines += _chunked(".ic", self.ics) + _chunked(".save", self.saves)
        self.lines += [options, f".tran {_f(min(t_max_s, sc.rise_s * 10))} {_f(self.t_stop)} 0 {_f(t_max_s)}",
                       ".end", ""]
        return "\n".join(self.lines)

    # -------------------------------------------------------------- stage 1: the input array
    def build_input_array(self, neurons=None) -> str:
        """Input rows, the ``W[0]`` columns of layer-1 ``neurons`` (default all) and their
        held column ends (no neurons).  Rows are ideal sources, so columns are independent:
        a group of columns can be simulated alone (no fill-in across the whole array); the row
        wire capacitance is charged in the group holding neuron 0 only."""
        net = self.net
        rows = self.input_rows()
        js = list(range(net.sizes[1])) if neurons is None else [int(j) for j in neurons]
        cols = [f"c1_{j}" for j in js]
        self.row_caps = 0 in js
        self.array("a1", rows, net.g_pos[0][:, js], net.g_neg[0][:, js], cols,
                   n_cols_total=net.sizes[1])
        for c in cols:
            for sign in ("p", "m"):
                self.held(f"{c}{sign}")
        # between pulses nothing moves: the step is limited only around the pulses (breakpoints)
        return self.finish(self.sc.step_s / 4, ".options method=gear reltol=1e-5 abstol=1e-15 vntol=1e-7")

    def held(self, node: str) -> str:
        """A column end held at 0 V by source ``Vh<node>`` (optional input resistance)."""
        held = node
        if self.opts.r_in_ohm > 0:
            self.lines.append(f"Rin{node} {node} {node}v {_f(self.opts.r_in_ohm)}")
            held = f"{node}v"
        self.lines.append(f"Vh{node} {held} 0 0")
        self.saves.append(f"vh{node}#branch")
        return f"Vh{node}"

    # -------------------------------------------------------------- stage 2: neurons and the upper arrays
    def build_network(self, q_in: np.ndarray) -> str:
        """Neurons of layers 1..L, arrays ``W[1..]`` and feedback arrays; layer 1's input
        array enters as its measured net column charge per step ``q_in`` (T, n_1), C."""
        net, o, sc = self.net, self.opts, self.sc
        sizes = net.sizes
        L = len(sizes) - 1
        vr = sc.v_read_V
        circ = self.circ
        shared, per, local = _neuron_template(circ)
        self.lines += ["* model card: " + circ.tech.source, circ.tech.card().strip(),
                       "* supplies and the shared bias generator of the spike generators", *shared]
        out_node = circ.output_node
        fwd_rows: dict[int, list[str]] = {}
        fb_rows: dict[int, list[str]] = {}
        tau_d = sc.t_eff_s / math.log(2.0)
        vdd = circ.vdd_V
        steps = np.arange(self.T)
        for k in range(1, L + 1):
            fwd_rows[k], fb_rows[k] = [], []
            for j in range(sizes[k]):
                tag = f"{k}_{j}"
                m = f"m{tag}"
                self.lines.append(f"* neuron {j} of layer {k}")
                self.lines.append(f"Cu{tag} {m} 0 {_f(sc.tau_s / o.r_membrane_ohm)}")
                self.lines.append(f"Ru{tag} {m} 0 {_f(o.r_membrane_ohm)}")
                if k == 1:   # the input array's net column charge of each step, as it was measured
                    amp = q_in[:, j] / sc.t_eff_s / (sc.i_unit_A[0] * o.r_membrane_ohm)
                    self.lines.append(f"Ix{tag} 0 {m} {_pwl_amp((steps + o.pulse_offset) * sc.step_s, amp, sc, self.t_stop)}")
                ins = [(f"c{k}_{j}", k - 1)] if k > 1 else []
                ins += [(f"f{k}_{j}", k)] if k < L else []
                for cname, layer in ins:
                    gain = 1.0 / (sc.i_unit_A[layer] * o.r_membrane_ohm)
                    for sign, s in (("p", 1.0), ("m", -1.0)):
                        src = self.held(f"{cname}{sign}")
                        n1, n2 = ("0", m) if s > 0 else (m, "0")
                        self.lines.append(f"F{cname}{sign} {n1} {n2} {src} {gain:.9g}")
                bias = float(net.b[k - 1][j]) / o.r_membrane_ohm
                if bias != 0.0:
                    self.lines.append(f"Ib{tag} 0 {m} DC {bias:.9g}")
                body, ic = _instantiate(per, local, tag)
                vmem = f"{circ.membrane_node}_{tag}"
                self.lines.append(f"Bg{tag} 0 {vmem} I={_f(sc.input_scale_A)}*min(max(v({m}),0),1)")
                self.lines += body
                self.ics.append(ic)
                spk = f"{out_node}_{tag}"
                self.saves += [spk, m]
                # one-shot: a read pulse of t_eff at each rising edge of the spike
                self.lines += [f"Bo{tag} od{tag} 0 V=v({spk})", f"Ro{tag} od{tag} dl{tag} {_f(tau_d / 1e-12)}",
                               f"Co{tag} dl{tag} 0 1p"]
                self.ics.append(f"v(dl{tag})=0 v({m})=0")
                gate = (f"{_f(vr)}/(1+exp(-(v({spk})-{_f(vdd / 2)})/{_f(_LOCAL_SMOOTH_V)}))"
                        f"/(1+exp(-({_f(vdd / 2)}-v(dl{tag}))/{_f(_LOCAL_SMOOTH_V)}))")
                self.lines.append(f"Bp{tag} pd{tag} 0 V={gate}")
                for kind, lst, present in (("r", fwd_rows[k], k < L), ("q", fb_rows[k], k >= 2)):
                    if present:
                        row = f"{kind}{tag}"
                        self.lines.append(f"V{row} pd{tag} {row} 0")
                        self.driver_rows.append(f"v{row}")
                        lst.append(row)
        # ---- arrays: forward W[k-1] into layer k (k >= 2); feedback W[k]^T into layer k (k < L)
        for k in range(1, L + 1):
            if k >= 2:
                self.array(f"a{k}", fwd_rows[k - 1], net.g_pos[k - 1], net.g_neg[k - 1],
                           [f"c{k}_{j}" for j in range(sizes[k])])
            if k < L:
                self.array(f"b{k}", fb_rows[k + 1], net.g_pos[k].T, net.g_neg[k].T,
                           [f"f{k}_{j}" for j in range(sizes[k])])
        self.saves.append("vdd#branch")
        from eqspike.circuits.neurons import SolverOptions
        return self.finish(sc.step_s / o.steps_per_period, SolverOptions().options_line())


def _pwl_amp(times: np.ndarray, amps: np.ndarray, scale: NetworkScale, t_stop: float) -> str:
    """PWL current of trapezoid pulses at ``times`` (s) with heights ``amps`` (zeros skipped)."""
    r, w = scale.rise_s, scale.t_eff_s - scale.rise_s
    pts = ["0 0"]
    for t, a in zip(times, amps):
        if a == 0.0:
            continue
        pts += [f"{_f(t)} 0", f"{_f(t + r)} {a:.9g}", f"{_f(t + r + w)} {a:.9g}", f"{_f(t + 2 * r + w)} 0"]
    pts.append(f"{_f(t_stop)} 0")
    return "PWL(" + " ".join(pts) + ")"


def _chunked(card: str, items: list[str], per_line: int = 8) -> list[str]:
    """``card`` lines holding ``per_line`` items each (keeps netlist lines short)."""
    return [f"{card} " + " ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]


def input_array_netlist(net, x_spikes: np.ndarray, opts: CircuitOptions | None = None, *,
                        T: int | None = None, title: str = "eqspike validate input array",
                        neurons=None) -> tuple[str, dict]:
    """Stage 1: the input array's columns of layer-1 ``neurons`` (default all) under the
    image's input pulses; ``info`` names the vectors (held column ends
    ``vhc1_<j><p|m>#branch``, input drivers)."""
    b = _builder(net, x_spikes, opts, T, title)
    text = b.build_input_array(neurons)
    return text, _info(b)


def build_netlist(net, x_spikes: np.ndarray, q_in: np.ndarray, opts: CircuitOptions | None = None, *,
                  T: int | None = None, title: str = "eqspike validate") -> tuple[str, dict]:
    """Stage 2: the network for one image, with layer 1's net input charge per step ``q_in``
    (T, n_1) in C from stage 1."""
    b = _builder(net, x_spikes, opts, T, title)
    text = b.build_network(np.asarray(q_in, dtype=np.float64))
    return text, _info(b)


def _builder(net, x_spikes, opts, T, title) -> _Builder:
    opts = opts or CircuitOptions()
    T = int(net.cfg.T1 if T is None else T)
    if x_spikes.shape != (T, net.sizes[0]):
        raise ParameterError(f"input spikes have shape {x_spikes.shape}; expected ({T}, {net.sizes[0]})")
    return _Builder(net, x_spikes, opts, T, title)


def _info(b: _Builder) -> dict:
    return {"vectors": b.saves, "driver_rows": b.driver_rows, "scale": b.sc, "n_cells": b.n_cells,
            "output_node": b.circ.output_node, "vdd_V": float(b.circ.vdd_V), "t_stop_s": b.t_stop,
            "T": b.T}

"""CMOS technology: the MOSFET model cards the circuits are built from.

The default node is PTM 180 nm bulk CMOS (BSIM3v3, ngspice level 49,
VDD 1.8 V), written out in ``circuits/models/ptm180.lib`` with its published
source (Predictive Technology Model, ASU, http://ptm.asu.edu/; Cao et al.,
CICC 2000; Zhao & Cao, IEEE TED 2006).  The card text is inlined into every
netlist, so the netlist hash (the cache key) changes when the card changes.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from eqspike.errors import ParameterError
from eqspike.params import param, validate

__all__ = ["Technology", "TECHNOLOGIES", "get_technology", "MODELS_DIR", "diffusion_geometry"]

MODELS_DIR = Path(__file__).resolve().parent / "models"


@dataclass(frozen=True)
class Technology:
    """A named CMOS node: model card file, model names, nominal supply, minimum length."""
    name: str = param("ptm180", unit="", doc="technology name")
    model_file: str = param("ptm180.lib", unit="", doc="model card file in circuits/models/")
    nmos: str = param("nmos_ptm180", unit="", doc="NMOS model name in the card")
    pmos: str = param("pmos_ptm180", unit="", doc="PMOS model name in the card")
    vdd_nominal_V: float = param(1.8, unit="V", low=0, low_open=True, doc="nominal supply")
    l_min_m: float = param(0.18e-6, unit="m", low=0, low_open=True, doc="minimum channel length")
    w_min_m: float = param(0.24e-6, unit="m", low=0, low_open=True, doc="minimum channel width")
    l_diff_m: float = param(0.48e-6, unit="m", low=0, low_open=True,
                            doc="source/drain diffusion length (for AD/AS/PD/PS)")
    source: str = param("Predictive Technology Model 180 nm BSIM3v3 (ASU NIMO group, "
                        "http://ptm.asu.edu/); Cao et al., IEEE CICC 2000", unit="",
                        doc="published source of the card")

    def __post_init__(self) -> None:
        validate(self)

    @property
    def path(self) -> Path:
        return MODELS_DIR / self.model_file

    def card(self) -> str:
        """The model card text (inlined into netlists)."""
        return _read_card(str(self.path))


@lru_cache(maxsize=8)
def _read_card(path: str) -> str:
    try:
        return Path(path).read_text()
    except FileNotFoundError:
        raise ParameterError(f"model card file {path!r} does not exist") from None


TECHNOLOGIES: dict[str, Technology] = {"ptm180": Technology()}


def get_technology(name: str) -> Technology:
    """The :class:`Technology` called ``name`` (ParameterError naming the known ones)."""
    try:
        return TECHNOLOGIES[name]
    except KeyError:
        raise ParameterError(f"unknown technology {name!r}; known: {', '.join(TECHNOLOGIES)}") from None


def diffusion_geometry(w_m: float, tech: Technology) -> str:
    """``AD AS PD PS`` instance parameters for a transistor of width ``w_m``."""
    a = w_m * tech.l_diff_m
    p = 2 * (w_m + tech.l_diff_m)
    return f"ad={a:.4g} as={a:.4g} pd={p:.4g} ps={p:.4g}"

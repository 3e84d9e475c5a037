"""Compact synapse models as ngspice subcircuits, and the registry ``MODELS``.

``MODELS[name]`` is a :class:`~eqspike.devices.models.base.ModelSpec`:
parameter class (frozen, validated, SI units), kind (``two_terminal`` pins
``p n``; ``fefet`` pins ``g d s``), default pulse drive and I-V sweep, the
ngspice options it needs, and whether many instances may share one netlist.

======================  ==============================================  =========================================
name                    model                                           default parameters from
======================  ==============================================  =========================================
``vteam``               VTEAM threshold memristor                       Kvatinsky et al., IEEE TCAS-II 2015
``pku_rram``            Stanford-PKU filament-gap RRAM                  Guan et al. IEEE EDL 2012; Jiang et al. IEEE TED 2016
``taox_rram``           PKU model, TaOx/HfOx-like calibration           anchor row: Wu et al. IEEE EDL 2017 (via NeuroSim)
``fefet``               multi-domain FeFET, NLS/Merz kinetics           Jerry et al. IEDM 2017; Ni et al. 2018
``ftj``                 ferroelectric tunnel junction (parallel domains) Chanthbouala et al. Nature Materials 2012
``yakopcic``            Yakopcic generalized memristor (sinh I-V)       Yakopcic et al. IEEE EDL 2011 / IEEE TCAD 2013 (Oblea device fit)
======================  ==============================================  =========================================

Use a subcircuit in your own netlist::

    from eqspike.devices.models import MODELS
    p = MODELS["taox_rram"].params({"r_series_ohm": 400})
    text = p.subckt("rram")          # .subckt rram p n ... .ends
    ics = p.ic("xr1")                # {"xr1.gap": 2.1} -> write as .ic v(xr1.gap)=2.1

Add a model: write a params dataclass with ``subckt``, ``ic`` and
``D2D_PARAMS`` (see ``vteam.py``), then add a :class:`ModelSpec` below.
"""
from __future__ import annotations

from eqspike.errors import ParameterError

from .base import IVDrive, ModelSpec, PulseDrive, params_dict, sample_d2d
from .fefet import FeFETParams
from .ftj import FTJParams
from .pku_rram import TAOX_HFOX_VALUES, PKURRAMParams
from .vteam import VTEAMParams
from .yakopcic import YakopcicParams

__all__ = ["MODELS", "get_model", "ModelSpec", "PulseDrive", "IVDrive", "VTEAMParams",
           "PKURRAMParams", "TaOxRRAMParams", "FeFETParams", "FTJParams", "YakopcicParams", "params_dict",
           "sample_d2d"]


def _taox_class():
    import dataclasses
    fields = []
    for f in dataclasses.fields(PKURRAMParams):
        if f.name in TAOX_HFOX_VALUES:
            meta = dict(f.metadata)
            fields.append((f.name, f.type, dataclasses.field(default=TAOX_HFOX_VALUES[f.name], metadata=meta)))
    cls = dataclasses.make_dataclass("TaOxRRAMParams", fields, bases=(PKURRAMParams,), frozen=True)
    cls.__doc__ = ("Stanford-PKU RRAM with the TaOx/HfOx-like calibration as defaults "
                   "(see eqspike.devices.models.pku_rram.taox_hfox).")
    cls.__module__ = __name__
    return cls


#: PKU parameters whose defaults are the TaOx/HfOx calibration.
TaOxRRAMParams = _taox_class()

MODELS: dict[str, ModelSpec] = {
    "vteam": ModelSpec(
        name="vteam", params_cls=VTEAMParams, kind="two_terminal",
        description="VTEAM threshold memristor (linear R(x), Biolek-type windows)",
        source="Kvatinsky et al., IEEE TCAS-II 62(8):786, 2015",
        drive=PulseDrive(pulse_up_V=0.22, pulse_down_V=-0.03, pulse_width_s=1e-7, rise_s=5e-9,
                         read_V=0.1, read_s=5e-8, gap_s=2e-8),
        iv=IVDrive(amplitude_V=0.3, period_s=1e-5, points=400),
        n_pulses=100, many_in_one=True),
    "pku_rram": ModelSpec(
        name="pku_rram", params_cls=PKURRAMParams, kind="two_terminal",
        description="Stanford-PKU filament-gap RRAM (I0 e^-g/g0 sinh(V/V0), self-heating)",
        source="Guan, Yu, Wong, IEEE EDL 33(10):1405, 2012; Jiang et al., IEEE TED 63(5):1884, 2016",
        drive=PulseDrive(pulse_up_V=1.0, pulse_down_V=-1.0, pulse_width_s=1e-8, rise_s=1e-9,
                         read_V=0.1, read_s=2e-8, gap_s=1e-8),
        iv=IVDrive(amplitude_V=1.2, period_s=1e-3, points=400),
        n_pulses=50, many_in_one=True),
    "taox_rram": ModelSpec(
        name="taox_rram", params_cls=TaOxRRAMParams, kind="two_terminal",
        description="TaOx/HfOx-like analog RRAM: PKU model + series TaOx layer, calibrated to the anchor row",
        source="anchor: Wu et al., IEEE EDL 38(8):1019, 2017 (NeuroSim table: 128 levels, NL 0.04/-0.63, "
               "1-10 uS, 1.6 V 50 ns); model: Guan 2012 / Jiang 2016",
        drive=PulseDrive(pulse_up_V=1.6, pulse_down_V=-1.6, pulse_width_s=5e-8, rise_s=2e-9,
                         read_V=0.1, read_s=2e-8, gap_s=1e-8),
        iv=IVDrive(amplitude_V=1.6, period_s=1e-4, points=400),
        n_pulses=127, many_in_one=True),
    "fefet": ModelSpec(
        name="fefet", params_cls=FeFETParams, kind="fefet",
        description="multi-domain FeFET: NLS/Merz domain kinetics shifting V_T, EKV channel",
        source="Jerry et al., IEDM 2017 (32-level HZO FeFET); Ni et al. 2018; Merz 1954",
        drive=PulseDrive(pulse_up_V=4.0, pulse_down_V=-4.0, pulse_width_s=1e-7, rise_s=1e-8,
                         read_V=0.1, read_s=5e-8, gap_s=2e-8, read_gate_V=1.0),
        iv=IVDrive(amplitude_V=5.0, period_s=1e-5, points=400),
        n_pulses=31, many_in_one=False),
    "ftj": ModelSpec(
        name="ftj", params_cls=FTJParams, kind="two_terminal",
        description="ferroelectric tunnel junction: parallel up/down regions, NLS kinetics, sinh tunnel I-V",
        source="Chanthbouala et al., Nature Materials 11:860, 2012",
        drive=PulseDrive(pulse_up_V=3.0, pulse_down_V=-3.0, pulse_width_s=1e-7, rise_s=1e-8,
                         read_V=0.1, read_s=5e-8, gap_s=2e-8),
        iv=IVDrive(amplitude_V=3.5, period_s=1e-5, points=400),
        n_pulses=40, many_in_one=False),
    "yakopcic": ModelSpec(
        name="yakopcic", params_cls=YakopcicParams, kind="two_terminal",
        description="Yakopcic generalized memristor (a x sinh(b V) I-V, thresholds Vp/Vn, windows at xp/xn)",
        source="Yakopcic et al., IEEE EDL 32(10):1436, 2011; Yakopcic et al., IEEE TCAD 32(8):1201, 2013 "
               "(Oblea et al. Ag-chalcogenide device fit)",
        drive=PulseDrive(pulse_up_V=1.0, pulse_down_V=-1.0, pulse_width_s=2e-6, rise_s=1e-7,
                         read_V=0.1, read_s=1e-6, gap_s=5e-7),
        iv=IVDrive(amplitude_V=1.0, period_s=1e-3, points=400),
        n_pulses=100, many_in_one=True),
}


def get_model(name: str) -> ModelSpec:
    """The registry entry ``name``; :class:`ParameterError` lists the known models."""
    try:
        return MODELS[name]
    except (KeyError, TypeError):
        raise ParameterError(f"unknown device model {name!r}; known: {', '.join(MODELS)}") from None

"""Energy of the digital and driver operations of chip-mode training (cited tables).

Chip mode (:mod:`eqspike.network.policies.chip`) counts every operation the
chip performs to update its weights; this module prices the ones that are
not spikes, reads or programming pulses (those come from the neuron,
crossbar and device profiles):

- **Arithmetic and SRAM access**: M. Horowitz, "Computing's energy
  problem (and what we can do about it)", ISSCC 2014, 45 nm, 0.9 V
  (:data:`HOROWITZ_45NM_PJ`): integer add 8/16/32 bit 0.03/0.05/0.1 pJ,
  multiply 8/32 bit 0.2/3.1 pJ, float add 16/32 bit 0.4/0.9 pJ, float
  multiply 16/32 bit 1.1/3.7 pJ; a 64-bit read from an SRAM of 8 KB / 32 KB /
  1 MB 10 / 20 / 100 pJ.  In between the table's sizes the SRAM energy is
  interpolated log-log in the capacity, and an access of ``B`` bits costs
  ``B / 64`` of the 64-bit figure (one word line, ``B`` bit lines: an
  approximation); a write is priced as a read (assumption; the table gives
  reads).  Integer adds of other widths are interpolated linearly in the
  width (an adder's energy grows about linearly with its width).
- **Residual register read-modify-write** (``residual`` policy, B bits):
  read B bits + B-bit add + compare with the step threshold (a B-bit add) +
  write B bits, from an SRAM holding one layer's registers
  (``n_k n_{k+1} B / 8`` bytes).  ``residual_float``: 32-bit read, fp32
  add, compare (32-bit add), 32-bit write.
- **Neuron update decision** (per neuron, per nudged step, per pairing
  slot): its activity change (an 8-bit subtraction), its scaling (an 8-bit
  multiply), the stochastic rounding (a 16-bit pseudo-random number,
  priced as a 16-bit add, and an 8-bit compare): 0.31 pJ.  The neuron's
  free-phase and previous activity are per-neuron registers (their access is
  in these ops: assumption).
- **Row / column pulse drivers**: each update pulse on a line charges the
  line, ``E = n_cells c_cell V^2`` (full swing, charge and discharge), with
  ``c_cell`` the capacitance per cell on the line (default 0.1 fF: 0.2 fF/um
  wire, the ITRS figure NeuroSim uses, over a 0.25 um cell pitch, plus a
  select-transistor gate of ~0.05 fF: an assumption, a parameter) and ``V``
  the device's programming amplitude.  1T1R cells are assumed: a row pulse
  opens the select transistors of its row and only cells whose column also
  pulses are written, so half-selected cells draw no write current.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from eqspike.errors import ParameterError
from eqspike.params import param, validate

#: Horowitz, ISSCC 2014, 45 nm: energy per operation, pJ
HOROWITZ_45NM_PJ = {
    "int_add_8": 0.03, "int_add_16": 0.05, "int_add_32": 0.1,
    "int_mult_8": 0.2, "int_mult_32": 3.1,
    "fp_add_16": 0.4, "fp_add_32": 0.9, "fp_mult_16": 1.1, "fp_mult_32": 3.7,
    "sram_read_64b_8KB": 10.0, "sram_read_64b_32KB": 20.0, "sram_read_64b_1MB": 100.0,
}
_SRAM_POINTS = ((8 * 1024, 10.0), (32 * 1024, 20.0), (1024 * 1024, 100.0))
_ADD_POINTS = ((8, 0.03), (16, 0.05), (32, 0.1))
_PJ = 1e-12


def int_add_J(bits: int) -> float:
    """Energy of one ``bits``-wide integer add, J (Horowitz 8/16/32 bit, linear in width)."""
    b = float(bits)
    if not b >= 1:
        raise ParameterError(f"parameter 'bits' = {bits!r} must be >= 1")
    xs = [p[0] for p in _ADD_POINTS]
    ys = [p[1] for p in _ADD_POINTS]
    if b <= xs[0]:
        return ys[0] * b / xs[0] * _PJ
    if b >= xs[-1]:
        return ys[-1] * b / xs[-1] * _PJ
    return float(np.interp(b, xs, ys)) * _PJ


def sram_access_J(bits: int, capacity_bytes: float) -> float:
    """Energy of reading (or writing: priced the same) ``bits`` bits from an SRAM of
    ``capacity_bytes``, J: the Horowitz 64-bit figure interpolated log-log in the
    capacity (clamped to the table's 8 KB .. 1 MB), times ``bits / 64``."""
    c = float(capacity_bytes)
    if not (c > 0 and math.isfinite(c)):
        raise ParameterError(f"parameter 'capacity_bytes' = {capacity_bytes!r} must be > 0")
    lc = math.log(min(max(c, _SRAM_POINTS[0][0]), _SRAM_POINTS[-1][0]))
    e64 = float(np.exp(np.interp(lc, [math.log(p[0]) for p in _SRAM_POINTS],
                                 [math.log(p[1]) for p in _SRAM_POINTS])))
    return e64 * float(bits) / 64.0 * _PJ


def register_rmw_J(bits: int, n_synapses: int) -> float:
    """One read-modify-write of a ``bits``-bit residual register (read, add, compare,
    write) in an SRAM of ``n_synapses`` such registers, J."""
    cap = max(n_synapses * bits / 8.0, 1.0)
    return 2 * sram_access_J(bits, cap) + 2 * int_add_J(bits)


def float_rmw_J(n_synapses: int) -> float:
    """One read-modify-write of a float32 residual (32-bit read, fp32 add, 32-bit compare,
    32-bit write) in an SRAM of ``n_synapses`` float32 registers, J."""
    cap = n_synapses * 4.0
    return 2 * sram_access_J(32, cap) + HOROWITZ_45NM_PJ["fp_add_32"] * _PJ + int_add_J(32)


def neuron_decision_J() -> float:
    """One neuron update decision (8-bit subtract, 8-bit multiply, 16-bit random number
    priced as a 16-bit add, 8-bit compare), J."""
    h = HOROWITZ_45NM_PJ
    return (2 * h["int_add_8"] + h["int_mult_8"] + h["int_add_16"]) * _PJ


@dataclass(frozen=True)
class ChipCostConfig:
    """Assumptions of the chip-mode driver pricing (module doc)."""
    cell_capacitance_F: float = param(0.1e-15, unit="F", low=0, high=1e-12,
                                      doc="line capacitance per cell (wire + select gate)")
    line_voltage_V: float = param(0.0, unit="V", low=0, high=20,
                                  doc="update-pulse amplitude on the lines; 0 = the device "
                                      "profile's programming amplitude |pulse_up_V|")

    def __post_init__(self) -> None:
        validate(self)


def line_pulse_J(n_cells: int, voltage_V: float, cell_capacitance_F: float) -> float:
    """One update pulse on a line of ``n_cells`` cells, ``n_cells c V^2``, J."""
    return float(n_cells) * float(cell_capacitance_F) * float(voltage_V) ** 2


def chip_unit_energies(sizes, device, residual_bits: int | None, policy: str,
                       costs: ChipCostConfig | None = None) -> dict[str, np.ndarray]:
    """Unit energy (J) per weight layer of each counted chip operation.

    Keys: ``row_line_pulses`` (a row of ``W[k]`` spans ``2 n_{k+1}`` cells, G+ and G-
    columns), ``col_line_pulses`` (a column spans ``n_k`` cells), ``neuron_decisions``,
    ``register_rmw`` (by policy and bit width).
    """
    costs = costs or ChipCostConfig()
    v = costs.line_voltage_V or abs(float(getattr(device, "pulse_up_V", 1.0)))
    sizes = [int(n) for n in sizes]
    L = len(sizes) - 1
    row = np.array([line_pulse_J(2 * sizes[k + 1], v, costs.cell_capacitance_F) for k in range(L)])
    col = np.array([line_pulse_J(sizes[k], v, costs.cell_capacitance_F) for k in range(L)])
    dec = np.full(L, neuron_decision_J())
    if policy == "residual":
        rmw = np.array([register_rmw_J(residual_bits, sizes[k] * sizes[k + 1]) for k in range(L)])
    elif policy == "residual_float":
        rmw = np.array([float_rmw_J(sizes[k] * sizes[k + 1]) for k in range(L)])
    else:
        rmw = np.zeros(L)
    return {"row_line_pulses": row, "col_line_pulses": col, "neuron_decisions": dec,
            "register_rmw": rmw, "line_voltage_V": np.full(L, v)}

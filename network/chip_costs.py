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
  write B bits, plus the wire between the register bank and its array
  (``2 B`` bit transitions of ``register_wire_m`` of wire at 0.2 fF/um, the
  ITRS figure NeuroSim uses, at Horowitz's 0.9 V).  ``residual_float``:
  32-bit read, fp32 add, compare (32-bit add), 32-bit write.
- **Register file organisation** (:class:`ChipCostConfig`,
  ``register_file``): ``banked`` (default: what a chip designer would
  build) puts the registers in SRAM banks of ``register_bank_bytes``
  (default 8 KB, Horowitz's smallest point) next to the crossbar tiles they
  serve, so an access reaches only its bank: the access energy is the
  Horowitz figure at the bank's size (a layer whose registers fill less than
  one bank is priced at 8 KB, the table's smallest size: an overestimate).
  ``per_layer`` puts one layer's registers in one SRAM of
  ``n_k n_{k+1} B / 8`` bytes (392 KB for 784 x 500 at 8 bits), a what-if
  kept for comparison (16.2 pJ per 8-bit RMW against 2.8 pJ banked, wire included).
  The bank size is validated to the table's range, 8 KB .. 1 MB, so the
  energy is interpolated, never extrapolated.
- **Register retention** (residual policies): the SRAM cells leak while
  they hold the registers, for the whole training time (all phases of every
  example), ``n_synapses B`` bits at ``register_leakage_W_per_bit``
  (default 50 pW per bit: an assumption for a 45 nm 6T cell at room
  temperature, the middle of the 10-100 pW range; not from a cited table).
- **Neuron update decision** (per neuron, per nudged step, per pairing
  slot): its activity change (an 8-bit subtraction), its scaling (an 8-bit
  multiply), the stochastic rounding (a 16-bit pseudo-random number,
  priced as a 16-bit add, and an 8-bit compare): 0.31 pJ.  The neuron's
  free-phase and previous activity are per-neuron registers (their access is
  in these ops: assumption).
- **Per-neuron registers** (every chip-mode run): what each neuron must hold
  beyond its analog state, in SRAM banks of ``neuron_register_bytes``
  (default 8 KB, Horowitz's smallest point: an upper bound for a store this
  small; latches next to the neuron would cost less), each access of ``b``
  bits priced ``b / 64`` of the 64-bit figure as above:

  * the **+beta traces** (``phases='difference'``): in each +beta step every
    neuron writes its spike bit (``T2 + 1`` entries) and every neuron of layers
    1..L its activity change (``T2`` entries of ``value_bits``, default 8, the
    width the decision logic works in); the -beta phase reads each entry back
    once;
  * the **bias registers**: one read-modify-write of ``bias_bits`` (default
    16) per neuron of layers 1..L per learning step (read, add, write);
  * the **restart state**: the free phase's end state (membrane and activity,
    ``state_bits`` each, default 16) of every neuron of layers 1..L, written
    once per example and read at the start of each nudged phase.
- **Refresh reads** (``refresh='periodic'``): a refresh scans every device
  (two reads per pair) to find the saturating pairs, and program-and-verify
  reads once after each re-programming pulse.  One read: a current-sense
  amplifier, ``sense_J`` (default 1.94 pJ = 64.67 uW x 30 ns, Hu et al.,
  Microelectron. Eng. 302, 112406 (2025), 180 nm: an upper bound at 45 nm),
  plus the cell's Joule heat at ``g_max`` for the crossbar's read pulse.
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


def register_wire_J(bits: int, wire_m: float) -> float:
    """The ``bits`` of one register access crossing ``wire_m`` of wire (full swing at the
    Horowitz logic supply), J."""
    return float(bits) * WIRE_F_PER_M * float(wire_m) * LOGIC_VDD_V ** 2


def register_rmw_J(bits: int, n_synapses: int, costs: "ChipCostConfig | None" = None) -> float:
    """One read-modify-write of a ``bits``-bit residual register (read, add, compare,
    write, and the bank-to-array wire both ways) of a layer of ``n_synapses`` registers,
    organised as ``costs`` says (default :class:`ChipCostConfig`: 8 KB banks), J."""
    costs = costs or ChipCostConfig()
    cap = costs.register_capacity_bytes(n_synapses, bits)
    return (2 * sram_access_J(bits, cap) + 2 * int_add_J(bits)
            + 2 * register_wire_J(bits, costs.register_wire_m))


def float_rmw_J(n_synapses: int, costs: "ChipCostConfig | None" = None) -> float:
    """One read-modify-write of a float32 residual (32-bit read, fp32 add, 32-bit compare,
    32-bit write, the wire both ways) of a layer of ``n_synapses`` float32 registers, J."""
    costs = costs or ChipCostConfig()
    cap = costs.register_capacity_bytes(n_synapses, 32)
    return (2 * sram_access_J(32, cap) + HOROWITZ_45NM_PJ["fp_add_32"] * _PJ + int_add_J(32)
            + 2 * register_wire_J(32, costs.register_wire_m))


def neuron_decision_J() -> float:
    """One neuron update decision (8-bit subtract, 8-bit multiply, 16-bit random number
    priced as a 16-bit add, 8-bit compare), J."""
    h = HOROWITZ_45NM_PJ
    return (2 * h["int_add_8"] + h["int_mult_8"] + h["int_add_16"]) * _PJ


REGISTER_FILES = ("banked", "per_layer")
#: on-chip wire capacitance per metre (0.2 fF/um, the ITRS figure NeuroSim uses)
WIRE_F_PER_M = 0.2e-15 / 1e-6
#: logic supply of the Horowitz 45 nm figures, V
LOGIC_VDD_V = 0.9


@dataclass(frozen=True)
class ChipCostConfig:
    """Assumptions of the chip-mode pricing: line drivers and the residual register file
    (module doc)."""
    cell_capacitance_F: float = param(0.1e-15, unit="F", low=0, high=1e-12,
                                      doc="line capacitance per cell (wire + select gate)")
    line_voltage_V: float = param(0.0, unit="V", low=0, high=20,
                                  doc="update-pulse amplitude on the lines; 0 = the device "
                                      "profile's programming amplitude |pulse_up_V|")
    register_file: str = param("banked", unit="", choices=REGISTER_FILES,
                               doc="banked: residual registers in SRAM banks of "
                                   "register_bank_bytes next to the crossbar tiles; per_layer: "
                                   "one SRAM holding a whole layer's registers (what-if)")
    register_bank_bytes: int = param(8192, unit="B", low=8192, high=1048576, integer=True,
                                     doc="size of one register bank (banked), bytes; within "
                                         "the Horowitz table's 8 KB .. 1 MB")
    register_wire_m: float = param(100e-6, unit="m", low=0, high=0.02,
                                   doc="wire between a register bank and its array's line "
                                       "drivers, m (each bit read and written crosses it)")
    register_leakage_W_per_bit: float = param(50e-12, unit="W", low=0, high=1e-9,
                                              doc="retention leakage of one register bit, W "
                                                  "(assumption: 45 nm 6T cell, 10-100 pW)")
    neuron_register_bytes: int = param(8192, unit="B", low=8192, high=1048576, integer=True,
                                       doc="SRAM bank holding the per-neuron registers (+beta "
                                           "traces, biases, restart state), bytes; within the "
                                           "Horowitz table's 8 KB .. 1 MB")
    value_bits: int = param(8, unit="bits", low=1, high=32, integer=True,
                            doc="width of a stored activity change (+beta trace entry)")
    bias_bits: int = param(16, unit="bits", low=1, high=32, integer=True,
                           doc="width of a neuron's bias register")
    state_bits: int = param(16, unit="bits", low=1, high=32, integer=True,
                            doc="width of each stored restart value (membrane, activity)")
    sense_J: float = param(1.94e-12, unit="J", low=0, high=1e-9,
                           doc="one current-sense read of a device during refresh, J "
                               "(64.67 uW x 30 ns, Hu et al. 2025, 180 nm)")

    def __post_init__(self) -> None:
        validate(self)

    def register_capacity_bytes(self, n_synapses: int, bits: int) -> float:
        """Capacity of the SRAM one register access reaches, bytes."""
        layer = max(n_synapses * bits / 8.0, 1.0)
        if self.register_file == "per_layer":
            return layer
        return float(min(self.register_bank_bytes, layer))

    def describe(self, bits: int | None = None) -> str:
        """One line naming the register-file organisation (for reports)."""
        if self.register_file == "per_layer":
            org = "one SRAM per layer holding all its registers"
        else:
            org = f"SRAM banks of {self.register_bank_bytes / 1024:g} KB next to the arrays"
        w = f"{bits}-bit registers, " if bits else ""
        return (f"{w}{org}; {1e6 * self.register_wire_m:g} um bank-to-array wire; retention "
                f"{1e12 * self.register_leakage_W_per_bit:g} pW/bit")


def neuron_bit_J(costs: "ChipCostConfig | None" = None) -> float:
    """One bit of a per-neuron register access (read or write), J."""
    costs = costs or ChipCostConfig()
    return sram_access_J(1, costs.neuron_register_bytes)


def bias_rmw_J(costs: "ChipCostConfig | None" = None) -> float:
    """One read-modify-write of a neuron's bias register (read, add, write), J."""
    costs = costs or ChipCostConfig()
    return 2 * costs.bias_bits * neuron_bit_J(costs) + int_add_J(costs.bias_bits)


def neuron_register_counts(sizes, T2: int, n_samples: int, n_phases: int, difference: bool,
                           n_examples: int) -> dict[str, np.ndarray]:
    """Per-neuron register accesses of ``n_examples`` chip-mode examples, per weight layer
    k (the neurons of layer k+1; layer 0's input spike bits go to W[0]), reads and writes
    counted alike (module doc):

    - ``trace_spike_bits``: +beta spike bits (``T2 + 1`` per neuron, written then read);
    - ``trace_values``: +beta activity changes (``T2`` per neuron of layers 1..L);
    - ``bias_rmw``: bias read-modify-writes (one per neuron per learning step);
    - ``restart_values``: the free phase's end state (membrane and activity), written
      once, read at the start of each nudged phase.

    ``difference``: the +beta phase keeps traces and only the -beta phase learns
    (``n_phases`` = 2); otherwise every nudged phase learns and no traces are kept.
    """
    sizes = [int(n) for n in sizes]
    L = len(sizes) - 1
    post = np.array(sizes[1:], dtype=np.float64)
    spike_bits, values = np.zeros(L), np.zeros(L)
    if difference:
        spike_bits = 2.0 * n_samples * (T2 + 1) * post
        spike_bits[0] += 2.0 * n_samples * (T2 + 1) * sizes[0]
        values = 2.0 * n_samples * T2 * post
    learning_phases = n_samples * (1 if difference else n_phases)
    n = float(n_examples)
    return {"trace_spike_bits": n * spike_bits, "trace_values": n * values,
            "bias_rmw": n * post * T2 * learning_phases,
            "restart_values": n * (1 + n_samples * n_phases) * 2 * post}


def refresh_read_J(cell_read_J: float, costs: "ChipCostConfig | None" = None) -> float:
    """One device read of the refresh (scan or verify): the sense amplifier plus the
    cell's own read energy ``cell_read_J``, J."""
    costs = costs or ChipCostConfig()
    return float(costs.sense_J) + float(cell_read_J)


def line_pulse_J(n_cells: int, voltage_V: float, cell_capacitance_F: float) -> float:
    """One update pulse on a line of ``n_cells`` cells, ``n_cells c V^2``, J."""
    return float(n_cells) * float(cell_capacitance_F) * float(voltage_V) ** 2


def chip_unit_energies(sizes, device, residual_bits: int | None, policy: str,
                       costs: ChipCostConfig | None = None) -> dict[str, np.ndarray]:
    """Unit energy (J) per weight layer of each counted chip operation.

    Keys: ``row_line_pulses`` (a row of ``W[k]`` spans ``2 n_{k+1}`` cells, G+ and G-
    columns), ``col_line_pulses`` (a column spans ``n_k`` cells), ``neuron_decisions``,
    ``register_rmw`` (by policy, bit width and register-file organisation),
    ``trace_spike_bits``, ``trace_values``, ``restart_values`` and ``bias_rmw`` (the
    per-neuron registers, per access of one entry;
    refresh reads are priced in :func:`eqspike.network.hardware.record_chip`, which
    knows the crossbar's cell read energy); and, for the
    retention row, ``register_bits`` (bits held per layer) and
    ``register_leakage_W_per_bit``.
    """
    costs = costs or ChipCostConfig()
    v = costs.line_voltage_V or abs(float(getattr(device, "pulse_up_V", 1.0)))
    sizes = [int(n) for n in sizes]
    L = len(sizes) - 1
    row = np.array([line_pulse_J(2 * sizes[k + 1], v, costs.cell_capacitance_F) for k in range(L)])
    col = np.array([line_pulse_J(sizes[k], v, costs.cell_capacitance_F) for k in range(L)])
    dec = np.full(L, neuron_decision_J())
    if policy == "residual":
        rmw = np.array([register_rmw_J(residual_bits, sizes[k] * sizes[k + 1], costs)
                        for k in range(L)])
    elif policy == "residual_float":
        rmw = np.array([float_rmw_J(sizes[k] * sizes[k + 1], costs) for k in range(L)])
    else:
        rmw = np.zeros(L)
    return {"row_line_pulses": row, "col_line_pulses": col, "neuron_decisions": dec,
            "register_rmw": rmw, "line_voltage_V": np.full(L, v),
            "trace_spike_bits": np.full(L, neuron_bit_J(costs)),
            "trace_values": np.full(L, costs.value_bits * neuron_bit_J(costs)),
            "restart_values": np.full(L, costs.state_bits * neuron_bit_J(costs)),
            "bias_rmw": np.full(L, bias_rmw_J(costs)),
            "register_bits": np.array([register_bits(sizes[k] * sizes[k + 1], residual_bits, policy)
                                       for k in range(L)], dtype=np.float64),
            "register_leakage_W_per_bit": np.full(L, costs.register_leakage_W_per_bit)}


def register_bits(n_synapses: int, residual_bits: int | None, policy: str) -> int:
    """Register bits a layer of ``n_synapses`` holds under ``policy`` (0 for in-situ pulses)."""
    if policy == "residual":
        return int(n_synapses) * int(residual_bits)
    if policy == "residual_float":
        return int(n_synapses) * 32
    return 0

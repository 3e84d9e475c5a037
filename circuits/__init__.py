"""Analog circuits that carry spikes: transistor-level integrate-and-fire
neurons and crossbar read columns characterised in ngspice (f-I curve,
energy per spike, read energy per synaptic event), and the neuron profile
JSON that the network consumes.

Public API (see docs/circuits.md):

- ``eqspike.circuits.profile``: ``NeuronProfile`` (``transfer``,
  ``transfer_derivative``, ``rate_Hz``, ``energy_per_spike_at``,
  ``ideal_hard_sigmoid``), ``CrossbarProfile`` (``read_energy_J``, ``ideal``).
- ``eqspike.circuits.characterize``: ``default_neuron_profile()``,
  ``default_crossbar_profile()``, ``characterize()``, ``fi_sweep()``.
- ``eqspike.circuits.neurons``: ``AxonHillock``, ``LeakyIF``, ``SolverOptions``,
  ``make_neuron``; ``eqspike.circuits.crossbar``: ``CrossbarColumn``,
  ``crossbar_profile``, ``ir_drop_sweep``.
"""

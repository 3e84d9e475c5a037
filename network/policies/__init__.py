"""Synapse update policies, one module per family.

- ``rounding`` policies of simulator mode (``sign``, ``round``,
  ``stochastic``, and the float ``accumulate`` residual): turn a rule's summed
  ``dW`` into pulse counts; in :mod:`eqspike.network.synapses`
  (``DeviceSynapses``, ``pulse_counts``, ``POLICIES``).
- :mod:`.chip`: chip mode (batch 1): :class:`ChipSynapseConfig` and the
  :class:`ChipSynapses` backend; weights change only through coincidence
  pulses (``pulses``) or through a per-synapse fixed-point register
  (``residual``, format and arithmetic in :mod:`.residual`;
  ``residual_float`` its float reference).
"""

"""Synapse update policies, one module per family.

- :mod:`.rounding`: the policies of simulator mode that round a rule's
  summed ``dW`` to pulse counts (``sign``, ``round``, ``stochastic``:
  ``pulse_counts``; ``POLICIES`` also names ``accumulate``, the float
  residual that :class:`eqspike.network.synapses.DeviceSynapses` and
  :mod:`eqspike.network._synapse_kernels` apply).
- :mod:`.chip`: chip mode (batch 1): :class:`ChipSynapseConfig` and the
  :class:`ChipSynapses` backend; weights change only through coincidence
  pulses (``pulses``) or through a per-synapse fixed-point register
  (``residual``, format and arithmetic in :mod:`.residual`;
  ``residual_float`` its float reference).
"""

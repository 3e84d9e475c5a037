"""eqspike: spike-driven Equilibrium Propagation from device to network.

Where things live
-----------------
- ``eqspike.devices``  (folder ``devices/``): synapse compact models as ngspice
  subcircuits, their characterisation, and the *device profile* JSON the
  network consumes.
- ``eqspike.circuits`` (folder ``circuits/``): transistor-level neurons and
  crossbar read paths in ngspice, and the *neuron profile* JSON.
- ``eqspike.network``  (folder ``network/``): the vectorised numpy trainer
  (rate-based EP ``cep`` and spike-driven ``eqspike``), device-aware synapses
  and the energy ledger.
- ``eqspike.sweeps``   (folder ``sweeps/``): parameter sweeps on Dask.
- ``eqspike.spice``: the one ngspice runner the whole project uses.
- ``eqspike.params``: validated, documented, SI-unit configuration fields.
- ``eqspike.atomic``: atomic file writes (results are never half-written).
"""

__version__ = "0.1.0"

"""Vectorised numpy network simulator for Equilibrium Propagation.

Layout:
- ``model``: the layered network state (weights, biases) and the synapse
  backend that applies weight updates (ideal floats, or device pairs);
- ``rules``: learning rules selected by name (``cep`` rate-based EP with
  continual updates; ``eqspike`` spike-driven EP);
- ``trainer``: the training loop, checkpoints, metrics and run folder.
"""

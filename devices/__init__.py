"""Synapse devices: compact models (VTEAM, RRAM, FeFET, FTJ) as ngspice
subcircuits, their characterisation in ngspice (I-V, pulse response,
nonlinearity, write energy, variability), fitting from measured data, and
the device profile JSON that the network consumes."""

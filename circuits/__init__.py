"""Analog circuits that carry spikes: transistor-level integrate-and-fire
neurons and crossbar read columns characterised in ngspice (f-I curve,
energy per spike, read energy per synaptic event), and the neuron profile
JSON that the network consumes."""

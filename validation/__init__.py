"""``eqspike validate``: re-simulate a trained network's free phase in ngspice.

One module per idea (docs/validation.md):

- :mod:`.runfolder`  what a trained run folder holds (weights, conductance pairs, profiles);
- :mod:`.reference`  the vectorised model's free phase on one image, spikes recorded per step;
- :mod:`.netlist`    the ngspice netlist of the whole network for one image;
- :mod:`.simulate`   one image in ngspice -> spike times, energies (one engine per process);
- :mod:`.runner`     K images in a process pool, resumable per image, time limit per image;
- :mod:`.compare`    agreement metrics (class, spike counts, first-spike times, energy);
- :mod:`.report`     report.md and plots;
- :mod:`.cli`        the ``eqspike validate RUN_DIR`` command.
"""

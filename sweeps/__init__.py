"""Parameter sweeps (variability, nonlinearity, levels, energy) run in
parallel on Dask distributed, with results as Parquet tables and plots.

- :mod:`eqspike.sweeps.spec`: TOML sweep spec -> validated frozen dataclasses
  (:func:`~eqspike.sweeps.spec.load_spec`), deterministic point ids;
- :mod:`eqspike.sweeps.points` / :mod:`eqspike.sweeps.device_point`: the
  point functions (``toy``, ``eqspike_device``);
- :mod:`eqspike.sweeps.runner`: :func:`~eqspike.sweeps.runner.run_sweep` on a
  LocalCluster or a scheduler address;
- :mod:`eqspike.sweeps.store`: one atomic Parquet row per (point, repeat),
  resume, :func:`~eqspike.sweeps.store.read_results`;
- :mod:`eqspike.sweeps.plots`: summary table, accuracy plots, heatmap,
  accuracy-energy Pareto front;
- :mod:`eqspike.sweeps.cli`: ``eqspike sweep run|plot|summary|points``.

See docs/sweeps.md.
"""

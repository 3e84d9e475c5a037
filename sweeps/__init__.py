"""Parameter sweeps (variability, nonlinearity, levels, energy) run in
parallel on Dask distributed, with results as Parquet tables and plots."""

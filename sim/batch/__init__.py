"""Batch stage: seeded replications in chunks, worker pools and Dask, and the run folder."""

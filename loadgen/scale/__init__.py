"""Scaling out: one run split into shards (local processes, Dask, pods), merged exactly."""

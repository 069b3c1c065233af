"""What can stop a scaled-out run before it has anything to report."""


class ScaleError(Exception):
    """Scaling out cannot work as asked (no Dask installed, an unreachable
    scheduler, more shards than worker threads): said in one line, as misuse."""


class ShardsLost(Exception):
    """No shard came back: there is nothing to report."""

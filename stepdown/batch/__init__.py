"""Re-analysing a season's archive of recordings on Dask (`stepdown batch`).

- :mod:`.source`: the recordings under a local folder or any fsspec URL, read as bytes.
- :mod:`.version`: which analysis made a result (version, config and its id).
- :mod:`.task`: one recording in, one :class:`~.task.Outcome` out (runs on a worker).
- :mod:`.tables`: outcomes to the Parquet tables (per rep, per test, failures) and JSON files.
- :mod:`.runner`: the batch itself: what is done already, the Dask client, progress, writing.

Dask, distributed and fsspec are imported only here, never by the other commands.
"""

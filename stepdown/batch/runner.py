"""The batch: list the source, skip what is done, analyse the rest on Dask, write the outputs.

``run_batch(source, dest, client=...)`` submits one :func:`~stepdown.batch.task.analyze_one`
per recording to a ``distributed.Client`` (``client=None``: a plain in-process loop, the
same work without Dask). Each task writes its recording's results itself, so a batch
stopped half-way keeps what it finished, and the client only counts outcomes and writes
the failures table at the end. With a remote cluster, SOURCE and DEST must be URLs its
workers reach (shared storage such as S3).

Skipping: a recording is done when a test row with its path, the same checksum, the
same :func:`~stepdown.batch.version.analysis_version` and the same ``config_id`` exists.
A recording that fails keeps its previous results (if any) and is listed in the failures.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from analysis.rules import RuleConfig
from sensor_io.errors import InputError, first_line
from stepdown.batch.source import Source, redact, safe_url
from stepdown.batch.tables import Dest
from stepdown.batch.task import Job, Outcome, analyze_one
from stepdown.batch.version import analysis_version, config_id

CONNECT_TIMEOUT_S = 10.0
MAX_CHUNK = 8


@dataclass
class BatchReport:
    """Counts of one run, its failures and its wall time (s)."""

    total: int = 0
    """Recordings found under the source."""
    analysed: int = 0
    """Recordings analysed in this run."""
    skipped: int = 0
    """Recordings already done (same checksum, analysis version and settings)."""
    no_rep: int = 0
    """Recordings analysed in this run in which no complete rep was found (no category)."""
    failures: list[Outcome] = field(default_factory=list)
    """The failed recordings' outcomes, sorted by recording."""
    seconds: float = 0.0
    """Wall time of the run, s."""

    @property
    def failed(self) -> int:
        """Number of recordings that failed."""
        return len(self.failures)


# -- the Dask client ---------------------------------------------------------------------------

def connect(scheduler: str = "local", workers: int | None = None,
            timeout_s: float = CONNECT_TIMEOUT_S) -> Any:
    """A ``distributed.Client``: on a new local cluster (``"local"``: ``workers`` processes
    of one thread each, default one per core) or on the scheduler at ``tcp://HOST:PORT``.

    An address that does not answer within ``timeout_s`` is one InputError naming it.

    Parameters
    ----------
    scheduler : str
        ``"local"``, or the address of a running scheduler (``tcp://`` or ``tls://``).
    workers : int or None
        Worker processes of a local cluster; None for one per core.
    timeout_s : float
        How long a remote scheduler has to answer, s.

    Returns
    -------
    distributed.Client
        The client; close it with :func:`close`.

    Raises
    ------
    InputError
        A scheduler that is neither ``"local"`` nor an address, or that does not answer
        (its password left out of the message).
    """
    import dask
    from distributed import Client, LocalCluster

    if scheduler == "local":
        n = workers or os.cpu_count() or 1
        # Dask's statistical profiler samples every worker thread each 10 ms: a few per cent
        # of a ~0.1 s task that nobody reads here. The workers take this config with them.
        with dask.config.set({"distributed.worker.profile.enabled": False}):
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=logging.ERROR)
        return Client(cluster)
    if not scheduler.startswith(("tcp://", "tls://")):
        raise InputError(f"--scheduler must be 'local' or a scheduler address tcp://HOST:PORT, "
                         f"got {safe_url(scheduler)!r}")
    try:
        return Client(scheduler, timeout=f"{timeout_s}s")
    except (OSError, TimeoutError, ValueError) as err:  # ValueError: a malformed address
        raise InputError(f"cannot reach the Dask scheduler at {safe_url(scheduler)}: "
                         f"{redact(first_line(err), scheduler)}") from None


def close(client: Any) -> None:
    """Close a client from :func:`connect`, and its local cluster if it made one.

    Parameters
    ----------
    client : distributed.Client
        A client from :func:`connect`.
    """
    cluster = getattr(client, "cluster", None)
    client.close()
    if cluster is not None:
        cluster.close()


def _peak_rss_bytes() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: kB


def worker_peak_memory(client: Any) -> dict[str, int]:
    """Peak resident memory (bytes) of each worker process so far, by worker address.

    Parameters
    ----------
    client : distributed.Client
        The client whose workers are asked.

    Returns
    -------
    dict of str to int
        Worker address -> its peak resident set size, bytes.
    """
    return client.run(_peak_rss_bytes)


# -- the run -----------------------------------------------------------------------------------

def previous_results(dest: Dest, version: str, cfg_id: str
                     ) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    """From the test rows already written: {recording: checksum} of those done by this
    version and these settings, and {recording: (athlete, date)} of every one.

    Parameters
    ----------
    dest : Dest
        The batch's outputs.
    version : str
        The current :func:`~stepdown.batch.version.analysis_version`.
    cfg_id : str
        The current settings' :func:`~stepdown.batch.version.config_id`.

    Returns
    -------
    done : dict of str to str
        Recording -> checksum of the bytes analysed by ``version`` with ``cfg_id``.
    where : dict of str to tuple of (str, str)
        Recording -> the (athlete, date) partition of its rows, for every recording written.
    """
    table = dest.read_tests()
    if table is None:
        return {}, {}
    cols = table.select(["recording", "checksum", "analysis_version", "config_id",
                         "athlete", "date"]).to_pylist()
    done = {r["recording"]: r["checksum"] for r in cols
            if r["analysis_version"] == version and r["config_id"] == cfg_id}
    where = {r["recording"]: (str(r["athlete"]), str(r["date"])) for r in cols}
    return done, where


def analyze_chunk(jobs: list[Job]) -> list[Outcome]:
    """Several recordings in one Dask task (see :func:`chunk_size`).

    Parameters
    ----------
    jobs : list of Job
        The recordings of the task.

    Returns
    -------
    list of Outcome
        One per job, in the same order.
    """
    return [analyze_one(job) for job in jobs]


def chunk_size(n_jobs: int, n_workers: int) -> int:
    """Recordings per Dask task: up to 8, so the scheduler's few milliseconds per task are
    spread over several ~0.1 s analyses, while every worker still gets >= 4 tasks to balance.

    Parameters
    ----------
    n_jobs : int
        Recordings to analyse.
    n_workers : int
        Workers of the cluster.

    Returns
    -------
    int
        Recordings per task, 1 to ``MAX_CHUNK``.
    """
    return max(1, min(MAX_CHUNK, n_jobs // (4 * max(1, n_workers))))


def outcomes(jobs: list[Job], client: Any | None) -> Iterator[Outcome]:
    """The outcome of every job as its task completes: on the client's workers, or in this
    process one after the other when ``client`` is None.

    Parameters
    ----------
    jobs : list of Job
        The recordings to analyse.
    client : distributed.Client or None
        The cluster's client; None for this process.

    Yields
    ------
    Outcome
        Each job's outcome, in the order the tasks complete; the jobs of a task that could
        not run (a worker died) come back as failed.
    """
    if client is None:
        yield from map(analyze_one, jobs)
        return
    from distributed import as_completed

    size = chunk_size(len(jobs), len(client.scheduler_info()["workers"]))
    chunks = [jobs[i:i + size] for i in range(0, len(jobs), size)]
    futures = client.map(analyze_chunk, chunks, pure=False)
    chunk_of = {f.key: chunk for f, chunk in zip(futures, chunks, strict=True)}
    for future, result in as_completed(futures, with_results=True, raise_errors=False):
        if future.status == "finished":
            yield from result
        else:  # the worker died or the task could not run: listed, the rest goes on
            for job in chunk_of[future.key]:
                yield Outcome(job.recording, "failed", analysis_version=analysis_version(),
                              error=f"{type(result).__name__}: {first_line(result)}")
        future.release()


def run_batch(source: Source, dest: str, *, config: RuleConfig | None = None,
              client: Any | None = None, dest_options: dict[str, Any] | None = None,
              on_outcome: Callable[[Outcome], None] | None = None,
              on_start: Callable[[int], None] | None = None) -> BatchReport:
    """Re-analyse every recording under ``source`` not yet done; outputs under ``dest``.

    on_start(n) is called with the number of recordings found, on_outcome after each
    one (for a progress bar).

    Parameters
    ----------
    source : Source
        Where the recordings are.
    dest : str
        Folder or fsspec URL of the outputs.
    config : RuleConfig or None
        The rule settings; None for the defaults.
    client : distributed.Client or None
        The Dask client; None for a plain in-process loop.
    dest_options : dict or None
        fsspec storage options of ``dest``.
    on_outcome : callable or None
        Called with each :class:`~stepdown.batch.task.Outcome` as it comes.
    on_start : callable or None
        Called once with the number of recordings found.

    Returns
    -------
    BatchReport
        The run's counts, failures and wall time.
    """
    start = time.perf_counter()
    config = config or RuleConfig()
    version, cfg_id = analysis_version(), config_id(config)
    recordings = source.list_recordings()
    target = Dest(dest, tuple((dest_options or {}).items()))
    target.create()
    done, where = previous_results(target, version, cfg_id)
    jobs = [Job(source, rec, target, config, done.get(rec), where.get(rec)) for rec in recordings]
    report = BatchReport(total=len(jobs))
    if on_start is not None:
        on_start(len(jobs))
    failures = []
    for out in outcomes(jobs, client):
        if out.status == "ok":
            report.analysed += 1
            report.no_rep += out.no_rep
        elif out.status == "skipped":
            report.skipped += 1
        else:
            report.failures.append(out)
            failures.append({"recording": out.recording, "checksum": out.checksum,
                             "error": out.error, "analysis_version": version,
                             "config_id": cfg_id,
                             "failed_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")})
        if on_outcome is not None:
            on_outcome(out)
    target.write_failures(sorted(failures, key=lambda r: r["recording"]))
    report.failures.sort(key=lambda o: o.recording)
    report.seconds = time.perf_counter() - start
    return report

"""One recording in, its outputs written, one small :class:`Outcome` back: the unit of work
a Dask worker runs (and the plain loop, one after the other).

:func:`analyze_one` reads the recording's bytes from the source, checksums them,
skips the analysis when the same bytes were already analysed by the same analysis
version and settings, and otherwise runs the single-process analysis
(:func:`analysis.pipeline.analyze`) on them and writes its JSON document and its rows
to DEST (:class:`~stepdown.batch.tables.Dest`). It never raises for a bad recording:
the error line goes into the outcome, so one bad file never stops a batch, and a
recording that fails keeps its earlier results.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from analysis.result import AnalysisResult
from analysis.rules import RuleConfig
from sensor_io.errors import InputError, first_line
from sensor_io.json_doc import JSONDoc
from stepdown.batch.source import Source, checksum
from stepdown.batch.tables import Dest, partition_of, rep_rows, test_row
from stepdown.batch.version import analysis_version, config_id, config_json


@dataclass(frozen=True)
class Job:
    """What to analyse: a recording (path relative to the source), with which settings,
    and where its results go."""

    source: Source
    """Where the recordings are."""
    recording: str
    """The recording's path relative to the source."""
    dest: Dest
    """Where its results go."""
    config: RuleConfig = field(default_factory=RuleConfig)
    """The rule settings."""
    done_checksum: str | None = None
    """The checksum of the bytes already analysed by this analysis version and these
    settings, or None; equal bytes are skipped."""
    previous: tuple[str, str] | None = None
    """The (athlete, date) partition of the recording's earlier rows, if any."""


@dataclass
class Outcome:
    """What came of one job."""

    recording: str
    """The recording's path relative to the source."""
    status: str
    """``"ok"``, ``"skipped"`` (already done) or ``"failed"``."""
    checksum: str | None = None
    """SHA-256 of the recording's bytes; None when they could not be read."""
    analysis_version: str = ""
    """The :func:`~stepdown.batch.version.analysis_version` of the worker."""
    partition: tuple[str, str] | None = None
    """(athlete, date) of the rows written."""
    error: str | None = None
    """One line (status ``"failed"``)."""
    seconds: float = 0.0
    """Wall time on the worker, s."""
    no_rep: bool = False
    """Analysed, and no complete rep found: its test row has no category."""


def analyze_one(job: Job) -> Outcome:
    """Read, checksum and (unless already done) analyse one recording and write its
    results; never raises for bad input or an unreadable file.

    Parameters
    ----------
    job : Job
        The recording and where its results go.

    Returns
    -------
    Outcome
        ``"ok"``, ``"skipped"`` or ``"failed"`` with its error line.
    """
    start = time.perf_counter()
    out = Outcome(job.recording, "failed", analysis_version=analysis_version())
    try:
        files = job.source.read(job.recording)
        out.checksum = checksum(files)
        if out.checksum == job.done_checksum:
            out.status = "skipped"
        else:
            result, meta, effective = _analyze_bytes(files, job)
            out.partition = _write_results(job, out, result, meta, effective)
            out.status, out.no_rep = "ok", not result.reps
    except InputError as err:
        out.error = first_line(err).removeprefix(f"{job.recording}: ")
    except Exception as err:  # an unreadable file or a bug: listed, and the batch goes on
        out.error = f"{type(err).__name__}: {first_line(err)}"
    out.seconds = time.perf_counter() - start
    return out


def _analyze_bytes(files: dict[str, bytes], job: Job
                   ) -> tuple[AnalysisResult, JSONDoc, RuleConfig]:
    """(analysis, recording metadata, settings that scored it) of the recording's
    bytes, analysed through a private temporary folder; errors name the recording by its
    path in the source, not the temporary one."""
    from analysis.pipeline import analyze
    from sensor_io.recording_io import read_recording

    with tempfile.TemporaryDirectory(prefix="stepdown-batch-") as tmp:
        for name, data in files.items():
            (Path(tmp) / name).write_bytes(data)
        try:
            rec = read_recording(Path(tmp) / next(iter(files)), compact=True)
            result = analyze(rec, config=job.config)
        except InputError as err:
            folder = job.recording.rpartition("/")[0]
            raise InputError(str(err).replace(f"{tmp}/", f"{folder}/" if folder else "")) from None
    meta = {"athlete": rec.athlete.id, "started_at": rec.started_at}
    return result.result(), meta, result.config


def _write_results(job: Job, out: Outcome, result: AnalysisResult, meta: JSONDoc,
                   effective: RuleConfig) -> tuple[str, str]:
    """The JSON document and the rep and test rows of one analysed recording; returns
    the (athlete, date) partition they went to."""
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    base = {"recording": job.recording, "checksum": out.checksum,
            "analysis_version": out.analysis_version, "config_id": config_id(job.config),
            "config": config_json(effective), "analysed_at": stamp}
    partition = partition_of(meta)
    job.dest.write_json(job.recording, dict(result.to_json(), batch={
        k: base[k] for k in ("recording", "checksum", "analysis_version", "config_id",
                             "analysed_at")}))
    job.dest.write_rows("reps", partition, job.recording, rep_rows(result, base))
    job.dest.write_rows("tests", partition, job.recording,
                        [test_row(result, base, meta["started_at"])])
    if job.previous is not None and job.previous != partition:
        job.dest.remove_rows(job.previous, job.recording)
    return partition

"""One recording in, one :class:`Outcome` out: the unit of work a Dask worker runs.

:func:`analyze_one` reads the recording's bytes from the source, checksums them,
skips the analysis when the same bytes were already analysed by the same analysis
version and configuration, and otherwise runs the single-process analysis
(:func:`analysis.pipeline.analyze`) on them. It never raises for a bad recording:
the error line goes into the outcome, so one bad file never stops a batch.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis.rules import RuleConfig
from sensor_io.errors import InputError, first_line
from stepdown.batch.source import Source, checksum
from stepdown.batch.version import analysis_version


@dataclass(frozen=True)
class Job:
    """What to analyse: a recording (path relative to the source) and with which settings.

    done_checksum: the checksum of the bytes already analysed by this analysis
    version and configuration, or None; equal bytes are skipped.
    """

    source: Source
    recording: str
    config: RuleConfig = field(default_factory=RuleConfig)
    done_checksum: str | None = None


@dataclass
class Outcome:
    """What came of one job. status: "ok", "skipped" (already done) or "failed".

    doc: the analysis JSON document (status "ok"); meta: the recording's athlete id,
    start time and test leg (status "ok"); error: one line (status "failed");
    seconds: wall time on the worker.
    """

    recording: str
    status: str
    checksum: str | None = None
    analysis_version: str = ""
    doc: dict[str, Any] | None = None
    effective_config: RuleConfig | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0


def analyze_one(job: Job) -> Outcome:
    """Read, checksum and (unless already done) analyse one recording; never raises
    for bad input or an unreadable file."""
    start = time.perf_counter()
    out = Outcome(job.recording, "failed", analysis_version=analysis_version())
    try:
        files = job.source.read(job.recording)
        out.checksum = checksum(files)
        if out.checksum == job.done_checksum:
            out.status = "skipped"
        else:
            _analyze_bytes(files, job, out)
            out.status = "ok"
    except InputError as err:
        out.error = first_line(err).removeprefix(f"{job.recording}: ")
    except Exception as err:  # an unreadable file or a bug: listed, and the batch goes on
        out.error = f"{type(err).__name__}: {first_line(err)}"
    out.seconds = time.perf_counter() - start
    return out


def _analyze_bytes(files: dict[str, bytes], job: Job, out: Outcome) -> None:
    """Analyse the recording's bytes through a private temporary folder; errors name the
    recording by its path in the source, not the temporary one."""
    from analysis.pipeline import analyze
    from sensor_io.recording_io import read_recording

    with tempfile.TemporaryDirectory(prefix="stepdown-batch-") as tmp:
        for name, data in files.items():
            (Path(tmp) / name).write_bytes(data)
        local = Path(tmp) / next(iter(files))
        try:
            rec = read_recording(local)
            result = analyze(rec, config=job.config)
        except InputError as err:
            folder = job.recording.rpartition("/")[0]
            where = f"{folder}/" if folder else ""
            raise InputError(str(err).replace(f"{tmp}/", where)) from None
    out.doc = result.to_json()
    out.effective_config = result.config
    out.meta = {"athlete": rec.athlete.id, "started_at": rec.started_at,
                "test_leg": rec.test_leg}

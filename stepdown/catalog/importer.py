"""Import recordings into the catalog: read, analyse, copy into the data home, store.

Idempotent by content: the SHA-256 of the recording file (and, for a CSV twin, of
its JSON sidecar) identifies a test, so importing the same file twice changes
nothing.  Each recording is stored in one transaction; a recording that cannot be
read or analysed leaves the catalog and the data home exactly as they were.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from analysis.result import AnalysisResult
from sensor_io.errors import InputError
from sensor_io.recording import Recording
from stepdown.catalog.db import Connection
from stepdown.catalog.programme import import_set
from stepdown.catalog.recording_files import content_hash, copied_recording
from stepdown.catalog.repo import AthleteInfo, check_athlete_id, find_test_by_hash, store_test


@dataclass(frozen=True)
class ImportResult:
    """What importing one recording did."""

    path: Path
    """The file imported."""
    test_id: int
    """The test's id in the catalog (a programme set's id for a set)."""
    created: bool
    """False: the same recording was already in the catalog."""
    category: str | None = None
    """The new test's category (good/medium/poor); None when nothing was created."""
    total: int | None = None
    """The new test's checklist total, 0-8; None when nothing was created."""
    kind: str = "test"
    """Or "hold" / "heel_taps": a programme set (test_id is then its set id)."""


def _default_read(path: Path) -> Recording:
    from sensor_io.recording_io import read_recording

    return read_recording(path)


def _default_analyze(rec: Recording) -> AnalysisResult:
    from analysis.pipeline import analyze

    return analyze(rec).result()


def import_recording(
    conn: Connection,
    path: Path,
    athlete_id: str,
    recordings_dir: Path,
    *,
    read: Callable[[Path], Recording] | None = None,
    analyze: Callable[[Recording], AnalysisResult] | None = None,
) -> ImportResult:
    """Analyse one recording file and store it for ``athlete_id``.

    The file (and a CSV's sidecar) is copied to ``recordings_dir`` under its
    content hash; the catalog refers to that copy.  ``read`` and ``analyze``
    default to :func:`sensor_io.recording_io.read_recording` and
    :func:`analysis.pipeline.analyze`.

    Parameters
    ----------
    conn : Connection
        The catalog.
    path : Path
        The recording file (.parquet, or .csv with its sidecar).
    athlete_id : str
        The athlete the test belongs to.
    recordings_dir : Path
        The data home's folder of recordings.
    read : callable or None
        Reads a recording from a path; None for the default.
    analyze : callable or None
        Analyses a recording into an :class:`~analysis.result.AnalysisResult`; None for the
        default.

    Returns
    -------
    ImportResult
        The test (or set) stored, or the one already there.

    Raises
    ------
    InputError
        A file that cannot be imported, or one already stored for another athlete.
    """
    check_athlete_id(athlete_id)
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: a folder; give its recording files (.parquet or .csv)")
    if not path.is_file():
        raise InputError(f"{path}: no such recording file")
    digest = content_hash(path)
    existing = find_test_by_hash(conn, digest)
    if existing is not None:
        owner = conn.execute("SELECT athlete_id FROM tests WHERE id = ?", (existing,)).fetchone()[0]
        if owner != athlete_id:
            raise InputError(f"{path}: already in the catalog as test {existing} of athlete "
                             f"{owner}, not {athlete_id} (nothing changed)")
        return ImportResult(path, existing, False)
    rec = (read or _default_read)(path)
    if "exercise" in rec.extra:  # a programme set (issue 15): hold or heel taps
        done = import_set(conn, path, rec, athlete_id, recordings_dir, digest)
        if done is not None:
            return ImportResult(path, *done, kind=rec.extra["exercise"].get("kind", "test"))
    analysis = (analyze or _default_analyze)(rec)
    if not analysis.reps:  # every item would read 0: "good" about a test nobody did
        raise InputError(f"{path}: no complete step-down rep found, so there is no result to "
                         "review (nothing changed)")
    body = rec.athlete
    athlete = AthleteInfo(athlete_id, height_m=body.height_m, thigh_length_m=body.thigh_length_m,
                          shank_length_m=body.shank_length_m,
                          foot_medial_offset_m=body.foot_medial_offset_m)
    with copied_recording(path, digest, recordings_dir) as stored:
        test_id, created = store_test(
            conn, athlete=athlete, analysis=analysis, recording_path=str(stored),
            content_sha256=digest, started_at=rec.started_at,
            step_height_m=rec.step_height_m, pain_nrs=rec.pain_nrs,
        )
    return ImportResult(path, test_id, created, analysis.test.category, analysis.test.total)

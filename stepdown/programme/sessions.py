"""Programme sessions from files: set recordings analysed and grouped by day."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analysis.result import AnalysisResult
from sensor_io.errors import InputError
from sensor_io.recording import Recording

if TYPE_CHECKING:
    from analysis.exercises.progression import Session
    from analysis.exercises.set_result import SetResult

RECORDING_SUFFIXES = (".parquet", ".csv")


@dataclass(frozen=True)
class AnalysedFile:
    """One recording's analysis, a programme set's or a test's, and when it was started."""

    result: SetResult | AnalysisResult
    """The set's (HoldSetResult, HeelTapSetResult) or the test's analysis."""
    started_at: str | None
    """When the recording started (ISO 8601), if it says."""

    @property
    def kind(self) -> str:
        """``hold``, ``heel_taps`` or ``test``."""
        return "test" if isinstance(self.result, AnalysisResult) else self.result.kind


def _analysed(path: Path) -> tuple[Recording, Any]:
    """A recording and its analysis, a programme set's or a test's; errors name the file."""
    from analysis.exercises.dispatch import analyze_set
    from sensor_io.recording_io import read_recording

    rec = read_recording(path)
    try:
        return rec, analyze_set(rec)
    except InputError as err:
        raise InputError(f"{path}: {str(err).removeprefix(f'{path}: ')}") from None


def analyze_file(path: Path) -> AnalysedFile:
    """The analysis of one recording: a programme set's or a test's.

    Parameters
    ----------
    path : Path
        The recording.

    Returns
    -------
    AnalysedFile
        Its typed analysis and the recording's ``started_at``; InputError (one line,
        naming the file) when it cannot be analysed.
    """
    rec, analysis = _analysed(path)
    return AnalysedFile(analysis.result(), rec.started_at)


def analyze_test(path: Path) -> AnalysisResult:
    """The typed analysis of a step-down test's recording.

    Parameters
    ----------
    path : Path
        The recording.

    Returns
    -------
    AnalysisResult
        Its analysis; InputError (one line) for a programme set.
    """
    from sensor_io.exercise import exercise_of

    rec, analysis = _analysed(path)
    kind = exercise_of(rec).kind
    if kind != "test":
        raise InputError(f"{path}: a {kind} set, not a step-down test")
    return analysis.result()


def analyze_files(paths: Sequence[Path]) -> list[AnalysedFile]:
    """:func:`analyze_file` of each recording.

    Parameters
    ----------
    paths : Sequence of Path
        The recordings.

    Returns
    -------
    list of AnalysedFile
        Their analyses, in the same order.
    """
    return [analyze_file(p) for p in paths]


def _recordings_in(folder: Path) -> list[Path]:
    found = sorted(p for p in folder.iterdir() if p.suffix in RECORDING_SUFFIXES
                   and not p.name.endswith(".truth.json"))
    if not found:
        raise InputError(f"{folder}: no recordings (.parquet or .csv) in this folder")
    return found


def read_sessions(paths: Sequence[Path]) -> list[Session]:
    """Programme sessions from folders and recording files.

    Parameters
    ----------
    paths : Sequence of Path
        Folders (one session each, named by the folder or its first recording's day) and
        recording files (grouped by the day they were started).

    Returns
    -------
    list of Session
        Oldest first; tests in them are left out (the rules read programme sets).
        InputError (one line) when no programme set is among them.
    """
    from analysis.exercises.progression import Session

    by_day: dict[str, list[SetResult]] = defaultdict(list)
    sessions = []
    for path in paths:
        if path.is_dir():
            done = [f for f in analyze_files(_recordings_in(path)) if f.kind != "test"]
            day = next((f.started_at[:10] for f in done if f.started_at), path.name)
            sessions.append(Session(f"{day} ({path.name})", tuple(f.result for f in done)))
        elif path.is_file():
            found = analyze_file(path)
            if found.kind != "test":
                by_day[(found.started_at or "undated")[:10]].append(found.result)
        else:
            raise InputError(f"{path}: no such file or folder")
    sessions += [Session(day, tuple(sets)) for day, sets in by_day.items()]
    if not any(s.sets for s in sessions):
        raise InputError("no programme sets (holds or heel taps) among the recordings given")
    return sorted(sessions, key=lambda s: s.date)


def practice_label(result: SetResult | AnalysisResult) -> str:
    """What one set was, in a few words.

    Parameters
    ----------
    result : HoldSetResult or HeelTapSetResult or AnalysisResult
        The set's (or a test's) analysis.

    Returns
    -------
    str
        'heel taps x 10 (15 cm)', 'hold 3 x 30 s' or 'step-down reps x 5'.
    """
    from analysis.exercises.set_result import HeelTapSetResult, HoldSetResult

    if isinstance(result, HoldSetResult):
        tuts = [h.tut_s for h in result.holds]
        return f"hold {len(tuts)} x {sum(tuts) / max(len(tuts), 1):.0f} s"
    if isinstance(result, HeelTapSetResult):
        step = result.step_height_m
        return (f"heel taps x {len(result.taps)}"
                + (f" ({100 * step:.0f} cm)" if step else ""))
    return f"step-down reps x {len(result.reps)}"

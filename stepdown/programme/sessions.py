"""Programme sessions from files: set recordings analysed and grouped by day."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from analysis.result import AnalysisResult
from sensor_io.errors import InputError
from sensor_io.recording import Recording

RECORDING_SUFFIXES = (".parquet", ".csv")


def _analysed(path: Path) -> tuple[Recording, Any]:
    """A recording and its analysis, a programme set's or a test's; errors name the file."""
    from analysis.exercises.dispatch import analyze_set
    from sensor_io.recording_io import read_recording

    rec = read_recording(path)
    try:
        return rec, analyze_set(rec)
    except InputError as err:
        raise InputError(f"{path}: {str(err).removeprefix(f'{path}: ')}") from None


def analyze_file(path: Path) -> dict[str, Any]:
    """The analysis document of one recording: a programme set's or a test's.

    Parameters
    ----------
    path : Path
        The recording.

    Returns
    -------
    dict
        Its ``to_json`` with the recording's ``started_at``; InputError (one line, naming
        the file) when it cannot be analysed.
    """
    rec, analysis = _analysed(path)
    return analysis.to_json() | {"started_at": rec.started_at}


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


def analyze_files(paths: Sequence[Path]) -> list[dict[str, Any]]:
    """:func:`analyze_file` of each recording.

    Parameters
    ----------
    paths : Sequence of Path
        The recordings.

    Returns
    -------
    list of dict
        Their analysis documents, in the same order.
    """
    return [analyze_file(p) for p in paths]


def _recordings_in(folder: Path) -> list[Path]:
    found = sorted(p for p in folder.iterdir() if p.suffix in RECORDING_SUFFIXES
                   and not p.name.endswith(".truth.json"))
    if not found:
        raise InputError(f"{folder}: no recordings (.parquet or .csv) in this folder")
    return found


def read_sessions(paths: Sequence[Path]) -> list[Any]:
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

    by_day: dict[str, list[dict[str, Any]]] = defaultdict(list)
    sessions = []
    for path in paths:
        if path.is_dir():
            docs = [d for d in analyze_files(_recordings_in(path)) if "exercise" in d]
            day = next((d["started_at"][:10] for d in docs if d.get("started_at")), path.name)
            sessions.append(Session(f"{day} ({path.name})", tuple(docs)))
        elif path.is_file():
            doc = analyze_file(path)
            if "exercise" in doc:
                by_day[(doc.get("started_at") or "undated")[:10]].append(doc)
        else:
            raise InputError(f"{path}: no such file or folder")
    sessions += [Session(day, tuple(docs)) for day, docs in by_day.items()]
    if not any(s.sets for s in sessions):
        raise InputError("no programme sets (holds or heel taps) among the recordings given")
    return sorted(sessions, key=lambda s: s.date)


def practice_label(doc: dict[str, Any]) -> str:
    """What one set was, in a few words.

    Parameters
    ----------
    doc : dict
        The set's (or a test's) analysis document.

    Returns
    -------
    str
        'heel taps x 10 (15 cm)', 'hold 3 x 30 s' or 'step-down reps x 5'.
    """
    ex = doc.get("exercise", {"kind": "test"})
    if ex["kind"] == "hold":
        tuts = [h["tut_s"] for h in doc["holds"]]
        return f"hold {len(tuts)} x {sum(tuts) / max(len(tuts), 1):.0f} s"
    if ex["kind"] == "heel_taps":
        step = doc.get("step_height_m")
        return (f"heel taps x {len(doc['taps'])}"
                + (f" ({100 * step:.0f} cm)" if step else ""))
    return f"step-down reps x {len(doc['reps'])}"

"""The programme in the catalog: hold and heel-tap sets, prescriptions, the coach's view.

Sets come in through ``stepdown import`` like tests (:mod:`stepdown.catalog.importer`
hands a recording whose metadata names a programme exercise to :func:`store_set`),
idempotent on the recording's content hash. The coach's prescription per exercise is
append-only (the newest row is current). :func:`programme_view` gathers what the
review app shows per athlete: the prescription, the sessions done with their adherence,
weekly control and training volume (holds as time under tension, heel taps as
reps x load), and the next session's suggestions (:mod:`analysis.exercises.progression`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from stepdown.catalog.db import CatalogError, Connection, now_utc, transaction
from stepdown.catalog.recording_files import copied_recording
from stepdown.catalog.repo import AthleteInfo, check_athlete_id, ensure_athlete

if TYPE_CHECKING:
    from analysis.exercises.progression import Plan, Prescription
    from analysis.exercises.set_result import SetResult

EXERCISES = ("hold", "heel_taps")


@dataclass(frozen=True)
class SetRow:
    """One stored programme set (units: s, kg, deg, cm as named)."""

    id: int
    """The set's row id."""
    athlete_id: str
    """Whose set it is."""
    day: str
    """The day it was done, YYYY-MM-DD."""
    started_at: str | None
    """When the recording started (ISO 8601), if it says."""
    exercise: str
    """``hold`` or ``heel_taps``."""
    band: bool
    """Done with the band."""
    step_height_m: float | None
    """Step height, m (heel taps; None when not recorded)."""
    load_kg: float
    """Added load, kg."""
    n_done: int
    """Taps done, or holds done (reaching the prescribed time when one was given)."""
    n_prescribed: int | None
    """Taps or holds prescribed (None: none given)."""
    tut_s: float | None
    """Total time under tension, s (holds)."""
    volume_kg: float | None
    """Taps x added load, kg (heel taps)."""
    controlled_share: float | None
    """Share of taps with neither a knee nor a pelvis fault, 0-1."""
    knee_medial_cm: float | None
    """Median knee medial displacement over the taps, cm."""
    pelvic_drop_deg: float | None
    """Median pelvic drop over the taps, degrees."""
    pelvis_sway_deg: float | None
    """Median pelvis sway over the holds, degrees rms."""
    tremor_dps: float | None
    """Median thigh tremor over the holds, deg/s rms (6-14 Hz, above standing)."""

    @property
    def adherence(self) -> float | None:
        """Done over prescribed (holds reaching the prescribed time count for holds)."""
        return None if not self.n_prescribed else self.n_done / self.n_prescribed


def find_set_by_hash(conn: Connection, content_sha256: str) -> int | None:
    """The stored set of a recording's content.

    Parameters
    ----------
    conn : Connection
        The catalog.
    content_sha256 : str
        The recording's content hash (hex).

    Returns
    -------
    int or None
        The set's id; None when no set has that content.
    """
    row = conn.execute("SELECT id FROM programme_sets WHERE content_sha256 = ?",
                       (content_sha256,)).fetchone()
    return None if row is None else int(row[0])


def set_columns(result: SetResult) -> dict[str, Any]:
    """The summary columns of a set's analysis.

    Parameters
    ----------
    result : HoldSetResult or HeelTapSetResult
        The set's analysis.

    Returns
    -------
    dict
        Column -> value: what was done against the prescription, volume and control
        (:class:`SetRow`'s fields).
    """
    rx = result.exercise.prescription
    if result.kind == "hold":
        s = result.summary
        done = s.completed if rx.get("hold_s") else s.holds
        return {"n_done": int(done), "n_prescribed": rx.get("holds"), "tut_s": s.tut_s,
                "pelvis_sway_deg": s.pelvis_sway_deg, "tremor_dps": s.tremor_dps}
    s, c = result.summary, result.summary.control
    return {"n_done": s.taps, "n_prescribed": s.prescribed_reps, "volume_kg": s.volume_kg,
            "controlled_share": c.controlled_share, "knee_medial_cm": c.knee_medial_cm,
            "pelvic_drop_deg": c.pelvic_drop_deg}


def store_set(conn: Connection, *, athlete: AthleteInfo, result: SetResult, recording_path: str,
              content_sha256: str, started_at: str | None) -> tuple[int, bool]:
    """Store one analysed programme set in one transaction.

    Parameters
    ----------
    conn : Connection
        The catalog.
    athlete : AthleteInfo
        Whose set it is (added to the catalog when new).
    result : HoldSetResult or HeelTapSetResult
        The set's analysis (stored as its document, ``to_json``).
    recording_path : str
        Where the recording is kept.
    content_sha256 : str
        The recording's content hash (hex): a set already stored is not stored again.
    started_at : str or None
        When the recording started (ISO 8601).

    Returns
    -------
    tuple of (int, bool)
        The set's id, and whether it was stored now (False: it was already there).
    """
    ex = result.exercise
    if ex.kind not in EXERCISES:
        raise CatalogError(f"not a programme set: exercise {ex.kind!r}")
    cols = {"athlete_id": athlete.id, "started_at": started_at,
            "day": (started_at or now_utc())[:10], "imported_at": now_utc(),
            "exercise": ex.kind, "test_leg": result.test_leg, "band": int(ex.band),
            "step_height_m": result.step_height_m if result.kind == "heel_taps" else None,
            "load_kg": float(ex.load_kg),
            "recording_path": recording_path, "content_sha256": content_sha256,
            "analysis_json": json.dumps(result.to_json())} | set_columns(result)
    with transaction(conn):
        existing = find_set_by_hash(conn, content_sha256)
        if existing is not None:
            return existing, False
        ensure_athlete(conn, athlete)
        cur = conn.execute(
            f"INSERT INTO programme_sets ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
            " RETURNING id", tuple(cols.values()))
        return int(cur.fetchone()[0]), True


_COLUMNS = ", ".join(f.name for f in SetRow.__dataclass_fields__.values())


def list_sets(conn: Connection, athlete_id: str) -> list[SetRow]:
    """The athlete's programme sets.

    Parameters
    ----------
    conn : Connection
        The catalog.
    athlete_id : str
        The athlete.

    Returns
    -------
    list of SetRow
        Oldest first.
    """
    rows = conn.execute(f"SELECT {_COLUMNS} FROM programme_sets WHERE athlete_id = ?"
                        " ORDER BY day, COALESCE(started_at, imported_at), id",
                        (athlete_id,)).fetchall()
    names = list(SetRow.__dataclass_fields__)
    return [SetRow(**{k: bool(v) if k == "band" else v for k, v in zip(names, r, strict=True)})
            for r in rows]


def set_documents(conn: Connection, athlete_id: str) -> list[tuple[str, SetResult]]:
    """The analyses of the athlete's sets, as stored.

    Parameters
    ----------
    conn : Connection
        The catalog.
    athlete_id : str
        The athlete.

    Returns
    -------
    list of (str, HoldSetResult or HeelTapSetResult)
        (day YYYY-MM-DD, analysis) of each set, oldest first; SetResultError (one line)
        for a stored document that is not a set's.
    """
    from analysis.exercises.set_result import read_set_result

    rows = conn.execute("SELECT day, analysis_json FROM programme_sets WHERE athlete_id = ?"
                        " ORDER BY day, COALESCE(started_at, imported_at), id",
                        (athlete_id,)).fetchall()
    return [(r[0], read_set_result(json.loads(r[1]))) for r in rows]


def set_prescription(conn: Connection, athlete_id: str, exercise: str,
                     prescription: Prescription, author: str) -> None:
    """Record the coach's prescription of ``exercise`` for the athlete (newest is current).

    Parameters
    ----------
    conn : Connection
        The catalog.
    athlete_id : str
        The athlete (added when new).
    exercise : str
        ``hold`` or ``heel_taps``; CatalogError for another.
    prescription : Prescription
        The prescribed fields.
    author : str
        Who prescribed it (kept with the history).
    """
    check_athlete_id(athlete_id)
    if exercise not in EXERCISES:
        raise CatalogError(f"unknown programme exercise {exercise!r} (expected "
                           f"{', '.join(EXERCISES)})")
    with transaction(conn):
        ensure_athlete(conn, AthleteInfo(athlete_id))
        conn.execute("INSERT INTO programme_prescriptions (athlete_id, exercise,"
                     " prescription_json, author, created_at) VALUES (?, ?, ?, ?, ?)",
                     (athlete_id, exercise, json.dumps(prescription.to_json()), author,
                      now_utc()))


def coach_prescriptions(conn: Connection, athlete_id: str) -> dict[str, tuple[Prescription, str]]:
    """The coach's current prescription per exercise.

    Parameters
    ----------
    conn : Connection
        The catalog.
    athlete_id : str
        The athlete.

    Returns
    -------
    dict of str to (Prescription, str)
        Exercise -> (its newest prescription, the day it was made, YYYY-MM-DD); an
        exercise the coach never prescribed is missing.
    """
    from analysis.exercises.progression import Prescription

    rows = conn.execute("SELECT exercise, prescription_json, created_at FROM"
                        " programme_prescriptions WHERE athlete_id = ? ORDER BY id",
                        (athlete_id,)).fetchall()
    return {r[0]: (Prescription.from_json(json.loads(r[1]), r[0]), r[2][:10])
            for r in rows}  # later rows win


def _week(day: str) -> str:
    y, w, _ = dt.date.fromisoformat(day).isocalendar()
    return f"{y}-W{w:02d}"


def _median(values: list[float | None]) -> float | None:
    v = [x for x in values if x is not None]
    return round(float(np.median(v)), 2) if v else None


@dataclass(frozen=True)
class WeekSummary:
    """One ISO week of the programme: control (medians of the sets' medians) and volume."""

    week: str
    """The ISO week, YYYY-Www."""
    sessions: int
    """Days with a set."""
    taps: int
    """Heel taps done."""
    tap_volume_kg: float
    """Heel taps x added load, kg."""
    hold_tut_s: float
    """Holds' time under tension, s."""
    controlled_share: float | None
    """Median share of controlled taps (heel taps without the band), 0-1."""
    knee_medial_cm: float | None
    """Median knee medial displacement (heel taps without the band), cm."""
    pelvis_sway_deg: float | None
    """Median pelvis sway (holds), degrees rms."""


def weekly(sets: list[SetRow]) -> list[WeekSummary]:
    """Control and training volume per ISO week.

    Parameters
    ----------
    sets : list of SetRow
        The athlete's sets.

    Returns
    -------
    list of WeekSummary
        Per week, oldest first.
    """
    by_week: dict[str, list[SetRow]] = defaultdict(list)
    for s in sets:
        by_week[_week(s.day)].append(s)
    out = []
    for week in sorted(by_week):
        ss = by_week[week]
        taps = [s for s in ss if s.exercise == "heel_taps"]
        holds = [s for s in ss if s.exercise == "hold"]
        out.append(WeekSummary(
            week=week, sessions=len({s.day for s in ss}), taps=sum(s.n_done for s in taps),
            tap_volume_kg=round(sum(s.volume_kg or 0.0 for s in taps), 1),
            hold_tut_s=round(sum(s.tut_s or 0.0 for s in holds), 1),
            controlled_share=_median([s.controlled_share for s in taps if not s.band]),
            knee_medial_cm=_median([s.knee_medial_cm for s in taps if not s.band]),
            pelvis_sway_deg=_median([s.pelvis_sway_deg for s in holds])))
    return out


@dataclass(frozen=True)
class ProgrammeView:
    """Everything the review app shows of one athlete's programme."""

    prescription: dict[str, Prescription]
    """Exercise -> the prescription the athlete is on now."""
    coach_set: list[str]
    """The exercises the coach prescribed (sorted)."""
    sets: list[SetRow]
    """The sets done, oldest first."""
    weeks: list[WeekSummary]
    """Control and volume per ISO week, oldest first."""
    plan: Plan | None
    """The next session's plan (None without sets)."""
    programme: str
    """The programme file used."""


def programme_view(conn: Connection, athlete_id: str, programme: Any = None) -> ProgrammeView:
    """Everything the review app shows of one athlete's programme (module docstring).

    Parameters
    ----------
    conn : Connection
        The catalog.
    athlete_id : str
        The athlete.
    programme : Programme, optional
        The programme (default: the shipped one).

    Returns
    -------
    ProgrammeView
        The current prescription, the sets, the weeks and the next session's plan.
    """
    from analysis.exercises.progression import (
        Prescription,
        Session,
        current_prescription,
        load_programme,
        suggest,
    )

    programme = programme or load_programme()
    sets = list_sets(conn, athlete_id)
    by_day: dict[str, list[SetResult]] = defaultdict(list)
    for day, result in set_documents(conn, athlete_id):
        by_day[day].append(result)
    sessions = [Session(day, tuple(done)) for day, done in sorted(by_day.items())]
    coach = coach_prescriptions(conn, athlete_id)
    # the coach's prescription replaces the programme's defaults; sets done since then say
    # what was prescribed at the time; a prescription made on or after the last set's day
    # replaces what the sets say
    exercises = [*programme.prescription, *(ex for ex in coach if ex not in programme.prescription)]
    merged = {ex: programme.prescription.get(ex, Prescription()).updated(
        coach.get(ex, (Prescription(), ""))[0]) for ex in exercises}
    programme = replace(programme, prescription=merged)
    last_day = sessions[-1].date if sessions else ""
    newer = {ex: rx for ex, (rx, day) in coach.items() if day >= last_day}
    plan = suggest(programme, sessions, newer) if sessions else None
    prescription = current_prescription(programme, sessions)
    for ex, rx in newer.items():
        prescription[ex] = prescription.get(ex, Prescription()).updated(rx)
    return ProgrammeView(prescription, sorted(coach), sets, weekly(sets), plan, programme.source)


def import_set(conn: Connection, path: Any, rec: Any, athlete_id: str, recordings_dir: Any,
               digest: str) -> tuple[int, bool] | None:
    """Analyse and store a programme set recording (``stepdown import``).

    The recording is copied into the data home under its content hash, as a test's is.

    Parameters
    ----------
    conn : Connection
        The catalog.
    path : Path
        The recording's file.
    rec : Recording
        The recording, read.
    athlete_id : str
        Whose set it is.
    recordings_dir : Path
        Where the data home keeps recordings.
    digest : str
        The recording's content hash (hex).

    Returns
    -------
    tuple of (int, bool) or None
        The set's id and whether it was stored now; None for a recording that is a test.
        InputError (one line) when the same recording is another athlete's set.
    """
    from analysis.exercises.dispatch import analyze_set
    from sensor_io.errors import InputError
    from sensor_io.exercise import exercise_of

    if exercise_of(rec).kind == "test":
        return None
    existing = find_set_by_hash(conn, digest)
    if existing is not None:
        owner = conn.execute("SELECT athlete_id FROM programme_sets WHERE id = ?",
                             (existing,)).fetchone()[0]
        if owner != athlete_id:
            raise InputError(f"{path}: already in the catalog as set {existing} of athlete "
                             f"{owner}, not {athlete_id} (nothing changed)")
        return existing, False
    result = analyze_set(rec).result()
    with copied_recording(path, digest, recordings_dir) as stored:
        return store_set(conn, athlete=AthleteInfo(athlete_id, height_m=rec.athlete.height_m),
                         result=result, recording_path=str(stored), content_sha256=digest,
                         started_at=rec.started_at)

"""The training-log entry, its loads and its validation.

An entry is one session (or one marked rest day) of one athlete on one **local
calendar date**: the date on the athlete's own calendar where the session took
place. Dates carry no time zone and are never converted; a session at 23:30 in
Tokyo belongs to the Tokyo date, whatever the server's zone.

Units inside are SI (``duration_s``, ``distance_m``, ``load_kg``); minutes and
kilometres appear only at the edges (CSV, CLI). Loads of an entry:

- session-RPE load (Foster): ``rpe * duration_s / 60`` in arbitrary units (AU,
  RPE x minutes), the common currency of the metrics; unknown (NaN) when the
  RPE or the duration is missing;
- volume-load of a strength session: ``sets * reps * load_kg`` (kg);
- running distance (m) of a run.

A rest day is an entry with activity ``rest``: a day with zero load that is
*recorded*, unlike a day without entries, which is *missing*.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING

from sensor_io.errors import InputError

if TYPE_CHECKING:  # pandas loads in the functions: `stepdown --help` lists ACTIVITIES without it
    import pandas as pd

ACTIVITIES: tuple[str, ...] = ("run", "ride", "strength", "stepdown", "sport", "other", "rest")
"""Allowed activities; ``rest`` marks a rest day (recorded, zero load)."""

#: The latest UTC offset in use on Earth (Kiribati, UTC+14): no athlete's local
#: date can be later than today's date there.
LATEST_UTC_OFFSET = dt.timedelta(hours=14)


class EntryError(InputError):
    """A training-log entry that is refused; the message names the entry (row)."""


@dataclass(frozen=True)
class LoadEntry:
    """One training session or marked rest day."""

    athlete_id: str
    """The athlete's catalog id."""
    date: dt.date
    """Local calendar date of the session (see module docstring)."""
    activity: str
    """One of :data:`ACTIVITIES`."""
    duration_s: float | None = None
    """Session duration, s."""
    distance_m: float | None = None
    """Distance covered, m."""
    sets: int | None = None
    """Sets, for strength work."""
    reps: int | None = None
    """Reps per set, for strength work."""
    load_kg: float | None = None
    """External load lifted per rep, kg."""
    rpe: float | None = None
    """Session rating of perceived exertion, CR-10 scale 0-10."""
    pain_nrs: float | None = None
    """Pain during or after the session, numeric rating scale 0-10."""
    season_start: bool = False
    """The athlete's season (history) starts on this date; earlier entries do not count in
    any metric from here on."""
    notes: str = ""
    """Free text."""

    @property
    def is_rest(self) -> bool:
        """Whether this is a marked rest day."""
        return self.activity == "rest"

    @property
    def srpe_load_au(self) -> float:
        """Session-RPE load, RPE x minutes (AU); 0 for a rest day, NaN when unknown."""
        if self.is_rest:
            return 0.0
        if self.rpe is None or self.duration_s is None:
            return math.nan
        return self.rpe * self.duration_s / 60.0

    @property
    def volume_load_kg(self) -> float:
        """sets x reps x load_kg for strength; 0 for other activities; NaN when unknown."""
        if self.activity != "strength":
            return 0.0
        if self.sets is None or self.reps is None or self.load_kg is None:
            return math.nan
        return float(self.sets * self.reps * self.load_kg)

    @property
    def run_distance_m(self) -> float:
        """Distance of a run, m; 0 for other activities; NaN when unknown."""
        if self.activity != "run":
            return 0.0
        return math.nan if self.distance_m is None else float(self.distance_m)


def latest_local_date(now_utc: dt.datetime | None = None) -> dt.date:
    """The latest calendar date anywhere on Earth.

    A local date later than this is in the future for every athlete, whatever
    their time zone; a date up to this one is accepted.

    Parameters
    ----------
    now_utc : datetime.datetime, optional
        The moment (default: now).

    Returns
    -------
    datetime.date
        The latest local date at that moment.
    """
    now = now_utc or dt.datetime.now(dt.UTC)
    return (now.astimezone(dt.UTC) + LATEST_UTC_OFFSET).date()


def _check_range(value: float | None, name: str, lo: float, hi: float, unit: str = "") -> None:
    if value is None:
        return
    if not math.isfinite(value) or not lo <= value <= hi:
        raise EntryError(f"{name} {value:g}{unit} is outside {lo:g}-{hi:g}{unit}")


def _check_nonneg(value: float | None, name: str, unit: str = "") -> None:
    if value is None:
        return
    if not math.isfinite(value):
        raise EntryError(f"{name} is {value} (not a number)")
    if value < 0:
        raise EntryError(f"{name} {value:g}{unit} is negative")


def validate_entry(entry: LoadEntry, *, latest_date: dt.date | None = None,
                   where: str = "") -> LoadEntry:
    """Check one entry.

    Durations, distances and loads are refused when negative; RPE and pain outside 0-10;
    a rest day that carries a duration, RPE or distance; a session with nothing measured.

    Parameters
    ----------
    entry : LoadEntry
        The entry.
    latest_date : datetime.date, optional
        The latest acceptable local date (default :func:`latest_local_date`).
    where : str
        Prefix of the message naming the refused row (e.g. ``"log.csv row 4"``).

    Returns
    -------
    LoadEntry
        ``entry`` when it is acceptable; else :class:`EntryError` (one line) is raised.
    """
    try:
        _validate(entry, latest_date or latest_local_date())
    except EntryError as err:
        raise EntryError(f"{where}: {err}" if where else str(err)) from None
    return entry


def _validate(e: LoadEntry, latest: dt.date) -> None:
    if not e.athlete_id or not e.athlete_id.strip():
        raise EntryError("athlete id is empty")
    if e.activity not in ACTIVITIES:
        raise EntryError(f"activity {e.activity!r} is not one of {', '.join(ACTIVITIES)}")
    if e.date > latest:
        raise EntryError(f"date {e.date.isoformat()} is in the future")
    _check_nonneg(e.duration_s, "duration", " s")
    _check_nonneg(e.distance_m, "distance", " m")
    _check_nonneg(e.load_kg, "load", " kg")
    for name, n in (("sets", e.sets), ("reps", e.reps)):
        if n is not None and n < 1:
            raise EntryError(f"{name} {n} must be a whole number of 1 or more")
    _check_range(e.rpe, "RPE", 0, 10)
    _check_range(e.pain_nrs, "pain", 0, 10)
    if e.is_rest:
        if any(v for v in (e.duration_s, e.distance_m, e.rpe, e.sets, e.reps, e.load_kg)):
            raise EntryError("a rest day cannot carry a duration, distance, RPE or sets")
    elif all(v is None for v in (e.duration_s, e.distance_m, e.sets)):
        raise EntryError(f"a {e.activity} session needs a duration, a distance or sets x reps")


ENTRY_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(LoadEntry))


def entries_frame(entries: list[LoadEntry]) -> pd.DataFrame:
    """Entries as a DataFrame, one row per entry, plus the per-entry load columns.

    Parameters
    ----------
    entries : list of LoadEntry
        The entries.

    Returns
    -------
    pandas.DataFrame
        The :class:`LoadEntry` fields (``date`` as ``datetime64`` at midnight, naive: a
        local calendar date), ``rest`` (bool), ``srpe_au``, ``volume_load_kg``,
        ``run_distance_m`` (see :class:`LoadEntry`).
    """
    import pandas as pd

    if not entries:
        df = pd.DataFrame({c: pd.Series(dtype=object) for c in ENTRY_COLUMNS})
    else:
        df = pd.DataFrame([asdict(e) for e in entries], columns=list(ENTRY_COLUMNS))
    return add_entry_loads(df)


def add_entry_loads(df: pd.DataFrame) -> pd.DataFrame:
    """The per-entry load columns of an entries table (vectorised).

    Parameters
    ----------
    df : pandas.DataFrame
        Entries with the :class:`LoadEntry` fields.

    Returns
    -------
    pandas.DataFrame
        A copy with ``rest``, ``srpe_au`` (AU), ``volume_load_kg`` and ``run_distance_m``.
    """
    import pandas as pd

    out = df.copy()
    out["date"] = pd.to_datetime(out["date"]).astype("datetime64[ns]")
    for col in ("duration_s", "distance_m", "sets", "reps", "load_kg", "rpe", "pain_nrs"):
        out[col] = pd.to_numeric(out[col], errors="raise").astype(float)
    out["season_start"] = out["season_start"].fillna(False).astype(bool)
    act = out["activity"].astype(str)
    rest = act.eq("rest").to_numpy()
    out["rest"] = rest
    out["duration_s"] = out["duration_s"].where(~rest, 0.0)
    out["srpe_au"] = (out["rpe"] * out["duration_s"] / 60.0).where(~rest, 0.0)
    out["volume_load_kg"] = (out["sets"] * out["reps"] * out["load_kg"]).where(
        act.eq("strength"), 0.0)
    out["run_distance_m"] = out["distance_m"].where(act.eq("run"), 0.0)
    return out

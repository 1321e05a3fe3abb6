"""The documented CSV layout of the training log, read all-or-nothing.

Layout (UTF-8, comma-separated, one header row, one entry per row)::

    athlete,date,activity,duration_min,distance_km,sets,reps,load_kg,rpe,pain,season_start,notes
    a-017,2026-01-05,run,45,8.2,,,,6,1,,easy run
    a-017,2026-01-06,strength,40,,3,10,60,7,0,,split squats
    a-017,2026-01-07,rest,,,,,,,,,
    a-017,2026-01-12,run,30,5,,,,5,,yes,first day of the new season

- Required columns: ``athlete``, ``date`` (``YYYY-MM-DD``, the athlete's local
  calendar date), ``activity`` (run, ride, strength, stepdown, sport, other, rest).
- Optional columns, in any order; an empty cell means "not given":
  ``duration_min`` (minutes), ``distance_km`` (km), ``sets``, ``reps`` (per set),
  ``load_kg`` (per rep), ``rpe`` (session RPE 0-10), ``pain`` (NRS 0-10),
  ``season_start`` (yes/no, true/false, 1/0), ``notes``.
- Unknown columns are refused (a misspelt ``rpe`` column must not vanish).

**All or nothing**: every row is checked first; if any row is bad, the whole
file is refused with one line naming the first bad row by its line number in
the file (the header is line 1), and how many other rows are bad. Nothing is
stored from a refused file.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

from analysis.training_load.entries import EntryError, LoadEntry, latest_local_date, validate_entry
from sensor_io.errors import InputError

REQUIRED = ("athlete", "date", "activity")
OPTIONAL = ("duration_min", "distance_km", "sets", "reps", "load_kg", "rpe", "pain",
            "season_start", "notes")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_YES = {"yes": True, "true": True, "1": True, "y": True,
        "no": False, "false": False, "0": False, "n": False, "": False}


class CsvImportError(InputError):
    """A training-log CSV that is refused as a whole."""


def read_load_csv(path: Path | str, *, latest_date: dt.date | None = None) -> list[LoadEntry]:
    """Read and validate every row of a training-log CSV (layout in the module docstring).

    Parameters
    ----------
    path : Path or str
        The CSV file.
    latest_date : datetime.date, optional
        The latest acceptable local date (default
        :func:`analysis.training_load.entries.latest_local_date`).

    Returns
    -------
    list of LoadEntry
        The entries, in file order.

    Raises
    ------
    CsvImportError
        Naming the first bad row; no entry is returned then.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise CsvImportError(f"{path.name}: not UTF-8 text") from None
    reader = csv.reader(text.splitlines())
    header = [h.strip().lower() for h in next(reader, [])]
    _check_header(path.name, header)
    latest = latest_date or latest_local_date()
    entries: list[LoadEntry] = []
    errors: list[str] = []
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        try:
            entries.append(_parse_row(header, row, latest))
        except EntryError as err:
            who = f" ({row[0].strip()}, {row[1].strip()})" if len(row) > 1 else ""
            errors.append(f"{path.name} line {line}{who}: {err}")
    if errors:
        more = f"; {len(errors) - 1} more bad row{'s' if len(errors) > 2 else ''}" \
            if len(errors) > 1 else ""
        raise CsvImportError(f"{errors[0]} (file refused, nothing imported{more})")
    if not entries:
        raise CsvImportError(f"{path.name}: no entries below the header")
    return entries


def _check_header(name: str, header: list[str]) -> None:
    if not header:
        raise CsvImportError(f"{name}: empty file (expected a header row)")
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise CsvImportError(f"{name}: header lacks column {missing[0]!r} "
                             f"(required: {', '.join(REQUIRED)})")
    unknown = [c for c in header if c not in REQUIRED + OPTIONAL]
    if unknown:
        raise CsvImportError(f"{name}: unknown column {unknown[0]!r} "
                             f"(known: {', '.join(REQUIRED + OPTIONAL)})")
    dupes = sorted({c for c in header if header.count(c) > 1})
    if dupes:
        raise CsvImportError(f"{name}: column {dupes[0]!r} appears twice")


def _number(cells: dict[str, str], key: str, scale: float = 1.0) -> float | None:
    raw = cells.get(key, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise EntryError(f"{key} {raw!r} is not a number") from None
    if value < 0:  # every number of the layout is >= 0; say so in the file's own unit
        raise EntryError(f"{key} {raw} is negative")
    return value * scale


def _whole(cells: dict[str, str], key: str) -> int | None:
    value = _number(cells, key)
    if value is None:
        return None
    if not value.is_integer():
        raise EntryError(f"{key} {value:g} is not a whole number")
    return int(value)


def _parse_row(header: list[str], row: list[str], latest: dt.date) -> LoadEntry:
    if len(row) != len(header):
        raise EntryError(f"has {len(row)} fields, the header has {len(header)}")
    cells = dict(zip(header, row, strict=True))
    raw_date = cells["date"].strip()
    if not _DATE.fullmatch(raw_date):
        raise EntryError(f"date {raw_date!r} is not YYYY-MM-DD")
    try:
        date = dt.date.fromisoformat(raw_date)
    except ValueError:
        raise EntryError(f"date {raw_date!r} is not a calendar date") from None
    flag = cells.get("season_start", "").strip().lower()
    if flag not in _YES:
        raise EntryError(f"season_start {flag!r} is not yes or no")
    entry = LoadEntry(
        athlete_id=cells["athlete"].strip(),
        date=date,
        activity=cells["activity"].strip().lower(),
        duration_s=_number(cells, "duration_min", 60.0),
        distance_m=_number(cells, "distance_km", 1000.0),
        sets=_whole(cells, "sets"),
        reps=_whole(cells, "reps"),
        load_kg=_number(cells, "load_kg"),
        rpe=_number(cells, "rpe"),
        pain_nrs=_number(cells, "pain"),
        season_start=_YES[flag],
        notes=cells.get("notes", "").strip(),
    )
    return validate_entry(entry, latest_date=latest)

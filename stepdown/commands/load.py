"""`stepdown load add | import | status`: the training-volume tracker (issue 7).

Dates on the command line and in files are the athlete's local calendar dates
(YYYY-MM-DD); durations in minutes and distances in km at this edge, SI inside.
Clinic thresholds for the flags: ``$STEPDOWN_HOME/load_flags.toml`` (see
docs/load.md), else the defaults.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from analysis.training_load.entries import ACTIVITIES, LoadEntry
from analysis.training_load.flags import DEFAULT_RULES, FLAG_HELP, FlagRules, rules_from_toml
from sensor_io.errors import InputError
from stepdown.cli import app

console = Console()
load_app = typer.Typer(
    help="Training-volume tracker: log sessions, see load changes and their flags. "
         + FLAG_HELP,
    no_args_is_help=True,
)
app.add_typer(load_app, name="load")

SPARK = "▁▂▃▄▅▆▇█"
RULES_FILE = "load_flags.toml"


def _open():
    from stepdown.catalog.db import connect

    return connect()


def _date(text: str | None, what: str = "date") -> dt.date:
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{what} {text!r} is not a date (YYYY-MM-DD)") from None


def _rules() -> FlagRules:
    from stepdown.paths import data_home

    path = data_home() / RULES_FILE
    return rules_from_toml(path) if path.exists() else DEFAULT_RULES


@load_app.command("add")
def add(
    athlete: Annotated[str, typer.Argument(help="Athlete id.")],
    activity: Annotated[str, typer.Argument(help=f"One of: {', '.join(ACTIVITIES)}.")],
    date: Annotated[str | None, typer.Option(help="Local date YYYY-MM-DD [today].")] = None,
    duration_min: Annotated[float | None, typer.Option(help="Duration, minutes.")] = None,
    distance_km: Annotated[float | None, typer.Option(help="Distance, km.")] = None,
    sets: Annotated[int | None, typer.Option(help="Sets (strength).")] = None,
    reps: Annotated[int | None, typer.Option(help="Reps per set (strength).")] = None,
    load_kg: Annotated[float | None, typer.Option(help="Load per rep, kg.")] = None,
    rpe: Annotated[float | None, typer.Option(help="Session RPE, 0-10.")] = None,
    pain: Annotated[float | None, typer.Option(help="Pain, NRS 0-10.")] = None,
    season_start: Annotated[bool, typer.Option(
        "--season-start", help="A new season starts on this date.")] = False,
    notes: Annotated[str, typer.Option(help="Free text.")] = "",
) -> None:
    """Log one session (or a rest day: activity `rest`) for an athlete.\f

    Parameters
    ----------
    athlete : str
        Athlete id.
    activity : str
        One of :data:`analysis.training_load.entries.ACTIVITIES` (any case).
    date : str or None
        The athlete's local date, YYYY-MM-DD; None for today.
    duration_min : float or None
        Duration, minutes (stored in s).
    distance_km : float or None
        Distance, km (stored in m).
    sets : int or None
        Sets (strength).
    reps : int or None
        Reps per set (strength).
    load_kg : float or None
        Load per rep, kg.
    rpe : float or None
        Session RPE, 0-10.
    pain : float or None
        Pain, NRS 0-10.
    season_start : bool
        A new season starts on this date.
    notes : str
        Free text.
    """
    from stepdown.catalog.training_log import add_entries

    entry = LoadEntry(
        athlete_id=athlete, date=_date(date), activity=activity.lower(),
        duration_s=None if duration_min is None else duration_min * 60.0,
        distance_m=None if distance_km is None else distance_km * 1000.0,
        sets=sets, reps=reps, load_kg=load_kg, rpe=rpe, pain_nrs=pain,
        season_start=season_start, notes=notes,
    )
    add_entries(_open(), [entry])
    load = entry.srpe_load_au
    what = f"session load {load:.0f} AU" if math.isfinite(load) else "no session-RPE load"
    console.print(f"logged {entry.activity} for {athlete} on {entry.date.isoformat()} ({what})",
                  highlight=False)


@load_app.command("import")
def import_(
    csv_file: Annotated[Path, typer.Argument(help="Training-log CSV (layout: docs/load.md).")],
) -> None:
    """Import a training-log CSV: every row is checked first; one bad row refuses the file.\f

    Parameters
    ----------
    csv_file : Path
        Training-log CSV (layout: docs/load.md).
    """
    from analysis.training_load.csv_import import read_load_csv
    from stepdown.catalog.training_log import import_entries

    entries = read_load_csv(csv_file)
    sha = hashlib.sha256(csv_file.read_bytes()).hexdigest()
    n = import_entries(_open(), entries, file_name=csv_file.name, content_sha256=sha)
    athletes = sorted({e.athlete_id for e in entries})
    console.print(f"imported {n} entries for {len(athletes)} athlete(s) from {csv_file.name}: "
                  f"{', '.join(athletes)}", highlight=False)


def sparkline(values: list[float], rest: list[bool]) -> str:
    """One character per day: ▁..█ scaled to the highest load, `·` missing, `_` rest day.

    Parameters
    ----------
    values : list of float
        Daily load, AU (session RPE × min), oldest first; NaN for a day without a record.
    rest : list of bool
        Whether each day was logged as a rest day (same length as ``values``).

    Returns
    -------
    str
        One character per day.
    """
    top = max((v for v in values if math.isfinite(v)), default=0.0)
    out = []
    for v, r in zip(values, rest, strict=True):
        if not math.isfinite(v):
            out.append("·")
        elif r and v == 0:
            out.append("_")
        else:
            out.append(SPARK[min(len(SPARK) - 1, int(v / top * len(SPARK))) if top else 0])
    return "".join(out)


def _num(v: float, fmt: str = "{:.0f}") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return "∞" if math.isinf(v) else fmt.format(v)


def _pct(v: float) -> str:
    return _num(100 * v, "{:+.0f}%") if v == v else "–"


@load_app.command("status")
def status(
    athlete: Annotated[str, typer.Argument(help="Athlete id.")],
    as_of: Annotated[str | None, typer.Option(help="Local date YYYY-MM-DD [today].")] = None,
    days: Annotated[int, typer.Option(min=7, max=120, help="Days in the trend line.")] = 28,
) -> None:
    """Load metrics, trend and flags of one athlete on one day.\f

    Parameters
    ----------
    athlete : str
        Athlete id.
    as_of : str or None
        The athlete's local date, YYYY-MM-DD; None for today.
    days : int
        Days in the trend line (7-120).
    """
    import pandas as pd
    from rich.table import Table

    from analysis.training_load.entries import entries_frame
    from analysis.training_load.flags import load_flags
    from analysis.training_load.metrics import HISTORY_DAYS, daily_load, load_metrics
    from stepdown.catalog.training_log import list_entries, stepdown_results

    day = _date(as_of, "--as-of")
    conn = _open()
    entries = list_entries(conn, athlete, until=day)
    if not entries:
        raise InputError(f"no training-log entries for athlete {athlete!r} up to {day}")
    daily = daily_load(entries_frame(entries), as_of=day)
    m = load_metrics(daily)
    flags = load_flags(m, _rules(), stepdown_results(conn, athlete))
    today = m.iloc[-1]
    recent = flags[flags["date"] > pd.Timestamp(day) - pd.Timedelta(days=7)]

    console.print(f"[bold]{athlete}[/] · training load as of {day.isoformat()} "
                  f"(session RPE × min, AU)", highlight=False)
    tail = daily.tail(days)
    console.print(f"last {len(tail)} days  {sparkline(list(m['load'].tail(days)), list(tail['rest']))}"
                  "   (· missing, _ rest)", highlight=False)
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("", style="dim")
    table.add_row("7-day load", _num(today.sum_7d),
                  f"{today.missing_7d} missing day(s)" if today.missing_7d else "")
    table.add_row("28-day load", _num(today.sum_28d),
                  f"{today.missing_28d} missing day(s)" if today.missing_28d else "")
    note = today.ratio_note
    table.add_row("week-over-week", _pct(today.week_change), note)
    table.add_row("2-week progression", _pct(today.progression_2w), note)
    table.add_row("ACWR rolling (7 : 21)", _num(today.acwr_rolling, "{:.2f}"), note)
    table.add_row("ACWR EWMA (7 : 28)", _num(today.acwr_ewma, "{:.2f}"), note)
    table.add_row("chronic trend / week", _num(today.chronic_trend_7d, "{:+.1f}"), note)
    table.add_row("monotony", _num(today.monotony, "{:.2f}"),
                  "" if today.monotony == today.monotony else "needs 7 recorded days")
    table.add_row("strain", _num(today.strain), "")
    table.add_row("pain, 7-day mean", _num(today.pain_7d, "{:.1f}"), "NRS 0-10")
    console.print(table)
    if recent.empty:
        console.print("flags (last 7 days): none", highlight=False)
    else:
        console.print("flags (last 7 days):", highlight=False)
        latest = recent.sort_values("date").groupby("flag", sort=False).tail(1)
        for r in latest.itertuples(index=False):
            console.print(f"  [yellow]⚑[/] {r.date.date().isoformat()} {r.flag}: {r.reason}",
                          highlight=False)
    if today.season_day < HISTORY_DAYS - 1:
        console.print(f"ratios appear after {HISTORY_DAYS} days of history", style="dim")
    console.print(FLAG_HELP, style="dim", highlight=False)

"""Data series of the load panel in the coach web app, one athlete on one time axis.

The panel draws, per local calendar day: daily load bars (missing days as gaps,
rest days as zero bars), the acute and chronic EWMA lines (same unit as the
bars, per day), the ACWR with its band, the athlete's pain and the step-down
test totals. :func:`load_panel` returns plain lists (JSON-ready: NaN -> None,
infinite monotony -> None) so the web layer only draws.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass, field

import pandas as pd

from analysis.checklist import category
from analysis.training_load.flags import DEFAULT_RULES, FLAG_HELP, FlagRules, load_flags
from analysis.training_load.metrics import daily_load, load_metrics

LOAD_UNITS = {"srpe_au": "AU (RPE x min)", "volume_load_kg": "kg", "run_distance_m": "m",
              "duration_s": "s"}
ACWR_BAND_LOW = 0.8
"""Lower edge of the drawn ACWR band: a convention, like the upper edge (see FLAG_HELP)."""


@dataclass(frozen=True)
class LoadPanel:
    """One athlete's load panel: every list is aligned with ``dates``."""

    athlete_id: str
    """Whose panel."""
    load_unit: str
    """Unit of the loads (``AU``, ``kg``, ``m``)."""
    dates: list[str]
    """ISO local dates, one per calendar day, oldest first."""
    daily_load: list[float | None]
    """The day's load in ``load_unit``; None when the day is missing."""
    rest: list[bool]
    """True on marked rest days."""
    acute: list[float | None]
    """EWMA acute (7 d) load, ``load_unit`` per day."""
    chronic: list[float | None]
    """EWMA chronic (28 d) load, ``load_unit`` per day."""
    acwr_ewma: list[float | None]
    """EWMA acute:chronic ratio; None while hidden (see ``ratio_note``)."""
    acwr_rolling: list[float | None]
    """Rolling (7 d / 28 d) acute:chronic ratio; None while hidden."""
    acwr_band: tuple[float, float]
    """(low, high) edges of the band to shade; high is the flag threshold."""
    pain_nrs: list[float | None]
    """The day's highest pain rating (0-10), None if not rated."""
    ratio_note: list[str]
    """Why the ratios are hidden that day ("" when shown)."""
    stepdown: list[dict] = field(default_factory=list)
    """Step-down tests, ``{"date", "total", "category"}``, oldest first."""
    flags: list[dict] = field(default_factory=list)
    """Load-change flags, ``{"date", "flag", "value", "threshold", "reason"}``."""
    help: str = FLAG_HELP
    """Why flags are not injury probabilities, to show beside them."""

    def to_dict(self) -> dict:
        """The panel for the web page.

        Returns
        -------
        dict
            A JSON-serialisable dict (tuples become lists).
        """
        d = asdict(self)
        d["acwr_band"] = list(self.acwr_band)
        return d


def _clean(values) -> list[float | None]:
    return [None if v is None or not math.isfinite(v) else float(v) for v in values]


def load_panel(entries: pd.DataFrame, athlete_id: str, *, as_of: dt.date | None = None,
               days: int | None = 90, load: str = "srpe_au", rules: FlagRules = DEFAULT_RULES,
               stepdown: pd.DataFrame | None = None) -> LoadPanel:
    """The panel's series for one athlete.

    Parameters
    ----------
    entries : pandas.DataFrame
        Entries frame (:func:`analysis.training_load.entries.entries_frame`); other
        athletes' rows are ignored.
    athlete_id : str
        Whose panel.
    as_of : datetime.date, optional
        Last day drawn (default the athlete's last entry).
    days : int or None
        How many days to return, ending at ``as_of`` (None: the whole log). Metrics are
        computed on the whole log first, so the first day drawn already has its full
        history.
    load : str
        Which daily load (see :data:`LOAD_UNITS`).
    rules : FlagRules
        Thresholds; the band's high edge is ``rules.acwr_max``.
    stepdown : pandas.DataFrame, optional
        Step-down tests (``athlete_id``, ``date``, ``total`` and optionally ``category``)
        to draw and to flag a worsening category.

    Returns
    -------
    LoadPanel
        The athlete's panel.
    """
    mine = entries[entries["athlete_id"] == athlete_id]
    daily = daily_load(mine, as_of=as_of)
    metrics = load_metrics(daily, load=load)
    tests = None
    if stepdown is not None:
        tests = stepdown[stepdown["athlete_id"] == athlete_id].copy()
        tests["date"] = pd.to_datetime(tests["date"]).astype("datetime64[ns]")
        if "category" not in tests:
            tests["category"] = [category(t) for t in tests["total"]]
        tests = tests.sort_values("date", kind="stable")
    flags = load_flags(metrics, rules, tests)
    if days is not None and len(daily):
        first = daily["date"].iloc[-1] - pd.Timedelta(days=days - 1)
        keep = (daily["date"] >= first).to_numpy()
        daily, metrics = daily[keep], metrics[keep]
        flags = flags[flags["date"] >= first]
        if tests is not None:
            tests = tests[tests["date"] >= first]
    return LoadPanel(
        athlete_id=athlete_id,
        load_unit=LOAD_UNITS[load],
        dates=[d.date().isoformat() for d in daily["date"]],
        daily_load=_clean(metrics["load"]),
        rest=[bool(r) for r in daily["rest"]],
        acute=_clean(metrics["ewma_acute"]),
        chronic=_clean(metrics["ewma_chronic"]),
        acwr_ewma=_clean(metrics["acwr_ewma"]),
        acwr_rolling=_clean(metrics["acwr_rolling"]),
        acwr_band=(ACWR_BAND_LOW, rules.acwr_max),
        pain_nrs=_clean(daily["pain_nrs"]),
        ratio_note=[str(n) for n in metrics["ratio_note"]],
        stepdown=[] if tests is None else [
            {"date": d.date().isoformat(), "total": int(t), "category": c}
            for d, t, c in zip(tests["date"], tests["total"], tests["category"], strict=True)],
        flags=[{"date": r.date.date().isoformat(), "flag": r.flag,
                "value": _clean([r.value])[0], "threshold": _clean([r.threshold])[0],
                "reason": r.reason} for r in flags.itertuples(index=False)],
    )

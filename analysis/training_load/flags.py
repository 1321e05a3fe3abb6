"""Load-change flags with their reasons, and the clinic-editable thresholds.

These flags mark **changes in training load**, not injury probabilities. The
evidence linking load ratios to injury is contested: the acute:chronic ratio is
mathematically coupled when the acute week sits inside the chronic window
(Lolli et al. 2019), its "sweet spot" and "danger zone" do not hold up once the
data are re-analysed with load as a continuous variable (Impellizzeri et al.
2020), and no threshold here was validated to predict injury in any athlete.
A flag says "the load changed like this; have a look", with the value and the
threshold that fired, so that a coach can judge it.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

from analysis.checklist import category
from sensor_io.errors import InputError, read_problem

if TYPE_CHECKING:  # pandas loads in the functions: `stepdown --help` shows FLAG_HELP without it
    import pandas as pd

FLAG_HELP = (
    "Flags mark jumps in training load, not injury risk: the evidence tying load ratios "
    "to injury is contested (coupled ratios, thresholds that do not replicate), so a flag "
    "is a prompt to look at the athlete's week, never a probability."
)

CATEGORY_RANK = {"good": 0, "medium": 1, "poor": 2}


@dataclass(frozen=True)
class FlagRules:
    """Thresholds of the load-change flags; defaults are conventions, editable per clinic."""

    acwr_max: float = 1.5
    """Flag an acute:chronic ratio (rolling or EWMA) above this."""
    progression_2w_max: float = 0.30
    """Flag a 7-day load more than this fraction above the 7-day load two weeks earlier
    (0.30 = +30 %)."""
    monotony_max: float = 2.0
    """Flag a weekly monotony (mean / SD) above this."""
    pain_rise_nrs: float = 1.0
    """Flag a 7-day mean pain up by at least this many NRS points on the week before while
    the 7-day load also rose."""
    stepdown_worsening: bool = True
    """Flag a step-down test whose category (good, medium, poor) is worse than the
    athlete's previous test."""


DEFAULT_RULES = FlagRules()


def rules_from_toml(path: Path) -> FlagRules:
    """Read clinic thresholds from a TOML file; keys not given keep their defaults.

    Example file::

        acwr_max = 1.3
        progression_2w_max = 0.25

    Parameters
    ----------
    path : Path
        The TOML file.

    Returns
    -------
    FlagRules
        The thresholds; InputError (one line) for bad TOML, an unknown key or a wrong type.
    """
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"{path}: not valid TOML ({err})") from None
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: cannot read the flag settings: {read_problem(err)}") from None
    known = {f.name: f.type for f in fields(FlagRules)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise InputError(f"{path}: unknown flag setting {unknown[0]!r} "
                         f"(known: {', '.join(known)})")
    for key, value in data.items():
        want_bool = key == "stepdown_worsening"
        ok = (isinstance(value, bool) if want_bool else
              isinstance(value, int | float) and not isinstance(value, bool)
              and math.isfinite(value) and value >= 0)
        if not ok:
            kind = "true or false" if want_bool else "a number >= 0"
            raise InputError(f"{path}: {key} = {value!r} must be {kind}")
    return FlagRules(**data)


FLAG_COLUMNS = ("athlete_id", "date", "flag", "value", "threshold", "reason")


def load_flags(metrics: pd.DataFrame, rules: FlagRules = DEFAULT_RULES,
               stepdown: pd.DataFrame | None = None) -> pd.DataFrame:
    """All flags raised on all athlete-days of ``metrics``.

    Parameters
    ----------
    metrics : pandas.DataFrame
        From :func:`analysis.training_load.metrics.load_metrics`.
    rules : FlagRules
        The thresholds.
    stepdown : pandas.DataFrame, optional
        Step-down test results, columns ``athlete_id``, ``date`` and ``category``
        (good/medium/poor) or ``total`` (0-8).

    Returns
    -------
    pandas.DataFrame
        :data:`FLAG_COLUMNS`, sorted by athlete, date, flag: ``flag`` is a short code
        (``acwr_rolling``, ``acwr_ewma``, ``progression_2w``, ``monotony``,
        ``pain_rising``, ``stepdown_worsening``), ``value``/``threshold`` what fired,
        ``reason`` one sentence a coach can read.
    """
    import pandas as pd

    m = metrics
    parts = [
        _flag(m, "acwr_rolling", m["acwr_rolling"] > rules.acwr_max, m["acwr_rolling"],
              rules.acwr_max, lambda r: (
                  f"rolling ACWR {r.acwr_rolling:.2f} > {rules.acwr_max:g}: last 7 days "
                  f"{r.sum_7d:.0f} vs {(r.sum_28d - r.sum_7d) / 3:.0f} per week over the "
                  "21 days before")),
        _flag(m, "acwr_ewma", m["acwr_ewma"] > rules.acwr_max, m["acwr_ewma"],
              rules.acwr_max, lambda r: (
                  f"EWMA ACWR {r.acwr_ewma:.2f} > {rules.acwr_max:g}: acute "
                  f"{r.ewma_acute:.0f}/day vs chronic {r.ewma_chronic:.0f}/day")),
        _flag(m, "progression_2w", m["progression_2w"] > rules.progression_2w_max,
              m["progression_2w"], rules.progression_2w_max, lambda r: (
                  f"7-day load up {100 * r.progression_2w:.0f}% on two weeks earlier "
                  f"(> {100 * rules.progression_2w_max:.0f}%)")),
        _flag(m, "monotony", m["monotony"] > rules.monotony_max, m["monotony"],
              rules.monotony_max, lambda r: (
                  f"monotony {r.monotony:.1f} > {rules.monotony_max:g}: little day-to-day "
                  f"variation (strain {r.strain:.0f})")),
        _flag(m, "pain_rising",
              (m["pain_change_7d"] >= rules.pain_rise_nrs) & (m["week_change"] > 0),
              m["pain_change_7d"], rules.pain_rise_nrs, lambda r: (
                  f"pain up {r.pain_change_7d:.1f} points (7-day mean {r.pain_7d:.1f}) "
                  f"while the 7-day load rose {100 * r.week_change:.0f}%")),
    ]
    if stepdown is not None and rules.stepdown_worsening:
        parts.append(_stepdown_worsening(stepdown))
    flags = pd.concat([p for p in parts if not p.empty] or [_empty_flags()],
                      ignore_index=True)
    return flags.sort_values(["athlete_id", "date", "flag"], ignore_index=True)


def _empty_flags() -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame({c: pd.Series(dtype=object) for c in FLAG_COLUMNS})


def _flag(m: pd.DataFrame, code: str, mask: pd.Series, value: pd.Series, threshold: float,
          reason) -> pd.DataFrame:
    import pandas as pd

    hit = m[mask.fillna(False).to_numpy(dtype=bool)]
    if hit.empty:
        return _empty_flags()
    return pd.DataFrame({
        "athlete_id": hit["athlete_id"].to_numpy(),
        "date": hit["date"].to_numpy(),
        "flag": code,
        "value": value[hit.index].to_numpy(dtype=float),
        "threshold": float(threshold),
        "reason": [reason(r) for r in hit.itertuples(index=False)],
    })


def _stepdown_worsening(tests: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    t = tests.copy()
    if "category" not in t:
        t["category"] = [category(x) for x in t["total"]]
    t["date"] = pd.to_datetime(t["date"]).astype("datetime64[ns]")
    t = t.sort_values(["athlete_id", "date"], kind="stable")
    rank = t["category"].map(CATEGORY_RANK)
    prev_rank = rank.groupby(t["athlete_id"]).shift(1)
    prev_cat = t["category"].groupby(t["athlete_id"]).shift(1)
    hit = (rank > prev_rank).to_numpy()
    if not hit.any():
        return _empty_flags()
    sel = t[hit]
    return pd.DataFrame({
        "athlete_id": sel["athlete_id"].to_numpy(),
        "date": sel["date"].to_numpy(),
        "flag": "stepdown_worsening",
        "value": rank[hit].to_numpy(dtype=float),
        "threshold": math.nan,
        "reason": [f"step-down test {c} (was {p})"
                   for c, p in zip(sel["category"], prev_cat[hit], strict=True)],
    })


FLAG_NAMES = {
    "acwr_rolling": "rolling ACWR", "acwr_ewma": "EWMA ACWR",
    "progression_2w": "7-day load vs two weeks earlier", "monotony": "monotony",
    "pain_rising": "pain rising with load", "stepdown_worsening": "step-down test worse",
}
EPISODE_COLUMNS = ("athlete_id", "flag", "start", "end", "days", "peak", "peak_date",
                   "threshold", "peak_reason")


def flag_episodes(flags: pd.DataFrame) -> pd.DataFrame:
    """Consecutive days of the same flag merged into one episode, with its span and peak.

    Parameters
    ----------
    flags : pandas.DataFrame
        From :func:`load_flags` (:data:`FLAG_COLUMNS`; ``date`` day resolution).

    Returns
    -------
    pandas.DataFrame
        :data:`EPISODE_COLUMNS`, newest episode first per athlete: ``start``/``end`` the
        first and last flagged day (inclusive), ``days`` how many days were flagged,
        ``peak`` the highest ``value`` on ``peak_date`` (the earliest such day) and
        ``peak_reason`` that day's reason.  A day without the flag ends the episode.
    """
    import numpy as np
    import pandas as pd

    if flags.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in EPISODE_COLUMNS})
    f = flags.assign(date=pd.to_datetime(flags["date"]).astype("datetime64[ns]"))
    f = f.sort_values(["athlete_id", "flag", "date"], kind="stable", ignore_index=True)
    same = (f["athlete_id"].eq(f["athlete_id"].shift()) & f["flag"].eq(f["flag"].shift())
            & (f["date"] - f["date"].shift()).eq(pd.Timedelta(days=1)))
    f["episode"] = (~same).cumsum()
    groups = f.groupby("episode", sort=False)
    ranked = f["value"].astype(float).fillna(-np.inf)  # a value not given (None) never peaks
    peak_at = ranked.groupby(f["episode"], sort=False).idxmax()
    peaks = f.loc[peak_at.to_numpy()].set_index("episode")
    out = pd.DataFrame({
        "athlete_id": groups["athlete_id"].first(),
        "flag": groups["flag"].first(),
        "start": groups["date"].min(),
        "end": groups["date"].max(),
        "days": groups.size(),
        "peak": peaks["value"],
        "peak_date": peaks["date"],
        "threshold": groups["threshold"].first(),
        "peak_reason": peaks["reason"],
    })
    return out.sort_values(["athlete_id", "end", "flag"], ascending=[True, False, True],
                           ignore_index=True)


def episode_text(ep) -> str:
    """One line for an episode: name, threshold, span and peak.

    Parameters
    ----------
    ep : namedtuple
        A row of :func:`flag_episodes` (``itertuples``).

    Returns
    -------
    str
        E.g. ``rolling ACWR > 1.5 from 2026-11-22 to 2026-12-05 (14 days), peak 2.44 on
        2026-11-30``.
    """
    name = FLAG_NAMES.get(ep.flag, ep.flag)
    if ep.flag == "stepdown_worsening":
        return f"{ep.peak_reason} on {ep.start:%Y-%m-%d}"
    limit = (f" > {100 * ep.threshold:.0f}%" if ep.flag == "progression_2w"
             else f" > {ep.threshold:g}" if ep.flag != "pain_rising" else "")
    peak = (f"{100 * ep.peak:.0f}%" if ep.flag == "progression_2w"
            else f"+{ep.peak:.1f} NRS" if ep.flag == "pain_rising"
            else f"{ep.peak:.2f}" if math.isfinite(ep.peak)
            # infinite monotony (the load did not vary), given as None by the panel
            else "no day-to-day variation" if ep.flag == "monotony" else "not computed")
    if ep.days == 1:
        return f"{name}{limit} on {ep.start:%Y-%m-%d}, {peak}"
    return (f"{name}{limit} from {ep.start:%Y-%m-%d} to {ep.end:%Y-%m-%d} ({ep.days} days), "
            f"peak {peak} on {ep.peak_date:%Y-%m-%d}")

"""Load-change flags: what fires, with which value, threshold and reason; clinic rules."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from analysis.training_load.entries import LoadEntry, entries_frame
from analysis.training_load.flags import FLAG_HELP, FlagRules, load_flags, rules_from_toml
from analysis.training_load.metrics import daily_load, load_metrics
from sensor_io.errors import InputError

D0 = dt.date(2026, 1, 5)


def metrics_for(loads: list[float], pains: list[float] | None = None) -> pd.DataFrame:
    entries = []
    for i, x in enumerate(loads):
        pain = None if pains is None else pains[i]
        d = D0 + dt.timedelta(days=i)
        entries.append(LoadEntry("a", d, "rest", pain_nrs=pain) if x == 0 else
                       LoadEntry("a", d, "run", duration_s=x / 5 * 60, rpe=5, pain_nrs=pain))
    return load_metrics(daily_load(entries_frame(entries)))


def varied(week_total: float) -> list[float]:
    """A week whose monotony is low (mean / SD < 1): loads vary from day to day."""
    return [week_total * f for f in (0.3, 0.0, 0.2, 0.1, 0.0, 0.4, 0.0)]


def test_a_load_jump_raises_acwr_and_progression_flags_with_reasons():
    m = metrics_for(varied(700) * 4 + varied(1400))
    flags = load_flags(m)
    last = flags[flags.date == pd.Timestamp(D0 + dt.timedelta(days=34))].set_index("flag")
    assert set(last.index) >= {"acwr_rolling", "progression_2w"}
    assert last.loc["acwr_rolling", "value"] == pytest.approx(2.0)
    assert last.loc["acwr_rolling", "threshold"] == 1.5
    assert last.loc["acwr_rolling", "reason"] == (
        "rolling ACWR 2.00 > 1.5: last 7 days 1400 vs 700 per week over the 21 days before")
    assert last.loc["progression_2w", "reason"] == (
        "7-day load up 100% on two weeks earlier (> 30%)")
    assert "monotony" not in set(flags.flag)


def test_steady_load_raises_nothing_and_history_hides_ratio_flags():
    assert load_flags(metrics_for(varied(700) * 5)).empty
    # a jump inside the first 28 days is not flagged: the ratios are hidden
    early = load_flags(metrics_for(varied(300) + varied(1200) + varied(1200)))
    assert not early.flag.isin(["acwr_rolling", "acwr_ewma", "progression_2w"]).any()


def test_monotony_flag():
    m = metrics_for([100, 110, 90, 100, 105, 95, 100])  # mean 100, SD ~6.5
    flags = load_flags(m)
    assert flags.flag.tolist() == ["monotony"]
    assert flags.value.iloc[0] == pytest.approx(m.monotony.iloc[6]) and flags.value.iloc[0] > 10
    assert flags.reason.iloc[0].startswith("monotony 15.")
    assert load_flags(m, FlagRules(monotony_max=20)).empty


def test_pain_rising_while_load_rises():
    loads = varied(700) * 4 + varied(900)
    pains = [1.0] * 28 + [3.0] * 7
    flags = load_flags(metrics_for(loads, pains))
    pain = flags[flags.flag == "pain_rising"]
    # 7-day mean pain: day 30 (4x1 + 3x3)/7 = 1.86 (+0.86), day 31 (3x1 + 4x3)/7 = 2.14 (+1.14)
    assert pain.date.min() == pd.Timestamp(D0 + dt.timedelta(days=31))
    assert pain.reason.iloc[-1] == "pain up 2.0 points (7-day mean 3.0) while the 7-day load rose 29%"
    # same pain rise with a falling load: no flag
    calm = load_flags(metrics_for(varied(700) * 4 + varied(500), pains))
    assert "pain_rising" not in set(calm.flag)


def test_stepdown_category_worsening():
    tests = pd.DataFrame({"athlete_id": ["a", "a", "a", "b"],
                          "date": ["2026-01-01", "2026-01-15", "2026-02-01", "2026-01-01"],
                          "total": [1, 4, 2, 5]})
    flags = load_flags(metrics_for([100.0]), stepdown=tests)
    assert flags.flag.tolist() == ["stepdown_worsening"]
    assert flags.reason.iloc[0] == "step-down test poor (was good)"
    assert flags.date.iloc[0] == pd.Timestamp("2026-01-15")
    assert load_flags(metrics_for([100.0]), FlagRules(stepdown_worsening=False), tests).empty


def test_clinic_rules_from_toml(tmp_path):
    path = tmp_path / "load_flags.toml"
    path.write_text("acwr_max = 1.3\nstepdown_worsening = false\n")
    assert rules_from_toml(path) == FlagRules(acwr_max=1.3, stepdown_worsening=False)
    path.write_text("acwr_maximum = 1.3\n")
    with pytest.raises(InputError, match="unknown flag setting 'acwr_maximum'"):
        rules_from_toml(path)
    path.write_text("acwr_max = 'high'\n")
    with pytest.raises(InputError, match="acwr_max = 'high' must be a number >= 0"):
        rules_from_toml(path)
    path.write_text("acwr_max = \n")
    with pytest.raises(InputError, match="not valid TOML"):
        rules_from_toml(path)
    path.write_bytes(b"acwr_max = 1.3\n\xb5\xff")  # not UTF-8: a stray binary file
    with pytest.raises(InputError, match="cannot read the flag settings: not a text file"):
        rules_from_toml(path)


def test_help_says_flags_are_not_injury_probabilities():
    assert "not injury risk" in FLAG_HELP and "never a probability" in FLAG_HELP

"""Training-log entries: loads per entry, validation messages, local dates."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from analysis.training_load.entries import EntryError, LoadEntry, latest_local_date, validate_entry

D = dt.date(2026, 3, 1)
LATEST = dt.date(2026, 3, 1)


def test_loads_of_an_entry():
    run = LoadEntry("a", D, "run", duration_s=45 * 60, distance_m=8000, rpe=6)
    assert run.srpe_load_au == 270  # Foster: RPE x minutes
    assert run.run_distance_m == 8000 and run.volume_load_kg == 0
    lift = LoadEntry("a", D, "strength", duration_s=1800, sets=3, reps=10, load_kg=60, rpe=7)
    assert lift.volume_load_kg == 1800 and lift.srpe_load_au == 210
    assert LoadEntry("a", D, "rest").srpe_load_au == 0
    assert math.isnan(LoadEntry("a", D, "ride", duration_s=3600).srpe_load_au)


@pytest.mark.parametrize(("entry", "message"), [
    (LoadEntry("a", D, "run", duration_s=-600, rpe=5), "duration -600 s is negative"),
    (LoadEntry("a", D, "run", duration_s=600, rpe=14), "RPE 14 is outside 0-10"),
    (LoadEntry("a", D, "run", duration_s=600, pain_nrs=11), "pain 11 is outside 0-10"),
    (LoadEntry("a", D + dt.timedelta(1), "run", duration_s=600), "date 2026-03-02 is in the future"),
    (LoadEntry("a", D, "swim", duration_s=600), "activity 'swim' is not one of"),
    (LoadEntry("a", D, "rest", duration_s=600), "a rest day cannot carry"),
    (LoadEntry("a", D, "run"), "needs a duration, a distance or sets"),
    (LoadEntry("a", D, "strength", sets=0, reps=5, load_kg=20), "sets 0 must be"),
    (LoadEntry("a", D, "run", duration_s=math.nan), "duration is nan"),
    (LoadEntry(" ", D, "rest"), "athlete id is empty"),
])
def test_bad_entries_are_refused_with_a_message_naming_the_row(entry, message):
    with pytest.raises(EntryError) as err:
        validate_entry(entry, latest_date=LATEST, where="log.csv line 7")
    assert str(err.value).startswith("log.csv line 7: ")
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_a_good_entry_passes_unchanged():
    e = LoadEntry("a", D, "run", duration_s=600, rpe=4, pain_nrs=0)
    assert validate_entry(e, latest_date=LATEST) is e


def test_future_means_later_than_the_latest_date_on_earth():
    # 11:00 UTC is already 01:00 the next day at UTC+14: that date is someone's today.
    assert latest_local_date(dt.datetime(2026, 3, 1, 11, 0, tzinfo=dt.UTC)) == dt.date(2026, 3, 2)
    assert latest_local_date(dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)) == dt.date(2026, 3, 1)
    tokyo = dt.timezone(dt.timedelta(hours=9))
    assert latest_local_date(dt.datetime(2026, 3, 1, 20, 0, tzinfo=tokyo)) == dt.date(2026, 3, 2)

"""Cue selection (issue 13): the one thing to fix per rep, and a distinct sound per cue."""

import pytest

from stepdown.athlete.cues import (
    FIX_ORDER,
    TONES,
    rep_cue,
    sensor_lost_cue,
    set_end_cue,
    set_start_cue,
    thing_to_fix,
)

CLEAN = {"arm": 0, "trunk": 0, "pelvis": 0, "knee": 0, "descent": 0, "pain": 0}


def test_a_rep_without_faults_is_good():
    cue = rep_cue({"index": 2, "total": 0, "items": CLEAN})
    assert (cue.kind, cue.text, cue.words) == ("good", "rep 2: good", "2, good")


def test_pain_alone_is_not_a_thing_to_fix():
    assert rep_cue({"index": 1, "total": 1, "items": {**CLEAN, "pain": 1}}).kind == "good"


@pytest.mark.parametrize("items, expected", [
    ({"pelvis": 1}, "pelvis"),
    ({"knee": 1, "pelvis": 1}, "knee"),               # tie: the knee comes first
    ({"pelvis": 1, "trunk": 1, "arm": 1}, "pelvis"),
    ({"knee": 2, "pelvis": 1}, "knee"),               # more points wins
    ({"trunk": 1, "descent": 1}, "trunk"),
    ({"descent": 1, "knee": None}, "descent"),        # not assessed counts as no fault
])
def test_the_fault_with_most_points_is_the_thing_to_fix(items, expected):
    assert thing_to_fix({**CLEAN, **items}) == expected
    cue = rep_cue({"index": 4, "total": 3, "items": {**CLEAN, **items}})
    assert cue.kind == expected and cue.text.startswith("rep 4: ")


def test_every_cue_kind_sounds_different():
    kinds = ["good", *FIX_ORDER, "set_start", "set_end", "sensor_lost", "bends"]
    assert set(TONES) == set(kinds)
    patterns = [TONES[k] for k in kinds]
    assert len(set(patterns)) == len(patterns)
    assert all(0 < d <= 0.4 for p in patterns for _, d in p)  # short: a cue, not a tune
    assert all(sum(d for _, d in p) < 0.8 for p in patterns)


def test_set_and_sensor_cues():
    assert set_start_cue(2).text == "set 2: go"
    assert set_end_cue(2, 5).text == "set 2 done: 5 reps"
    lost = sensor_lost_cue("thigh_left")
    assert lost.kind == "sensor_lost" and "thigh left" in lost.words


def test_a_corrected_rep_says_so_in_words_and_text():
    from stepdown.athlete.cues import corrected_cue

    cue = corrected_cue({"index": 4, "items": {"pelvis": 1}})
    assert (cue.kind, cue.text, cue.words) == ("pelvis", "rep 4 corrected: hips level",
                                               "correction, hips level")

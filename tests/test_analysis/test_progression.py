"""Progression rules as data: the shipped programme, a coach's edits, and suggestions that
say which rule fired on which numbers."""

from __future__ import annotations

import json

import pytest

from analysis.exercises.progression import (
    DEFAULT_PROGRAMME,
    Prescription,
    Session,
    load_programme,
    session_measures,
    suggest,
)
from analysis.exercises.set_result import (
    HeelTapSetResult,
    HoldEntry,
    HoldSetResult,
    HoldSummary,
    StatedUncertainty,
    TapControl,
    TapEntry,
    TapSummary,
)
from analysis.result import Rep, RepMeasures
from sensor_io.errors import InputError
from sensor_io.exercise import ExerciseSet


def taps_doc(controlled: list[bool], step_cm: float = 15, band: bool = False,
             load_kg: float = 0.0, knee: float = 1.0, reps: int | None = None
             ) -> HeelTapSetResult:
    """A heel-tap set's analysis with what the rules read (times and summary left at 0)."""
    names = ("knee_medial_cm", "pelvic_drop_deg", "hip_adduction_deg", "hip_internal_rotation_deg")
    taps = tuple(TapEntry(Rep(i, 0.0, None, 1.0, RepMeasures(
        knee_medial_cm=knee + (0 if c else 2.0), pelvic_drop_deg=3.0, hip_adduction_deg=5.0,
        names=names), {}, 0), 0.0, 0.0, 0.0, 0.0, c) for i, c in enumerate(controlled, 1))
    summary = TapSummary(len(taps), reps, None, 0.0, 0.0, TapControl(None, None, None))
    return HeelTapSetResult(
        ExerciseSet("heel_taps", band, load_kg, {"reps": reps or len(controlled)}), "left",
        step_cm / 100, {}, taps, summary,
        StatedUncertainty({"knee_medial_cm": 0.6, "hip_adduction_deg": 2.0}, "test"))


def hold_doc(tuts: list[float], sway: float, hold_s=(30, 45), holds: int = 5) -> HoldSetResult:
    """A hold set's analysis with what the rules read (times and summary left at 0)."""
    entries = tuple(HoldEntry(i, 0.0, t, t, 0.0, sway, 2.0, 0.0, t >= hold_s[0])
                    for i, t in enumerate(tuts, 1))
    return HoldSetResult(
        ExerciseSet("hold", False, 0.0, {"holds": holds, "hold_s": list(hold_s)}), "left", {},
        entries, HoldSummary(len(tuts), 0.0, holds, tuple(hold_s), None, None, None), {},
        StatedUncertainty({}, "test"))


GOOD = [True] * 9 + [False]       # 90 % controlled
MIXED = [True] * 6 + [False] * 4  # 60 %
POOR = [True] * 3 + [False] * 7   # 30 %


def test_the_shipped_programme_loads_and_every_rule_has_its_rationale():
    p = load_programme()
    assert p.source == str(DEFAULT_PROGRAMME)
    assert {r.id for r in p.rules} >= {"taps-lower-step", "taps-wean-band", "hold-longer"}
    assert all(len(r.rationale) > 40 for r in p.rules)
    assert p.prescription["hold"].hold_s == (30, 45)


def test_three_good_sessions_raise_the_step_and_say_why():
    sessions = [Session(f"2026-11-0{d}", (taps_doc(GOOD),)) for d in (2, 4, 6)]
    plan = suggest(load_programme(), sessions)
    (s,) = plan.suggestions
    assert (s.rule, s.field, s.before, s.after) == ("taps-higher-step", "step_cm", 15.0, 20.0)
    assert "controlled_share 0.9, 0.9, 0.9 >= 0.8" in s.because
    assert "2026-11-02, 2026-11-04, 2026-11-06" in s.because
    assert plan.prescription["heel_taps"].step_cm == 20.0
    assert "step_cm 15 -> 20" in s.text()


def test_two_good_sessions_are_not_enough_and_the_plan_says_so():
    plan = suggest(load_programme(), [Session("2026-11-02", (taps_doc(GOOD),)),
                                      Session("2026-11-04", (taps_doc(GOOD),))])
    assert plan.suggestions == ()
    why = {c.rule: c.why for c in plan.checked}
    assert why["taps-higher-step"] == "needs 3 session(s) with heel_taps (band off), has 2"
    assert not any(c.fired for c in plan.checked)


def test_rule_verdicts_are_typed_and_their_json_is_the_plans():
    from analysis.exercises.progression import RuleVerdict

    sessions = [Session(d, (taps_doc(GOOD),)) for d in ("2026-11-02", "2026-11-04", "2026-11-06")]
    plan = suggest(load_programme(), sessions)
    doc = json.loads(json.dumps(plan.to_json()))
    fired = [c for c in plan.checked if c.fired]
    assert [c.rule for c in fired] == ["taps-higher-step"] and fired[0].why == \
        plan.suggestions[0].because
    # today's document (rule, fired, why, in that order) reads back and writes the same bytes
    back = tuple(RuleVerdict.from_json(c) for c in doc["rules_checked"])
    assert back == plan.checked
    assert json.dumps([c.to_json() for c in back]) == json.dumps(doc["rules_checked"])
    written_before = '{"rule": "hold-longer", "fired": false, "why": "needs 2 session(s) with hold, has 0"}'
    assert json.dumps(RuleVerdict.from_json(json.loads(written_before)).to_json()) == written_before
    assert json.loads(written_before) in doc["rules_checked"]
    with pytest.raises(InputError, match="a rule verdict is"):
        RuleVerdict.from_json({"rule": "x", "fired": "yes", "why": ""})


def test_poor_control_lowers_the_step_mixed_adds_practice():
    plan = suggest(load_programme(), [Session("2026-11-02", (taps_doc(POOR),))])
    assert [(s.rule, s.after) for s in plan.suggestions] == [("taps-lower-step", 10.0)]
    plan = suggest(load_programme(), [Session("2026-11-02", (taps_doc(MIXED, reps=10),))])
    assert [(s.rule, s.field, s.after) for s in plan.suggestions] == [
        ("taps-practise-more", "reps", 15)]


def test_at_the_lowest_step_poor_control_twice_adds_the_band():
    sessions = [Session(d, (taps_doc(POOR, step_cm=10),)) for d in ("2026-11-02", "2026-11-04")]
    plan = suggest(load_programme(), sessions)
    fired = {s.rule: s for s in plan.suggestions}
    assert "taps-lower-step" not in fired  # already at the 10 cm limit
    assert (fired["taps-add-band"].before, fired["taps-add-band"].after) == (False, True)


def test_the_band_is_weaned_when_no_band_control_matches():
    same = Session("2026-11-02", (taps_doc(GOOD, band=True), taps_doc(GOOD, band=False)))
    m = session_measures(same.sets, "heel_taps")
    assert m["band_matched"] == 1.0
    plan = suggest(load_programme(), [same])
    assert any(s.rule == "taps-wean-band" and s.after is False for s in plan.suggestions)
    # the knee goes 3 cm further in without the band: beyond the 0.85 cm uncertainty
    worse = Session("2026-11-02", (taps_doc(GOOD, band=True),
                                   taps_doc(GOOD, band=False, knee=4.0)))
    assert session_measures(worse.sets, "heel_taps")["band_matched"] == 0.0
    assert not any(s.rule == "taps-wean-band" for s in suggest(load_programme(), [worse]).suggestions)


def test_holds_get_longer_when_all_are_completed_steadily_and_shorter_when_not():
    steady = [Session(d, (hold_doc([46, 47, 45, 48, 46], sway=0.6),))
              for d in ("2026-11-02", "2026-11-04")]
    (s,) = suggest(load_programme(), steady).suggestions
    assert (s.rule, s.before, s.after) == ("hold-longer", (30, 45), (35, 50))
    short = [Session("2026-11-02", (hold_doc([31, 20, 18, 25, 12], sway=0.6),))]
    (s,) = suggest(load_programme(), short).suggestions
    assert (s.rule, s.after) == ("hold-shorter", (25, 40))
    assert "completed_share 0.2 < 0.6" in s.because


def test_a_coach_edited_programme_changes_the_outcome(tmp_path):
    text = DEFAULT_PROGRAMME.read_text().replace(
        'id = "taps-higher-step"\nexercise = "heel_taps"\nsessions = 3',
        'id = "taps-higher-step"\nexercise = "heel_taps"\nsessions = 1')
    path = tmp_path / "coach.toml"
    path.write_text(text)
    plan = suggest(load_programme(path), [Session("2026-11-02", (taps_doc(GOOD),))])
    assert [s.rule for s in plan.suggestions] == ["taps-higher-step"]


@pytest.mark.parametrize("edit, message", [
    (('op = "<"', 'op = "<<"'), "unknown operator '<<'"),
    (('measure = "controlled_share"', 'measure = "happiness"'), "unknown measure 'happiness'"),
    (('field = "step_cm"', 'field = "colour"'), "cannot change 'colour'"),
    (("[prescription.hold]", "[prescription.plank]"), "prescription.plank: unknown exercise"),
    (("[[rules]]", "[[rules]"), "not valid TOML"),
    (("reps = 10", 'reps = "ten"'), "prescription.heel_taps.reps must be a whole number"),
])
def test_a_broken_programme_is_one_line_naming_the_file(tmp_path, edit, message):
    path = tmp_path / "bad.toml"
    path.write_text(DEFAULT_PROGRAMME.read_text().replace(*edit, 1))
    with pytest.raises(InputError, match=message) as err:
        load_programme(path)
    assert str(err.value).startswith(str(path)) and "\n" not in str(err.value)


def test_prescriptions_are_typed_and_the_plan_json_is_as_written_before():
    sessions = [Session("2026-11-02", (taps_doc(GOOD), hold_doc([46, 47, 48, 46, 47], 0.2))),
                Session("2026-11-04", (taps_doc(GOOD), hold_doc([46, 47, 48, 46, 47], 0.2))),
                Session("2026-11-06", (taps_doc(GOOD, band=True), taps_doc(MIXED)))]
    plan = suggest(load_programme(), sessions, {"hold": Prescription(sets=2)})
    assert plan.prescription["hold"] == Prescription(sets=2, holds=5, hold_s=(35.0, 50.0))
    doc = plan.to_json()
    # the bytes `programme next --json` wrote before the prescription was typed
    assert json.dumps(doc["next_prescription"]) == (
        '{"heel_taps": {"sets": 3, "reps": 15, "step_cm": 15.0, "load_kg": 0.0, "band": false}, '
        '"hold": {"sets": 2, "holds": 5, "hold_s": [35.0, 50.0]}}')
    assert json.dumps([[s["from"], s["to"]] for s in doc["suggestions"]]) == \
        '[[10, 15], [true, false], [[30, 45], [35.0, 50.0]]]'
    for ex, rx in json.loads(json.dumps(doc["next_prescription"])).items():  # round trip
        back = Prescription.from_json(rx, ex)
        assert back == plan.prescription[ex] and json.dumps(back.to_json()) == json.dumps(rx)


def test_a_prescription_as_stored_before_reads_and_a_wrong_one_is_refused():
    stored = '{"sets": 2, "hold_s": [30.0, 45.0], "holds": 4}'  # a coach's, in typed order
    rx = Prescription.from_json(json.loads(stored), "hold")
    assert (rx.sets, rx.holds, rx.hold_s, rx.reps) == (2, 4, (30.0, 45.0), None)
    assert rx.to_json() == json.loads(stored)
    assert Prescription(step_cm=15).updated(Prescription(band=True)) == \
        Prescription(step_cm=15, band=True)
    with pytest.raises(InputError, match="prescription.hold: unknown field 'reps'"):
        Prescription.from_json({"reps": 10}, "hold")
    with pytest.raises(InputError, match="unknown exercise 'squat'"):
        Prescription.from_json({}, "squat")
    for exercise, field, value, kind in [
            ("heel_taps", "reps", "ten", "a whole number"),
            ("heel_taps", "band", 1, "true or false"),
            ("heel_taps", "step_cm", float("nan"), r"a number \(cm\)"),
            ("hold", "hold_s", [30], r"\[min, max\] seconds")]:
        with pytest.raises(InputError, match=f"prescription.{exercise}.{field} must be {kind}"):
            Prescription.from_json({field: value}, exercise)

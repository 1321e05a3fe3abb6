"""A programme set's analysis is typed (HoldSetResult, HeelTapSetResult), and its to_json is
the document: the sets analysed now and the documents written before the types existed
read back to objects that write the same bytes."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from analysis.exercises.dispatch import analyze_set
from analysis.exercises.set_result import (
    HeelTapSetResult,
    HoldSetResult,
    SetResultError,
    read_set_result,
)
from analysis.result import ResultError
from sensor_io.recording_io import read_recording

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "programme"
WRITTEN_BEFORE = Path(__file__).with_name("exercise_documents_v1.json")
"""A hold set's and a heel-tap set's documents as the dict-building writer wrote them (a
data/programme sample and a simulated set, seed 5 poor, with a shank)."""


@pytest.fixture(scope="module")
def analysed() -> dict[str, object]:
    return {p.stem: analyze_set(read_recording(p))
            for p in sorted(SAMPLES.glob("*.parquet"))}


def test_a_set_analysed_now_is_its_typed_document_and_reads_back_to_the_same_bytes(analysed):
    kinds = {}
    for name, analysis in analysed.items():
        result = analysis.result()
        text = json.dumps(analysis.to_json())
        assert json.dumps(result.to_json()) == text, name  # to_json is the typed document's
        back = read_set_result(json.loads(text))
        assert back == result, name
        assert json.dumps(back.to_json()) == text, name
        kinds[result.kind] = result
    hold, taps = kinds["hold"], kinds["heel_taps"]
    assert isinstance(hold, HoldSetResult) and isinstance(taps, HeelTapSetResult)
    assert hold.summary.holds == len(hold.holds) == 3
    assert hold.summary.tut_s == pytest.approx(sum(h.tut_s for h in hold.holds), abs=0.15)
    assert [t.rep.index for t in taps.taps] == list(range(1, len(taps.taps) + 1))
    assert taps.summary.taps == len(taps.taps)


def test_documents_written_before_the_types_read_and_write_the_same_bytes():
    written = json.loads(WRITTEN_BEFORE.read_text(encoding="utf-8"))
    hold = read_set_result(written["hold"])
    taps = read_set_result(written["heel_taps"])
    assert json.dumps(hold.to_json()) == json.dumps(written["hold"])
    assert json.dumps(taps.to_json()) == json.dumps(written["heel_taps"])
    assert hold.summary.prescribed_hold_s == (10.8, 13.2) and hold.holds[0].completed is True
    assert taps.exercise.prescription == {"reps": 6} and taps.step_height_m == 0.184
    first = written["heel_taps"]["taps"][0]
    assert taps.taps[0].rep.measures.get("knee_medial_cm") == first["measures"]["knee_medial_cm"]
    assert taps.taps[0].controlled is first["controlled"]
    assert taps.summary.control.controlled_share == \
        written["heel_taps"]["summary"]["control"]["controlled_share"]


def test_a_heel_tap_set_states_its_calibration_case_and_one_written_before_reads_without(analysed):
    """The case keys a band comparison's change bound (analysis.exercises.band): the test's
    own (analysis.uncertainty.calibration_case) for a set analysed now; a document written
    before it stays readable, without a case, and writes the same bytes."""
    taps = analysed["heel_taps_left_pelvis_thigh"].result()
    assert taps.uncertainty.case == "guided bends, still"
    assert taps.to_json()["uncertainty"]["case"] == taps.uncertainty.case
    assert read_set_result(json.loads(json.dumps(taps.to_json()))).uncertainty.case == taps.uncertainty.case
    assert "case" not in analysed["hold_left_pelvis_thigh"].to_json()["uncertainty"]
    written = json.loads(WRITTEN_BEFORE.read_text(encoding="utf-8"))
    assert read_set_result(written["heel_taps"]).uncertainty.case is None


def _broken(doc: dict, change) -> dict:
    doc = copy.deepcopy(doc)
    change(doc)
    return doc


@pytest.mark.parametrize("kind, change, message", [
    ("hold", lambda d: d.update(format="stepdown-analysis"), "not a stepdown-exercise document"),
    ("hold", lambda d: d.update(version=2), "version 2 is not one this reader knows"),
    ("hold", lambda d: d["exercise"].update(kind="squat"), "exercise kind 'squat'"),
    ("hold", lambda d: d.pop("summary"), "expected format, version, exercise"),
    ("hold", lambda d: d["holds"][0].update(tut_s="long"), r"holds\[0\].tut_s is 'long'"),
    ("hold", lambda d: d["holds"][1].pop("completed"), r"holds\[1\] has keys"),
    ("hold", lambda d: d["summary"].update(prescribed_hold_s=[30]), "not \\[min, max\\] s"),
    ("heel_taps", lambda d: d["taps"][0].pop("depth_deg"), "tap 1: depth_deg missing"),
    ("heel_taps", lambda d: d["taps"][2].update(controlled="yes"), "not true, false or null"),
    ("heel_taps", lambda d: d["summary"]["control"].pop("controlled_share"), "summary.control"),
    ("heel_taps", lambda d: d["uncertainty"].pop("basis"), "uncertainty is not"),
    ("heel_taps", lambda d: d["uncertainty"].update(case=3), "uncertainty is not"),
    ("heel_taps", lambda d: d["uncertainty"].update(leg="left"), "uncertainty is not"),
])
def test_a_broken_document_is_refused_in_one_line(kind, change, message):
    written = json.loads(WRITTEN_BEFORE.read_text(encoding="utf-8"))
    with pytest.raises(SetResultError, match=message) as err:
        read_set_result(_broken(written[kind], change))
    assert "\n" not in str(err.value)


def test_a_tap_whose_rep_breaks_the_analysis_contract_is_refused():
    written = json.loads(WRITTEN_BEFORE.read_text(encoding="utf-8"))
    doc = _broken(written["heel_taps"], lambda d: d["taps"][0]["measures"].update(knee=1.0))
    with pytest.raises(ResultError, match="unknown key"):
        read_set_result(doc)

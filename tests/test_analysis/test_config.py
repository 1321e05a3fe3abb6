"""Every setting of an analysis is one frozen AnalysisConfig: the pipeline is built from it,
cloned with other settings, and each result saves it so the result can be made again."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from analysis.config import AnalysisConfig, SegmentationConfig
from analysis.pipeline import StepDownPipeline, analyze
from analysis.rep_segmentation import RepSegmenter
from analysis.result import AnalysisResult
from sensor_io.errors import InputError
from sensor_io.recording import SensorStream
from sensor_io.recording_io import read_recording

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "medium_left_full_set.parquet"


@pytest.fixture(scope="module")
def rec():
    return read_recording(SAMPLE)


@pytest.fixture(scope="module")
def default_doc(rec) -> dict:
    return json.loads(json.dumps(analyze(rec).to_json()))


def test_a_saved_config_makes_the_same_analysis_again(rec, default_doc):
    saved = AnalysisConfig.from_json(default_doc["config"])
    assert saved == AnalysisConfig()
    again = StepDownPipeline(saved).analyze(rec).to_json()
    assert json.dumps(again) == json.dumps(default_doc)
    assert AnalysisResult.from_json(default_doc).config == default_doc["config"]


def test_a_clone_with_other_settings_scores_by_them_and_says_so(rec, default_doc):
    base = StepDownPipeline()
    strict = base.clone(rules={"pelvis_deg": 2.0})
    assert base.config.rules.pelvis_deg == 5.0  # the original is untouched (frozen)
    doc = strict.analyze(rec).to_json()
    assert [r["items"]["pelvis"] for r in default_doc["reps"]] == [0] * 5  # drops 3.0-4.4°
    assert [r["items"]["pelvis"] for r in doc["reps"]] == [1] * 5
    assert doc["config"]["rules"]["pelvis_deg"] == 2.0
    back = AnalysisConfig.from_json(doc["config"])
    assert back == strict.config and back.rules.origins == (("pelvis_deg", "configured"),)
    assert doc["rules"]["note"] == "thresholds configured"
    deep_only = base.clone(segmentation={"min_depth_deg": 80.0}).analyze(rec)
    assert deep_only.reps == [] and deep_only.to_json()["config"]["segmentation"]["min_depth_deg"] == 80


def test_the_filter_cutoff_reaches_the_measures(rec, default_doc):
    rough = StepDownPipeline().clone(kinematics_cutoff_hz=12.0).analyze(rec).to_json()
    knee = [r["measures"]["knee_medial_cm"] for r in default_doc["reps"]]
    assert [r["measures"]["knee_medial_cm"] for r in rough["reps"]] != knee
    assert rough["config"]["kinematics_cutoff_hz"] == 12.0


def test_the_orientation_gap_bridge_reaches_the_filter(rec):
    thigh = rec.streams["thigh_left"]
    keep = (thigh.t < 12.0) | (thigh.t >= 12.3)  # a 0.3 s dropout of the thigh in a rep
    cut = SensorStream(thigh.t[keep], thigh.acc[keep], thigh.gyr[keep],
                       None if thigh.mag is None else thigh.mag[keep])
    gapped = dataclasses.replace(rec, streams={**rec.streams, "thigh_left": cut})
    bridged = StepDownPipeline().analyze(gapped).to_json()
    split = StepDownPipeline().clone(max_bridge_s=0.2).analyze(gapped).to_json()
    assert (bridged["config"]["max_bridge_s"], split["config"]["max_bridge_s"]) == (0.5, 0.2)
    # the thigh's orientation restarts after the dropout: another analysis, not the same one
    assert [r["start_s"] for r in split["reps"]] != [r["start_s"] for r in bridged["reps"]]
    again = StepDownPipeline(AnalysisConfig.from_json(split["config"])).analyze(gapped).to_json()
    assert json.dumps(again) == json.dumps(split)


def test_the_test_rule_and_the_foot_offset_are_saved_as_used(rec):
    doc = analyze(rec, rule="any").to_json()
    assert doc["config"]["rules"]["test_rule"] == doc["test"]["rule"] == "any"
    with pytest.raises(InputError, match="test rule must be one of majority, any, worst"):
        analyze(rec, rule="mean")
    athlete = dataclasses.replace(rec.athlete, foot_medial_offset_m=0.042)
    doc = analyze(dataclasses.replace(rec, athlete=athlete)).to_json()
    assert doc["config"]["rules"]["knee_cm_2"] == pytest.approx(4.2)


def test_segmentation_defaults_are_the_segmenters():
    assert dataclasses.asdict(SegmentationConfig()) == {
        f.name: f.default for f in dataclasses.fields(RepSegmenter) if f.init}


@pytest.mark.parametrize("doc, message", [
    ({"rulez": {}}, r"unknown setting\(s\) rulez"),
    ({"rules": {"pelvis": 5}}, "unknown rule setting"),
    ({"segmentation": {"depth": 3}}, "segmentation takes"),
    ({"orientation_mode": "psychic"}, "orientation_mode must be one of offline, causal"),
    ({"max_gap_s": -1}, "max_gap_s must be a positive number"),
    ({"max_bridge_s": 0}, "max_bridge_s must be a positive number"),
])
def test_a_wrong_saved_config_is_refused_in_one_line(doc, message):
    with pytest.raises(InputError, match=message) as err:
        AnalysisConfig.from_json(doc)
    assert "\n" not in str(err.value)

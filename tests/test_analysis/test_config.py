"""Every setting of an analysis is one frozen AnalysisConfig: the pipeline is built from it,
cloned with other settings, and each result saves it so the result can be made again."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from analysis.config import AnalysisConfig, SegmentationConfig
from analysis.pipeline import StepDownPipeline, analyze
from analysis.rep_segmentation import RepSegmenter
from analysis.result import AnalysisResult
from analysis.uncertainty_tables import MEASURE_UNCERTAINTY
from analysis.validation import MODEL_TO_REALITY as MODEL_TO_REALITY_TERMS
from calibration import CalibrationError
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


def test_the_calibration_limits_are_settings_the_calibration_obeys():
    minimum = read_recording(SAMPLE.with_name("good_left_pelvis_thigh.parquet"))
    doc = StepDownPipeline().analyze(minimum).to_json()
    assert doc["config"]["calibration"] == {"min_axis_share": 0.5, "min_axis_gravity_deg": 60.0}
    thigh = doc["calibration"]["sensors"]["thigh_left"]
    assert thigh["method"] == "gravity+flexion axis"
    share = thigh["flexion_axis_share"]  # rounded to 0.001
    with pytest.raises(CalibrationError, match="not dominated by flexion"):
        StepDownPipeline().clone(calibration={"min_axis_share": share + 0.002}).analyze(minimum)
    looser = StepDownPipeline().clone(calibration={"min_axis_share": share - 0.002})
    assert looser.analyze(minimum).to_json()["config"]["calibration"]["min_axis_share"] == \
        pytest.approx(share - 0.002)
    with pytest.raises(CalibrationError, match="from vertical"):
        StepDownPipeline().clone(calibration={"min_axis_gravity_deg": 89.9}).analyze(minimum)
    older = {k: v for k, v in doc["config"].items() if k != "calibration"}  # saved before it was
    assert AnalysisConfig.from_json(older) == AnalysisConfig()


def test_the_standing_limits_judge_the_calibration_window(rec, default_doc):
    # this recording's standing sways at 3.5 °/s (0.061 rad/s): "sway" by the default
    # 0.03 rad/s, so its measures are stated with the swaying case's uncertainty
    assert default_doc["config"]["standing"]["still_gyr_std_rad_s"] == 0.03
    assert default_doc["calibration"]["quality"] == "sway"
    assert default_doc["uncertainty"]["case"] == "knee hinge, sway"
    calm = StepDownPipeline().clone(standing={"still_gyr_std_rad_s": 0.07})
    doc = json.loads(json.dumps(calm.analyze(rec).to_json()))
    assert doc["calibration"]["quality"] == "still"
    assert doc["uncertainty"]["case"] == "knee hinge, still"
    assert doc["uncertainty"]["simulated"]["hip_flexion_deg"] == 1.0  # the still case's (1.35 sway)
    assert doc["config"]["standing"]["still_gyr_std_rad_s"] == 0.07
    again = StepDownPipeline(AnalysisConfig.from_json(doc["config"])).analyze(rec).to_json()
    assert json.dumps(again) == json.dumps(doc)
    with pytest.raises(CalibrationError, match="never stopped moving for 30 s"):
        StepDownPipeline().clone(standing={"min_usable_s": 30.0, "min_window_s": 30.0}).analyze(rec)


def test_the_stated_uncertainties_are_settings(rec, default_doc):
    from analysis.uncertainty_tables import MEASURE_UNCERTAINTY, stated_uncertainty

    assert default_doc["config"]["uncertainty"] == MEASURE_UNCERTAINTY
    assert default_doc["config"]["model_to_reality"] == MODEL_TO_REALITY_TERMS
    wide = {case: {k: 10 * v for k, v in table.items()} for case, table in stated_uncertainty().items()}
    doc = json.loads(json.dumps(StepDownPipeline().clone(uncertainty=wide).analyze(rec).to_json()))
    u, u0 = doc["uncertainty"], default_doc["uncertainty"]
    assert u["simulated"]["knee_medial_cm"] == 10 * u0["simulated"]["knee_medial_cm"]
    assert len(u["borderline"]) > len(u0["borderline"])  # 20 rep items against 7
    assert u["total_range"][1] - u["total_range"][0] > u0["total_range"][1] - u0["total_range"][0]
    assert doc["test"] == default_doc["test"]  # the scores themselves do not move
    again = StepDownPipeline(AnalysisConfig.from_json(doc["config"])).analyze(rec).to_json()
    assert json.dumps(again) == json.dumps(doc)
    # without the model-to-reality terms, the stated bound is the simulated one
    none = {frames: {k: 0.0 for k in terms} for frames, terms in MODEL_TO_REALITY_TERMS.items()}
    sim_only = StepDownPipeline().clone(model_to_reality=none).analyze(rec).to_json()["uncertainty"]
    assert u0["measures"]["pelvic_drop_deg"] > 6  # 1.15° simulated and 6.4° to reality
    assert sim_only["measures"] == {k: pytest.approx(v, abs=0.1) for k, v in u0["simulated"].items()}
    assert sim_only["model_to_reality"] == {"pelvic_drop_deg": 0.0, "hip_flexion_deg": 0.0,
                                            "hip_adduction_deg": 0.0}
    older = {k: v for k, v in doc["config"].items()
             if k not in ("uncertainty", "model_to_reality", "standing")}
    assert AnalysisConfig.from_json(older) == AnalysisConfig()  # saved before they were settings


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
    ({"calibration": {"share": 0.9}}, "calibration takes min_axis_share, min_axis_gravity_deg"),
    ({"orientation_mode": "psychic"}, "orientation_mode must be one of offline, causal"),
    ({"max_gap_s": -1}, "max_gap_s must be a positive number"),
    ({"max_bridge_s": 0}, "max_bridge_s must be a positive number"),
    ({"standing": {"still": 0.1}}, "standing takes gyr_std_max_rad_s, acc_std_max_ms2"),
    ({"standing": {"min_usable_s": 2.0}}, r"min_usable_s \(2 s\) must not exceed min_window_s"),
    ({"uncertainty": {"knee hinge, still": {}}},
     r"uncertainty must give each case \(knee hinge, still; knee hinge, sway; "),
    ({"uncertainty": {c: {"pelvic_drop_deg": -1.0} for c in MEASURE_UNCERTAINTY}},
     "uncertainty: 'knee hinge, still' must map measures to numbers of at least 0"),
    ({"model_to_reality": {"knee hinge": {}}}, "model_to_reality must give each case"),
])
def test_a_wrong_saved_config_is_refused_in_one_line(doc, message):
    with pytest.raises(InputError, match=message) as err:
        AnalysisConfig.from_json(doc)
    assert "\n" not in str(err.value)


def test_the_session_calibration_is_made_with_the_settings_the_set_is_analysed_with(rec):
    from analysis.pipeline import session_calibration

    causal = StepDownPipeline().clone(orientation_mode="causal")
    default_frames = session_calibration(rec)
    causal_frames = causal.session_calibration(rec)
    assert causal_frames.sensors["thigh_left"].R_sensor_seg.tolist() == \
        session_calibration(rec, config=causal.config).sensors["thigh_left"].R_sensor_seg.tolist()
    # the orientation filter makes the frames: another filter, other frames
    turn = [np.degrees(np.arccos(np.clip((np.trace(
        default_frames.sensors[p].R_sensor_seg.T @ causal_frames.sensors[p].R_sensor_seg) - 1) / 2,
        -1, 1))) for p in default_frames.sensors]
    assert max(turn) > 0.01
    share = default_frames.sensors["thigh_left"].axis_share
    with pytest.raises(CalibrationError, match="not dominated by flexion"):
        session_calibration(rec, config=AnalysisConfig().clone(
            calibration={"min_axis_share": share + 0.01}))
    # the set's result saves the settings that made both its frames and its analysis, so
    # the saved config alone makes the same result again
    doc = json.loads(json.dumps(causal.analyze(rec, session=causal_frames).to_json()))
    assert doc["config"]["orientation_mode"] == "causal"
    saved = AnalysisConfig.from_json(doc["config"])
    assert saved == causal.config
    again = StepDownPipeline(saved).analyze(
        rec, session=session_calibration(rec, config=saved)).to_json()
    assert json.dumps(again) == json.dumps(doc)
    # frames of other settings than the analysis's give other measures (what the config
    # block would not say)
    mixed = causal.analyze(rec, session=default_frames).to_json()
    assert [r["measures"] for r in mixed["reps"]] != [r["measures"] for r in doc["reps"]]

"""The typed analysis result (analysis/result.py) is the analysis JSON contract: the
shipped samples' analyses read back to the same document, the checked-in JSON Schema is
the one the classes generate and accepts those documents, and broken documents get one
clear line."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
from analysis_docs import contract_doc

from analysis.measures import EXTRA, MEASURES
from analysis.pipeline import analyze
from analysis.result import (
    SCHEMA_PATH,
    AnalysisResult,
    ItemScore,
    RepMeasures,
    ResultError,
    schema_text,
)
from analysis.rules import ITEMS
from sensor_io.recording_io import read_recording

SAMPLES = sorted((Path(__file__).resolve().parents[2] / "data").glob("*.parquet"))


@pytest.fixture(scope="module")
def sample_docs() -> dict[str, dict]:
    """The analysis document of every shipped sample, as ``stepdown analyze --json`` prints it."""
    return {p.stem: json.loads(json.dumps(analyze(read_recording(p)).to_json())) for p in SAMPLES}


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_every_shipped_sample_reads_back_to_the_same_document(sample_docs):
    assert len(sample_docs) == 5
    for name, doc in sample_docs.items():
        result = AnalysisResult.from_json(doc)
        assert json.dumps(result.to_json()) == json.dumps(doc), name  # same keys, same order
        assert len(result.reps) == len(doc["reps"]) >= 3
        assert result.test.category == doc["test"]["category"]
        rep = result.reps[0]
        assert rep.measures.get("pelvic_drop_deg") == doc["reps"][0]["measures"]["pelvic_drop_deg"]
        assert rep.items["pain"] == ItemScore(doc["reps"][0]["items"]["pain"], "reported")


def test_the_hand_made_contract_document_round_trips_without_gaining_keys():
    doc = contract_doc()
    doc["reps"][1]["not_measured"] = {"trunk_lean_deg": "no trunk sensor"}
    doc["reps"][1]["cut_by_gap"] = ["end"]
    result = AnalysisResult.from_json(doc)
    assert result.to_json() == doc
    assert result.skipped is None and result.uncertainty is None  # absent stays absent
    assert result.reps[0].measures.names == tuple(doc["reps"][0]["measures"])
    assert result.reps[0].measures.get("wrist_motion_deg") is None
    assert result.reps[1].cut_by_gap == ("end",)
    assert result.recording.calibration_window_s == (0.4, 3.1)


def test_the_checked_in_schema_is_the_one_the_classes_generate():
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text(), (
        "docs/analysis.schema.json is stale: run `python -m analysis.result`")


def test_the_schema_accepts_every_sample_and_refuses_what_from_json_refuses(sample_docs, validator):
    for name, doc in sample_docs.items():
        assert not list(validator.iter_errors(doc)), name
    assert not list(validator.iter_errors(contract_doc()))
    for bad in _broken_documents(contract_doc()):
        assert list(validator.iter_errors(bad)), bad
        with pytest.raises(ResultError):
            AnalysisResult.from_json(bad)


def _broken_documents(doc: dict) -> list[dict]:
    out = []

    def broken(change) -> None:
        d = copy.deepcopy(doc)
        change(d)
        out.append(d)

    broken(lambda d: d.update(format="stepdown-recording"))
    broken(lambda d: d.update(version=2))
    broken(lambda d: d.update(test_leg="both"))
    broken(lambda d: d.update(surprise=1))
    broken(lambda d: d["reps"][0]["measures"].update(knee_valgus_deg=3.0))
    broken(lambda d: d["reps"][0]["measures"].update(knee_medial_cm="2 cm"))
    broken(lambda d: d["reps"][0]["items"].update(knee=3))
    broken(lambda d: d["reps"][0]["items"].update(pelvis=2))
    broken(lambda d: d["reps"][0]["sources"].update(knee="guess"))
    broken(lambda d: d["reps"][0].pop("end_s"))
    broken(lambda d: d["test"].update(category="excellent"))
    broken(lambda d: d["test"].update(total=2.5))
    broken(lambda d: d["test"].update(rule="mean"))
    broken(lambda d: d.update(flags=[{"rep": 1, "item": "knee", "rule": "1", "classifier": 0,
                                      "probability": None}]))
    return out


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(version=3), "version 3 cannot be read by this stepdown"),
    (lambda d: d["reps"][2]["measures"].update(knee_valgus_deg=1.0), "rep 3: measures: unknown key"),
    (lambda d: d["reps"][0]["items"].update(knee=3), "rep 1: items: item knee is 3"),
    (lambda d: d["reps"][0].update(index=2), "rep index repeated"),
    (lambda d: d.pop("test"), "test missing"),
])
def test_a_broken_document_gets_one_line_naming_what_is_wrong(change, message):
    doc = contract_doc()
    change(doc)
    with pytest.raises(ResultError) as err:
        AnalysisResult.from_json(doc)
    text = str(err.value)
    assert message in text and "\n" not in text and text.startswith("analysis document: ")


def test_rep_measures_declare_exactly_the_measures_the_analysis_computes():
    assert sorted(RepMeasures.measure_names()) == sorted(MEASURES + EXTRA)


def test_items_are_the_checklist_items():
    doc = contract_doc()
    assert tuple(AnalysisResult.from_json(doc).reps[0].items) == ITEMS

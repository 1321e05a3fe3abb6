"""`python -m stepdown.demo` (`make demo`): runs, exits 0, tells a new user what is there."""

from __future__ import annotations

import sys

import pytest

import analysis
from stepdown import demo
from stepdown.sample_data import DATA_DIR, SAMPLES
from stepdown.simulation import truth_path

pytestmark = pytest.mark.skipif(not any(DATA_DIR.glob("*.parquet")),
                                reason="no sample recordings in data/")


def hide_pipeline(monkeypatch):
    """Make ``from analysis import pipeline`` fail as if the module did not exist."""
    monkeypatch.setitem(sys.modules, "analysis.pipeline", None)
    monkeypatch.delattr(analysis, "pipeline", raising=False)


def test_demo_shows_every_sample_with_sensors_rates_and_truth(capsys):
    assert demo.main([]) == 0
    out = capsys.readouterr().out
    for s in SAMPLES:
        assert s.name in out
    assert "thigh_right" in out and "wrist_left" in out
    assert " Hz" in out and "test leg left" in out and "test leg right" in out
    assert out.count("truth   :") == len(SAMPLES)
    for category in ("good", "medium", "poor"):
        assert f"truth   : {category}" in out


def test_demo_without_the_pipeline_shows_truth_only(capsys, monkeypatch):
    hide_pipeline(monkeypatch)
    assert demo.find_analyze() is None
    assert demo.main([]) == 0
    out = capsys.readouterr().out
    assert "not there yet" in out
    assert "analysis items" not in out and "analysis:" not in out


def test_demo_with_the_pipeline_puts_the_analysis_beside_the_truth(capsys):
    if demo.find_analyze() is None:
        pytest.skip("analysis.pipeline.analyze does not exist yet")
    assert demo.main([]) == 0
    out = capsys.readouterr().out
    # each test is analysed, or the analysis' one-line refusal is shown instead
    assert out.count("analysis:") + out.count("analysis refused this recording:") == len(SAMPLES)
    assert "Traceback" not in out
    if "analysis:" in out:
        assert "analysis items" in out and "analysis vs truth: category agrees in" in out


def test_demo_on_a_folder_without_truth_or_recordings(tmp_path, capsys, monkeypatch):
    hide_pipeline(monkeypatch)
    assert demo.main([str(tmp_path)]) == 1
    assert "python -m stepdown.sample_data" in capsys.readouterr().out
    src = DATA_DIR / SAMPLES[0].name
    (tmp_path / src.name).write_bytes(src.read_bytes())
    assert not truth_path(tmp_path / src.name).exists()
    assert demo.main([str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert src.name in out and "no truth file" in out


def test_a_crashing_analysis_is_named_and_the_other_files_still_shown(capsys, monkeypatch):
    def broken(rec):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(demo, "find_analyze", lambda: broken)
    assert demo.main([]) == 1
    out = capsys.readouterr().out
    assert out.count("analysis failed (a bug): ZeroDivisionError") == len(SAMPLES)
    assert out.count("truth   :") == len(SAMPLES)  # the truth is still shown
    for s in SAMPLES:
        assert s.name in out
    assert f"the analysis failed on {len(SAMPLES)} file(s)" in out

"""`stepdown record` / `devices` end to end through emulated BLE sensors."""

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from sensor_io.recording import Athlete
from sensor_io.recording_io import read_recording
from stepdown.cli import main

REPO = Path(__file__).resolve().parents[2]
FAST = ["--emulate", "--emulate-speed", "8"]  # real time, 8× faster (a signal test needs it)
VIRTUAL = ["--emulate", "--emulate-speed", "0"]  # virtual time: the same on any machine


def test_devices_lists_emulated_imus(capsys):
    assert main(["devices", "--emulate", "--timeout", "0.2"]) == 0
    out = capsys.readouterr().out
    for model in ("Movesense", "Polar Verity Sense", "WitMotion BWT901BLE"):
        assert model in out
    assert "dBm" in out


def test_record_refuses_bad_input_in_one_line(capsys, tmp_path):
    assert main(["record", "--leg", "up", "--athlete", "a", "--pelvis", "x", "--thigh", "y"]) == 2
    assert main(["record", "--leg", "left", "--athlete", "a", "--pelvis", "x",
                 "--out", str(tmp_path / "r.parquet")]) == 2
    assert main(["record", "--leg", "left", "--athlete", "a", "--pelvis", "x", "--thigh", "y",
                 "--pain", "11", "--out", str(tmp_path / "r.parquet")]) == 2
    err = capsys.readouterr().err
    assert "--pain values are pain NRS from 0 to 10, got '11'" in err
    assert "--leg must be left or right" in err and "--pelvis and --thigh are required" in err
    assert "Traceback" not in err


LIVE_VS_OFFLINE_SEEDS = range(20, 40)
"""Where the live-vs-offline test looks for a simulated test (with the guided knee bends)
whose reps sit clear of the thresholds; on whole-body physics most seeds have only 1-4 of
5 such reps (seed 8's sit within 0.3 of one on all but one), and which ones changes
whenever a measure does, so the test picks its seed from the offline analysis alone."""
CLEAR_OF_THRESHOLD = 0.3
"""A rep's items are compared where its offline knee and pelvic drop are this far from the
knee (1.0, 3.5 cm) and pelvis (5 deg) thresholds."""


def _clear_reps(analysis: dict) -> list[bool]:
    """Per rep of an analysis JSON: are its knee and pelvic drop clear of the thresholds?"""
    def clear(rep: dict) -> bool:
        knee, drop = rep["measures"]["knee_medial_cm"], rep["measures"]["pelvic_drop_deg"]
        return (min(abs(knee - 1.0), abs(knee - 3.5)) > CLEAR_OF_THRESHOLD
                and abs(drop - 5.0) > CLEAR_OF_THRESHOLD)
    return [clear(r) for r in analysis["reps"]]


STREAMED_RATES_HZ = {"pelvis": 104.0, "thigh_left": 52.0}
"""The rates the emulated vendors stream the pelvis (Movesense) and thigh (Polar) at."""


def _offline(sim, pipeline) -> dict:
    """The offline analysis of a simulation's own file, resampled (linearly) to the rates the
    vendors stream, with what the recorder knows of the athlete: no height (the knee from
    pelvis and thigh then takes a default body).  Resampled, because the knee with the hip's
    measured shift integrates the pelvis acceleration twice and moves with the sample rate:
    the simulator's 200 Hz file against the same at 104/52 Hz differs by up to 0.37 cm of
    knee on seed 20, no BLE involved; what is compared here is the live path."""
    rec = sim.recording
    streams, meta = {}, {}
    for name, s in rec.streams.items():
        t = np.arange(s.t[0], s.t[-1], 1.0 / STREAMED_RATES_HZ[name])
        streams[name] = replace(s, t=t, **{k: np.column_stack(
            [np.interp(t, s.t, getattr(s, k)[:, i]) for i in range(3)])
            for k in ("acc", "gyr", "mag") if getattr(s, k) is not None})
        meta[name] = {**rec.sensors_meta[name], "rate_hz": STREAMED_RATES_HZ[name]}
    resampled = replace(rec, streams=streams, sensors_meta=meta, athlete=Athlete(id="a-1"))
    return pipeline.analyze(resampled).to_json()


def _seed_with_clear_reps(pipeline, wanted: int = 4) -> int:
    """The first seed whose simulated test, as `record` plays it (pelvis and left thigh, 3 s
    standing, the bends), has ``wanted`` reps clear of the thresholds offline."""
    from stepdown.live.emulation import Prompts, simulated_test
    from stepdown.live.loop import BENDS_S

    for seed in LIVE_VS_OFFLINE_SEEDS:
        sim = simulated_test(["pelvis", "thigh"], "left", seed, Prompts(3.0, BENDS_S))
        if sum(_clear_reps(_offline(sim, pipeline))) >= wanted:
            return seed
    pytest.fail(f"no seed in {LIVE_VS_OFFLINE_SEEDS} has {wanted} reps clear of the thresholds")


def _played(monkeypatch, **athlete):
    """The simulations the emulated worlds of `record` play (appended as they are made);
    ``athlete``: how the emulated athlete behaves (``does_bends``)."""
    from stepdown.commands import live

    real, sims = live.emulated_world, []

    def keep(*args, **kw):
        made = real(*args, **kw, **athlete)
        sims.append(made[2])
        return made

    monkeypatch.setattr(live, "emulated_world", keep)
    return sims


def test_live_record_of_two_vendors_scores_like_offline_analysis(capsys, tmp_path, monkeypatch):
    pipeline = pytest.importorskip("analysis.pipeline", reason="analysis pipeline not there yet")

    seed = _seed_with_clear_reps(pipeline)
    played = _played(monkeypatch)
    out = tmp_path / "live.parquet"
    rc = main(["record", *VIRTUAL, "--leg", "left", "--athlete", "a-1", "--pelvis", "x",
               "--thigh", "x", "--seed", str(seed), "--out", str(out)])
    text = capsys.readouterr().out
    assert rc == 0, text
    assert "Movesense" in text and "Polar Verity Sense" in text  # two vendors
    assert "Stand still" in text and "Go:" in text
    assert sum(line.startswith("rep ") for line in text.splitlines()) == 5  # live, per rep
    assert "test: total" in text
    live = read_recording(out)
    assert {k: m["rate_hz"] for k, m in live.sensors_meta.items()} == STREAMED_RATES_HZ
    assert not live.extra.get("gaps")
    for s in live.streams.values():
        # the recording ends with the simulated test: a sensor replaying its last sample
        # for 4 s, the offline filter took for rest, and its gyro reading for the bias of
        # the whole recording (pelvic drop +0.9 deg on every rep)
        moved = np.flatnonzero(np.any(s.gyr != s.gyr[-1], axis=1))
        assert s.t[-1] - s.t[moved[-1]] < 0.3
    offline = _offline(played[0], pipeline)
    streamed = pipeline.analyze(live).to_json()
    assert len(streamed["reps"]) == len(offline["reps"]) == 5
    clear = _clear_reps(offline)
    assert sum(clear) >= 4
    # the live recording's clock starts when streaming starts: a constant offset
    shift = np.median([s["bottom_s"] - o["bottom_s"]
                       for s, o in zip(streamed["reps"], offline["reps"], strict=True)])
    for s, o, is_clear in zip(streamed["reps"], offline["reps"], clear, strict=True):
        assert s["bottom_s"] - shift == pytest.approx(o["bottom_s"], abs=0.05)
        for k, v in o["measures"].items():
            if v is not None and k in ("knee_medial_cm", "pelvic_drop_deg", "hip_adduction_deg"):
                # the vendors' rates (52 and 104 Hz) and wire quantisation: 0.11 cm and
                # 0.04 deg at most on seed 20, except the first rep's hip adduction, which
                # the live path reads 0.15 deg above the offline one.  Traced: the recorder
                # polls every 50 ms and reached each prompt one poll late (3.05 s standing,
                # 10.05 s bends), so its bends' window ends 0.09 s later on the athlete's
                # clock than the simulator's own (13.09 against 13.0 s).  Before rep 1 the
                # offline file then keeps a 21-sample standing pause (20 the least) that
                # anchors the heading-drift correction, the live one 12 samples and no
                # anchor: rep 1's drift is interpolated from standing to after it.  Given
                # the simulator's window the live file reads rep 1 0.00 deg off (seed 26:
                # -0.08 -> -0.01).  Legitimate: each file's window is when its prompts were
                # given, and anchoring rep 1 in the standing after the bends is no more
                # accurate (rep 1 MAE against the truth 0.690 -> 0.685 deg, seeds 20-39)
                assert s["measures"][k] == pytest.approx(v, abs=0.2), k
        if is_clear:  # items must agree wherever the offline value is clear of a threshold
            assert s["items"] == o["items"]
    assert streamed["test"]["items"] == offline["test"]["items"]


def test_record_asks_for_the_knee_bends_and_the_calibration_finds_the_thigh_axis_in_them(
        capsys, tmp_path, monkeypatch):
    pipeline = pytest.importorskip("analysis.pipeline")

    played = _played(monkeypatch)
    out = tmp_path / "b.parquet"
    assert main(["record", *VIRTUAL, "--leg", "right", "--athlete", "a", "--pelvis", "x",
                 "--thigh", "x", "--seed", "3", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    said = [line.split(":")[0] for line in text.splitlines()
            if line.startswith(("Stand still", "Knee bends:", "Go:"))]
    assert said == ["Stand still on the step, hands on the waist (3 s) ...", "Knee bends", "Go"]
    assert "2-3 slow knee bends on both feet" in text
    assert sum(line.startswith("rep ") for line in text.splitlines()) == 5
    rec = read_recording(out)
    t0, t1 = rec.extra["calibration_movement"]["window_s"]
    standing_end = next(e["t"] for e in rec.extra["events"] if e["what"] == "calibration_end")
    assert t0 == pytest.approx(standing_end, abs=0.06) and t1 - t0 == pytest.approx(10.0, abs=0.06)
    bends = played[0].truth["calibration_movement"]["span_s"]  # the simulated athlete's
    start = next(e["t"] for e in rec.extra["events"] if e["what"] == "calibration_start")
    assert t0 < start + bends[0] and start + bends[1] < t1  # done when asked, in the time given
    doc = pipeline.analyze(rec).to_json()
    assert doc["calibration"]["sensors"]["thigh_right"]["method"] == "gravity+guided knee bends"
    assert doc["calibration"]["movement"] == "used"
    assert len(doc["reps"]) == 5 and doc["reps"][0]["start_s"] > t1  # no bend is a rep


@pytest.mark.parametrize("how", ["--no-bends", "athlete stands through them"])
def test_a_test_without_the_knee_bends_still_calibrates_from_the_reps(how, capsys, tmp_path,
                                                                      monkeypatch):
    pipeline = pytest.importorskip("analysis.pipeline")

    _played(monkeypatch, does_bends=how == "--no-bends")
    out = tmp_path / "n.parquet"
    skip = ["--no-bends"] if how == "--no-bends" else []
    assert main(["record", *VIRTUAL, "--leg", "left", "--athlete", "a", "--pelvis", "x",
                 "--thigh", "x", "--seed", "3", *skip, "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert ("Knee bends:" in text) is not skip
    assert sum(line.startswith("rep ") for line in text.splitlines()) == 5
    rec = read_recording(out)
    assert ("calibration_movement" in rec.extra) is not skip
    doc = pipeline.analyze(rec).to_json()
    assert len(doc["reps"]) == 5
    assert "guided" not in doc["calibration"]["sensors"]["thigh_left"]["method"]
    if not skip:  # asked for and not done: the analysis says so
        assert "thigh_left did not bend" in doc["calibration"]["movement"]


def test_ctrl_c_ends_cleanly_and_keeps_everything(tmp_path):
    out = tmp_path / "int.parquet"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "stepdown", "record", *FAST, "--leg", "right", "--athlete", "b",
         "--pelvis", "x", "--thigh", "x", "--shank", "x", "--no-score", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=REPO, text=True)
    try:
        for line in proc.stdout:  # wait until streaming has begun
            if line.startswith("Go:"):
                break
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, stderr
    assert "wrote" in stdout and "Traceback" not in stderr
    rec = read_recording(out)
    assert set(rec.streams) == {"pelvis", "thigh_right", "shank_right"}  # WitMotion too
    assert all(s.duration_s > 8 for s in rec.streams.values())  # 1 s × speed 8 + calibration
    assert out.with_suffix(".sdj").exists()  # the journal stays beside the recording


def test_status_line_flags_a_silent_sensor():
    from sensor_io.ble_client import SensorStatus
    from stepdown.live.lines import status_line

    ok = SensorStatus("pelvis", "A", state="streaming", samples=500, last_t=9.9,
                      streaming_since=1.0, battery_v=3.91)
    silent = SensorStatus("thigh_left", "B", state="streaming", samples=0, streaming_since=1.0)
    line = status_line({"pelvis": ok, "thigh_left": silent}, now_s=10.0)
    assert "pelvis streaming 500 smp" in line and "3.91 V" in line
    assert "thigh_left NO DATA 0 smp" in line
    assert "NO DATA" not in status_line({"thigh_left": silent}, now_s=2.5)  # 1.5 s: not yet


def test_live_scoring_runs_only_when_a_rep_may_have_ended():
    from analysis.rep_end import rep_may_have_ended
    from sensor_io.recording import SensorStream
    from simulator.single_test import SimConfig, simulate

    sim = simulate(SimConfig(seed=3, sensors=("pelvis", "thigh"), ideal_sensors=True))
    thigh = sim.recording.stream("thigh")
    rep1 = sim.truth["reps"][0]

    def until(t_end: float) -> SensorStream:
        return thigh.slice_time(-1.0, t_end)

    start = sim.scenario.standing_s
    assert not rep_may_have_ended(until(start - 0.5), 0.0)            # standing still
    assert not rep_may_have_ended(until(rep1["bottom_s"]), start)      # deep in the rep
    assert rep_may_have_ended(until(rep1["end_s"] + 0.3), start)       # back up: score now
    assert not rep_may_have_ended(until(rep1["end_s"] + 0.3), rep1["end_s"])  # already scored


@pytest.mark.parametrize("seed", [1, 4])
def test_each_rep_is_shown_once_with_its_final_end(seed, tmp_path, monkeypatch):
    """Scored as soon as the thigh is back, a rep's end could still move (the analysis'
    depth still falling): such a rep is held back until it settles, so no rep is shown
    early with a wrong end and then again (seeds 1 and 4 showed 6 and 8 reps so)."""
    pipeline = pytest.importorskip("analysis.pipeline")
    from stepdown.live import loop

    runs, score = [], loop.LiveRun._score

    async def keep(self, why=None):
        runs.append(self)
        await score(self, why)

    monkeypatch.setattr(loop.LiveRun, "_score", keep)
    out = tmp_path / "r.parquet"
    assert main(["record", *VIRTUAL, "--leg", "left", "--athlete", "a", "--pelvis", "x",
                 "--thigh", "x", "--seed", str(seed), "--out", str(out)]) == 0
    final = pipeline.analyze(read_recording(out)).to_json()["reps"]
    shown = runs[0].shown_reps
    assert len(shown) == len(final) == 5
    for s, f in zip(shown, final, strict=True):  # a rep shown too early was 0.3-0.5 s off
        assert s.end_s == pytest.approx(f["end_s"], abs=0.15)
        # each window's reps begin with the last one shown: its pain first (a window
        # once took the next rep's pain, so seed 1's reps 3-5 showed pain 1, 0, none)
        assert s.items["pain"] == f["items"]["pain"], s.index


def test_rep_end_settles_once_the_depth_stops_falling():
    from analysis.rep_end import rep_end_settled

    t = np.arange(0, 4, 0.01)
    depth = np.radians(np.where(t < 2, 40 * np.sin(np.pi * t / 2), 0.0))  # a 2 s, 40° rep
    assert rep_end_settled(t[t < 2.2], depth[t < 2.2], 0.0, 1.95)    # flat after its end
    assert not rep_end_settled(t[t < 1.98], depth[t < 1.98], 0.0, 1.95)  # no data after it
    coming_back = t < 1.9  # an end found at 1.8 s while the depth still falls: it would move
    assert not rep_end_settled(t[coming_back], depth[coming_back], 0.0, 1.8)


def test_live_rep_lines_mark_borderline_items():
    from analysis.result import AnalysisResult, ItemScore, RecordingSummary, Rep, RepMeasures, TestScore
    from stepdown.live.lines import rep_line
    from stepdown.live.live_rep import LiveRep
    from stepdown.live.scoring import borderline_items

    def typed(index, **items):
        return Rep(index=index, start_s=2.0 * index, bottom_s=2.0 * index + 0.7,
                   end_s=2.0 * index + 1.5, measures=RepMeasures(),
                   items={k: ItemScore(v, "rule") for k, v in items.items()},
                   total=sum(items.values()))

    reps = (typed(1, pelvis=1, knee=1, arm=0), typed(2, pelvis=0, knee=0), typed(3, knee=0))
    result = AnalysisResult(
        RecordingSummary("left", ("pelvis", "thigh_left")), reps,
        TestScore(rule="majority", items={}, total=0, piva_total=0, category="good"),
        uncertainty={"borderline": [{"rep": 1, "item": "knee"}, {"rep": 2, "item": "knee"}]})
    near = borderline_items(result)
    assert near == {1: ("knee",), 2: ("knee",)}
    live = [LiveRep(r, borderline=near.get(r.index, ())) for r in reps]
    assert rep_line(live[0]) == "rep 1: total 2  pelvis=1 knee=1~  (~ near its threshold)"
    assert rep_line(live[1]) == "rep 2: total 0  knee=0~  (~ near its threshold)"
    assert rep_line(live[2]) == "rep 3: total 0  no faults"


def test_the_live_loop_scores_each_window_with_the_frames_of_the_recording_so_far(capsys, monkeypatch,
                                                                                   tmp_path):
    # a live window holds one or two reps, whose own knee hinge is less sure than the
    # recording's so far (tests/test_stepdown/test_live_window.py): the loop finds the
    # frames on the recording so far once a rep is shown (again when the reps double)
    from calibration import Calibration
    from stepdown.commands import live
    from stepdown.live.scoring import analysis_scorer

    real, seen = analysis_scorer(), []

    def spy(rec, frames=None):
        reps = real(rec, frames)
        seen.append((frames, len(reps)))
        return reps

    monkeypatch.setattr(live, "analysis_scorer", lambda: spy)
    rc = main(["record", *VIRTUAL, "--leg", "left", "--athlete", "a-1", "--pelvis", "x",
               "--thigh", "x", "--shank", "x", "--seed", "3", "--out", str(tmp_path / "r.parquet")])
    assert rc == 0, capsys.readouterr().out
    assert seen[0][0] is None  # before the first rep: the window is everything, finds its own
    carried = [f for f, _ in seen if f is not None]
    assert carried and all(isinstance(f, Calibration) for f in carried)
    assert len({id(f) for f in carried}) <= 3  # found again only as the reps shown double


def test_emulated_sensors_keep_the_simulations_common_clock():
    # each simulated stream's first sample is a few ms from the others'; replayed each
    # from its own first sample, the thigh ran 8 ms behind the pelvis
    from sensor_io.ble_emulation import stream_signal
    from sensor_io.recording import SensorStream

    t = np.arange(0.0, 2.0, 0.01)
    ramp = np.column_stack([t, t, t])
    early, late = SensorStream(t - 0.007, ramp, ramp), SensorStream(t + 0.001, ramp, ramp)
    at = np.array([5.5])  # world time: 0.5 s into the replay started at 5 s ...
    for s in (early, late):  # ... so both sensors read the recording at -0.007 + 0.5 s
        acc, _ = stream_signal(s, t0=5.0, origin_s=-0.007)(at)
        assert acc[0, 0] == pytest.approx(np.interp(0.493, s.t, s.acc[:, 0]), abs=1e-9)


def test_the_knee_bends_window_survives_a_crash(tmp_path):
    from sensor_io.recorder import Recorder, recording_from_journal
    from sensor_io.recording import calibration_movement_window

    r = Recorder(tmp_path / "c.sdj", test_leg="left")
    t = np.arange(0.0, 1.0, 0.01)
    r.add_samples("pelvis", t, np.tile([0.0, 0.0, 9.81], (len(t), 1)), np.zeros((len(t), 3)))
    r.set_calibration_movement(3.05, 13.1)
    assert calibration_movement_window(r.recording()) == (3.05, 13.1)
    r.journal.sync()  # then the process dies: no close
    rec, report = recording_from_journal(tmp_path / "c.sdj")
    assert not report.closed and calibration_movement_window(rec) == (3.05, 13.1)

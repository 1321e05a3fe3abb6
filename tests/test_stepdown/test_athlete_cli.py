"""`stepdown record --sound --live-page` (issue 13): cues without an audio device, the page
served during the run, and its address options refused in one line."""

import socket

import pytest

from sensor_io.recording_io import read_recording
from stepdown.cli import main

VIRTUAL = ["--emulate", "--emulate-speed", "0"]
BASE = ["record", *VIRTUAL, "--leg", "left", "--athlete", "a-1", "--pelvis", "x", "--thigh", "x"]


def test_record_with_cues_and_page_marks_the_set_and_cues_each_rep(capsys, tmp_path, monkeypatch):
    pytest.importorskip("analysis.pipeline")
    monkeypatch.setitem(__import__("sys").modules, "sounddevice", None)  # as on a machine without it
    out = tmp_path / "r.parquet"
    rc = main([*BASE, "--seed", "8", "--sound", "--live-page", "--page-address", "127.0.0.1:0",
               "--out", str(out)])
    text = capsys.readouterr().out
    assert rc == 0, text
    assert "sound: no audio library" in text and "live page: http://127.0.0.1:" in text
    reps = [line for line in text.splitlines() if line.startswith("rep ")]
    cues = [line for line in text.splitlines() if line.startswith("cue: rep ") and "corrected" not in line]
    assert len(reps) == len(cues) == 5  # and a cue again for a rep whose final result corrects it
    assert text.index("cue: set 1: go") < text.index(cues[0]) < text.index("cue: set 1 done: 5 reps")
    events = read_recording(out).extra["events"]
    assert [(e["what"], e.get("set")) for e in events if e["what"].startswith("set_")] == \
        [("set_start", 1), ("set_end", 1)]


def test_the_page_shows_the_sensors_while_the_athlete_calibrates(capsys, tmp_path, monkeypatch):
    from stepdown.athlete.feedback import LiveFeedback

    seen = []
    phase, watch = LiveFeedback.phase, LiveFeedback.watch_sensors

    def on_phase(self, name, t):
        seen.append(name)
        phase(self, name, t)

    def on_watch(self, t):
        watch(self, t)
        if seen[-1] == "calibrating":
            seen.append([s["state"] for s in self.bus.state().get("sensors", [])])

    monkeypatch.setattr(LiveFeedback, "phase", on_phase)
    monkeypatch.setattr(LiveFeedback, "watch_sensors", on_watch)
    rc = main([*BASE, "--no-score", "--duration", "8", "--live-page", "--page-address",
               "127.0.0.1:0", "--out", str(tmp_path / "r.parquet")])
    assert rc == 0, capsys.readouterr().out
    calibrating = seen[seen.index("calibrating") + 1:seen.index("bends")]
    assert calibrating and calibrating[0] == ["streaming", "streaming"]  # before the bends, "go"


@pytest.mark.parametrize("address, cert, message", [
    ("127.0.0.1:http", False, "--page-address must be HOST:PORT"),
    ("127.0.0.1:70000", False, "port 0-65535"),
    ("0.0.0.0:8766", False, "needs HTTPS: give --page-cert and --page-key"),
    ("0.0.0.0:8766", True, "no accounts yet for the live page"),
])
def test_bad_page_options_are_refused_in_one_line(capsys, tmp_path, monkeypatch, address, cert, message):
    monkeypatch.setenv("STEPDOWN_HOME", str(tmp_path / "home"))
    tls = ["--page-cert", str(tmp_path / "c.pem"), "--page-key", str(tmp_path / "k.pem")] if cert else []
    rc = main([*BASE, "--live-page", "--page-address", address, *tls, "--out", str(tmp_path / "r.parquet")])
    err = capsys.readouterr().err
    assert rc == 2 and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_a_busy_port_is_one_line(capsys, tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        rc = main([*BASE, "--live-page", "--page-address", f"127.0.0.1:{port}",
                   "--out", str(tmp_path / "r.parquet")])
    captured = capsys.readouterr()
    assert rc == 2 and f"cannot listen on 127.0.0.1:{port}" in captured.err
    assert "Traceback" not in captured.err + captured.out and "ERROR" not in captured.err

"""LiveFeedback (issue 13): cues and page state from the record loop's moments, and the
coach's controls written into the recording like the CLI's options."""

import asyncio

import numpy as np
import pytest

from sensor_io.ble_client import SensorStatus
from sensor_io.recorder import Recorder
from sensor_io.recording_io import read_recording
from stepdown.athlete.bus import EventBus
from stepdown.athlete.feedback import ControlError, LiveFeedback, parse_control


class Cues:
    def __init__(self):
        self.played = []

    def play(self, cue):
        self.played.append(cue.text)

    def close(self):
        pass


def rep(index, end_s, **items):
    base = {"arm": 0, "trunk": 0, "pelvis": 0, "knee": 0, "descent": 0, "pain": 0}
    return {"index": index, "start_s": end_s - 3, "end_s": end_s, "total": sum(items.values()),
            "items": {**base, **items}, "borderline": []}


@pytest.fixture
def live(tmp_path):
    rec = Recorder(tmp_path / "t.sdj", test_leg="left")
    status = {"pelvis": SensorStatus("pelvis", "A", state="streaming", streaming_since=0.0, last_t=0.0),
              "thigh_left": SensorStatus("thigh_left", "B", state="streaming", streaming_since=0.0,
                                         last_t=0.0, battery_v=3.9)}
    fb = LiveFeedback(rec, status, output=Cues(), bus=EventBus(), log=lambda line: None)
    yield fb, rec, status
    rec.close()


def add_data(rec, t_end):
    t = np.arange(0.0, t_end, 0.01)
    for s in ("pelvis", "thigh_left"):
        rec.add_samples(s, t, np.tile([0, 0, 9.81], (len(t), 1)), np.zeros((len(t), 3)))


def fresh(status, t):
    for st in status.values():
        st.last_t = t


def tick(fb, status, t):
    """A poll of the record loop while every sensor streams."""
    fresh(status, t)
    fb.tick(t)


def events(rec, what):
    return [e for e in rec.events if e["what"] == what]


def test_a_test_with_coach_controls_is_recorded_in_the_file(live, tmp_path):
    fb, rec, status = live
    fb.phase("calibrating", 0.0)
    fb.phase("go", 3.0)
    fb.control("band", True)
    tick(fb, status, 3.1)
    fb.rep(rep(1, 7.0, knee=1), 7.2)
    fb.rep(rep(2, 11.0), 11.3)
    fb.control("pain", 3)                   # for rep 2, the last one
    tick(fb, status, 11.5)
    fb.control("stop_set")
    tick(fb, status, 12.0)
    fb.control("band", False)
    fb.control("start_set")
    tick(fb, status, 13.0)
    fb.rep(rep(3, 17.0, pelvis=1), 17.2)    # pain list grows with the reps: 0 until marked
    fresh(status, 20.0)
    fb.phase("done", 20.0)
    assert fb.output.played == ["set 1: go", "rep 1: knee out", "rep 2: good", "set 1 done: 2 reps",
                                "set 2: go", "rep 3: hips level", "set 2 done: 1 reps"]
    add_data(rec, 20.0)
    out, problem = rec.finish(tmp_path / "t.parquet")
    written = read_recording(tmp_path / "t.parquet")
    assert written.pain_nrs == [0.0, 3.0, 0.0]
    got = [(e["what"], {k: v for k, v in e.items() if k not in ("what", "t")})
           for e in written.extra["events"]]
    assert got == [("set_start", {"set": 1, "band": False}), ("band", {"on": True}),
                   ("pain", {"rep": 2, "nrs": 3.0}), ("set_end", {"set": 1, "reps": 2}),
                   ("band", {"on": False}), ("set_start", {"set": 2, "band": False}),
                   ("set_end", {"set": 2, "reps": 1})]
    assert problem is None and out.pain_nrs == written.pain_nrs


def test_the_page_state_follows_the_test(live):
    fb, rec, status = live
    fb.phase("go", 3.0)
    fb.rep(rep(1, 7.0, knee=2, pelvis=1), 7.25)
    state = fb.bus.state()
    last = state["last_rep"]
    assert (last["index"], last["total"], last["category"], last["fix"]) == (1, 3, "medium", "knee out")
    assert last["lag_s"] == pytest.approx(0.25)
    assert state["set"] == {"number": 1, "active": True, "target": 5,
                            "reps": [{"index": 1, "status": "final", "total": 3, "category": "medium",
                                      "fix": "knee out", "pain": None}]}
    for st in status.values():
        st.last_t = 7.3
    fb.tick(7.3)
    assert [s["state"] for s in fb.bus.state()["sensors"]] == ["streaming", "streaming"]
    assert fb.bus.state()["sensors"][1]["battery_v"] == 3.9


def test_the_knee_bends_are_cued_and_shown_before_go(live):
    fb, rec, status = live
    fb.phase("calibrating", 0.0)
    fb.phase("bends", 3.0)
    state = fb.bus.state()
    assert state["phase"] == "bends" and not fb.set_active  # no set runs during the bends
    assert state["cue"]["kind"] == "bends" and "both feet" in state["cue"]["words"]
    assert fb.output.played == ["knee bends: 2-3 slow bends on both feet, then stand on the test leg"]
    fb.phase("go", 13.0)
    assert fb.set_active and fb.bus.state()["cue"]["kind"] == "set_start"


def test_a_whole_test_pain_becomes_per_rep_when_one_rep_is_marked(tmp_path):
    rec = Recorder(tmp_path / "p.sdj", test_leg="left", pain_nrs=2.0)
    fb = LiveFeedback(rec, {}, log=lambda line: None)
    fb.phase("go", 0.0)
    fb.rep(rep(1, 4.0), 4.0)
    fb.rep(rep(2, 8.0), 8.0)
    fb.control("pain", 5)
    fb.tick(8.5)
    fb.rep(rep(3, 12.0), 12.0)
    assert rec.meta["pain_nrs"] == [2.0, 5.0, 2.0]
    rec.close()


def test_pain_before_any_rep_marks_nothing(live):
    fb, rec, _ = live
    fb.control("pain", 4)
    fb.tick(1.0)
    assert rec.meta["pain_nrs"] is None and not events(rec, "pain")


def test_a_silent_sensor_is_cued_once_and_shown(live):
    fb, rec, status = live
    status["pelvis"].last_t = 10.0
    status["thigh_left"].last_t = 7.0
    fb.tick(10.0)                           # thigh silent 3 s > 2 s
    fb.tick(10.1)
    assert fb.output.played == ["sensor thigh_left: no data"]
    assert [e["sensor"] for e in events(rec, "sensor_lost")] == ["thigh_left"]
    assert [s["state"] for s in fb.bus.state()["sensors"]] == ["streaming", "no data"]
    status["thigh_left"].last_t = 10.1      # back
    fb.tick(10.2)
    assert [s["state"] for s in fb.bus.state()["sensors"]] == ["streaming", "streaming"]


@pytest.mark.parametrize("action, value, error", [
    ("explode", None, "unknown control"), ("pain", 11, "0-10"), ("pain", "3", "0-10"),
    ("pain", True, "0-10"), ("band", 1, "true or false"), (None, None, "unknown control")])
def test_bad_controls_are_refused(action, value, error):
    with pytest.raises(ControlError, match=error):
        parse_control(action, value)


def test_bus_listeners_get_the_state_then_every_event():
    bus = EventBus({"phase": "go"})

    async def scenario():
        got = []

        async def listen():
            async for ev in bus.listen():
                got.append(ev)

        task = asyncio.create_task(listen())
        while bus.listeners == 0:
            await asyncio.sleep(0.001)
        bus.publish("rep", last_rep={"index": 1})
        bus.publish("band", band=True)
        bus.close()
        await asyncio.wait_for(task, 5)
        return got

    got = asyncio.run(scenario())
    assert [e["kind"] for e in got] == ["state", "rep", "band"]
    assert got[0]["state"] == {"phase": "go"}
    assert got[2]["state"] == {"phase": "go", "last_rep": {"index": 1}, "band": True}
    assert got[1]["seq"] < got[2]["seq"] and bus.listeners == 0


def test_a_provisional_rep_is_shown_at_once_then_confirmed_corrected_or_withdrawn(live):
    fb, rec, status = live
    cues = fb.output.played
    fb.phase("go", 3.0)
    fb.rep(rep(1, 7.0, knee=1), 6.9, "provisional")
    assert fb.bus.state()["last_rep"]["status"] == "provisional"
    assert [r["status"] for r in fb.bus.state()["set"]["reps"]] == ["provisional"]
    fb.rep(rep(1, 7.1, knee=1), 7.3, "confirmed")      # the same result: no second cue
    state = fb.bus.state()
    assert state["last_rep"]["status"] == "confirmed"
    assert [r["status"] for r in state["set"]["reps"]] == ["confirmed"]
    assert cues == ["set 1: go", "rep 1: knee out"]
    fb.rep(rep(2, 12.0, knee=1), 11.9, "provisional")
    fb.rep(rep(2, 12.1), 12.3, "corrected")            # no fault after all: cued again
    assert cues[-2:] == ["rep 2: knee out", "rep 2 corrected: good"]
    assert [(r["index"], r["status"], r["total"]) for r in fb.bus.state()["set"]["reps"]] == \
        [(1, "confirmed", 1), (2, "corrected", 0)]
    fb.rep(rep(3, 17.0, pelvis=1), 16.9, "provisional")
    fb.control("pain", 3)                              # marked while provisional
    tick(fb, status, 17.0)
    assert rec.meta["pain_nrs"] == [0.0, 0.0, 3.0]
    fb.rep(rep(3, 17.0, pelvis=1), 20.0, "withdrawn")  # not a rep after all: off the set
    assert rec.meta["pain_nrs"] == [0.0, 0.0]          # its pain goes with it
    state = fb.bus.state()
    assert state["last_rep"]["status"] == "withdrawn"
    assert [r["index"] for r in state["set"]["reps"]] == [1, 2]

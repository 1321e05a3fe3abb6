"""The hook `stepdown record` calls during a live test (see ``LiveRun.feedback``).

:class:`LiveFeedback` turns the record loop's moments (calibration, go, each scored rep,
sensor status, the end) into cues (:mod:`.sound`) and live-page state (:mod:`.bus`), and
applies the coach's controls to the recording:

- ``start_set`` / ``stop_set``: events ``set_start`` {set, band} / ``set_end`` {set, reps}.
  The first set starts at "go"; an open set ends with the recording.
- ``pain`` N (0-10) for the last rep: the recording's ``pain_nrs`` becomes a per-rep list
  (reps nobody marked: 0, or the whole-test number given with ``--pain``), exactly the
  field ``--pain`` fills, and an event ``pain`` {rep, nrs}.
- ``band`` on/off (a resistance band around the knees, the article's band feedback):
  an event ``band`` {on}; ``set_start`` events carry the band state too.

Controls may arrive from any thread (the page's server): they are queued and applied by
:meth:`LiveFeedback.tick` on the record loop, which alone writes the recording.
Times are seconds on the recording's common clock.
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stepdown.athlete.bus import EventBus
from stepdown.athlete.cues import (
    FIX_WORDS,
    Cue,
    bends_cue,
    corrected_cue,
    rep_cue,
    sensor_lost_cue,
    set_end_cue,
    set_start_cue,
    thing_to_fix,
)
from stepdown.athlete.sound import CueOutput
from stepdown.live.live_rep import LiveRep, RepTrace

if TYPE_CHECKING:
    from sensor_io.ble_client import SensorStatus
    from sensor_io.json_doc import JSONDoc

SET_TARGET_REPS = 5
"""Reps per set shown as the set's progress (the test's 5 step-downs)."""
STATUS_EVERY_S = 1.0
ACTIONS = ("start_set", "stop_set", "pain", "band")


class ControlError(ValueError):
    """A coach control that cannot be applied (unknown action, bad value)."""


def parse_control(action: object, value: object) -> tuple[str, Any]:
    """Validate a control from the page or the keyboard: (action, value).

    Parameters
    ----------
    action : object
        One of :data:`ACTIONS`.
    value : object
        ``pain``: a number 0-10 (NRS); ``band``: a bool; otherwise ignored.

    Returns
    -------
    tuple of (str, Any)
        The action and its value (pain as float; None for the set controls).

    Raises
    ------
    ControlError
        An unknown action or a bad value.
    """
    if action not in ACTIONS:
        raise ControlError(f"unknown control {action!r} (expected one of {', '.join(ACTIONS)})")
    if action == "pain":
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 10:
            raise ControlError(f"pain must be a number 0-10, not {value!r}")
        return "pain", float(value)
    if action == "band":
        if not isinstance(value, bool):
            raise ControlError(f"band must be true or false, not {value!r}")
        return "band", value
    return str(action), None


def category(total: int | None) -> str | None:
    """The checklist category of a total: 0-1 good, 2-3 medium, 4+ poor.

    Parameters
    ----------
    total : int or None
        The checklist total, 0-8.

    Returns
    -------
    str or None
        ``good``, ``medium`` or ``poor``; None for no total.
    """
    from analysis.checklist import category as of_total

    return None if total is None else of_total(int(total))


@dataclass(frozen=True, slots=True)
class SensorLink:
    """One sensor as the live page's sensor panel shows it."""

    placement: str
    """Where the sensor is worn."""
    model: str
    """The device's model, once known ("?" before)."""
    state: str
    """Its link state (:attr:`sensor_io.ble_client.SensorStatus.state`), or "no data" when
    it has been silent long enough to count as lost."""
    battery_v: float | None
    """Battery voltage, V, where the device reports it."""
    samples: int
    """Samples received."""
    gaps: int
    """Gaps marked."""

    @classmethod
    def of(cls, placement: str, status: SensorStatus, lost: bool) -> SensorLink:
        """The panel's row of a sensor's live figures.

        Parameters
        ----------
        placement : str
            Where the sensor is worn.
        status : SensorStatus
            The sensor's live figures.
        lost : bool
            It has been silent long enough to count as lost.

        Returns
        -------
        SensorLink
            The row.
        """
        return cls(placement, status.model, "no data" if lost else status.state,
                   status.battery_v, status.samples, status.gaps)

    def to_json(self) -> JSONDoc:
        """The row as the page's ``sensors`` list holds it.

        Returns
        -------
        dict
            ``placement``, ``model``, ``state``, ``battery_v`` (V or null), ``samples``,
            ``gaps``.
        """
        return {"placement": self.placement, "model": self.model, "state": self.state,
                "battery_v": self.battery_v, "samples": self.samples, "gaps": self.gaps}


@dataclass
class LiveFeedback:
    """Cues and page state for one live test.

    Times are seconds on the recording's common clock.
    """

    recorder: Any
    """The test's :class:`~sensor_io.recorder.Recorder` (events and pain go there)."""
    sensors: dict[str, SensorStatus]
    """Placement -> :class:`~sensor_io.ble_client.SensorStatus` (read on each tick)."""
    output: CueOutput | None = None
    """Where cues go (sound or text); None: no cues."""
    bus: EventBus | None = None
    """The live page's state; None: no page."""
    silent_s: float = 2.0
    """A streaming sensor silent this long (s) counts as lost."""
    target_reps: int = SET_TARGET_REPS
    """Reps per set shown as the set's progress."""
    log: Callable[[str], None] = print
    """Where lines for the coach go (the terminal)."""
    server: Any = None
    """The live page's PageServer, stopped by close()."""
    keys: Any = None
    """The terminal's TerminalKeys, restored by close()."""
    controls: queue.Queue = field(default_factory=queue.Queue)
    """Coach controls queued from any thread, applied by :meth:`tick`."""
    set_number: int = 0
    """The current (or last) set's number; 0 before the first."""
    set_active: bool = False
    """A set is running."""
    set_reps: list[JSONDoc] = field(default_factory=list)
    """The page's view of each rep of the current set."""
    band: bool = False
    """The band is on."""
    last_rep: JSONDoc | None = None
    """The page's view of the last rep scored; None before any."""
    _lost: set[str] = field(default_factory=set)
    """Placements of the sensors counted as lost."""
    _pain_pad: float = 0.0
    """Pain of reps nobody marked: 0, or the whole-test --pain."""
    _cue: JSONDoc | None = None
    """The last cue, for the page: id, kind, text, words, tones."""
    _next_status: float = float("-inf")
    """When the sensor panel is refreshed next, s."""

    # -- from the record loop ---------------------------------------------------------------
    def phase(self, name: str, t: float) -> None:
        """The test's phase: 'calibrating', 'bends', 'go' or 'done'.

        'bends': the guided knee bends; 'go': the first set starts.

        Parameters
        ----------
        name : str
            The phase.
        t : float
            When it starts, s.
        """
        if name == "bends":
            self._play(bends_cue())
        elif name == "go":
            self._start_set(t)
        elif name == "done":
            self.tick(t)  # controls sent just before the end still count
            if self.set_active:
                self._stop_set(t)
        self._publish("phase", phase=name)

    def rep(self, rep: LiveRep, t: float, status: str = "final") -> None:
        """A rep scored (maybe with a ``trace``), with its status.

        Its status (:meth:`stepdown.live.reps.RepTracker.accept`): "provisional" (shown and
        cued at once, counted when final), "final", "confirmed" / "corrected" (the final result
        of the provisional rep; a correction that changes the cue is cued again), "withdrawn"
        (the provisional rep was not a rep).

        Parameters
        ----------
        rep : LiveRep
            The scored rep, numbered and timed as in the session.
        t : float
            When it was scored, s (the page shows the lag from the rep's end).
        status : str
            Its status, as above.
        """
        index = rep.index
        earlier = next((r for r in self.set_reps if r["index"] == index), None)
        if earlier is None and self.last_rep is not None and self.last_rep["index"] == index:
            earlier = self.last_rep
        if status == "withdrawn":
            pain = self.recorder.meta.get("pain_nrs")
            if isinstance(pain, list) and len(pain) >= index:  # marked for it: not a rep
                self.recorder.set_pain(pain[:index - 1])
                self.log(f"pain marked for rep {index} dropped: it was not a rep")
            self.set_reps = [r for r in self.set_reps if r["index"] != index]
            if self.last_rep is not None and self.last_rep["index"] == index:
                self.last_rep = {**self.last_rep, "status": "withdrawn"}
            self._publish("rep", last_rep=self.last_rep, set=self._set_state())
            return
        if status != "provisional":  # only final reps count in the recording's pain list
            self._extend_pain(index)
        items = rep.items
        cue = rep_cue(index, items)
        fix = thing_to_fix(items)
        summary = {  # the live page's view of the rep (JSON to the browser)
            "index": index, "status": status, "total": rep.total,
            "category": category(rep.total),
            "fix": FIX_WORDS[fix] if fix else None, "fix_item": fix, "cue": cue.text,
            "items": items, "borderline": list(rep.borderline),
            "pain": self._pain_of(index), "trace": None if rep.trace is None else rep.trace.to_json(),
            "set": self.set_number if self.set_active else None,
            "bottom_s": rep.bottom_s, "end_s": rep.end_s, "lag_s": t - rep.end_s,
        }
        if earlier is not None and earlier.get("pain") is not None:
            summary["pain"] = earlier["pain"]  # marked by the coach while provisional
        self.last_rep = summary
        if earlier is not None and earlier in self.set_reps:
            self.set_reps[self.set_reps.index(earlier)] = summary
        elif self.set_active:
            self.set_reps.append(summary)
        if earlier is None:
            self._play(cue)
        elif status == "corrected" and earlier.get("cue") != cue.text:
            self._play(corrected_cue(index, items))
        self._publish("rep", last_rep=summary, set=self._set_state(), live_trace=None)

    def trace(self, trace: RepTrace, index: int, t: float) -> None:
        """The knee and pelvis traces of rep ``index``, in progress at ``t`` (s).

        Shown until the rep's result comes (which resets them).

        Parameters
        ----------
        trace : RepTrace
            The rep's measures over time so far.
        index : int
            The rep's number in the session.
        t : float
            The common clock now, s.
        """
        self._publish("trace", live_trace={**trace.to_json(), "index": index, "t_s": t})

    def tick(self, t: float) -> None:
        """Called every poll of the record loop.

        Applies queued controls, notices lost sensors, and refreshes the sensor panel about
        once a second.

        Parameters
        ----------
        t : float
            The recording's common clock now, s.
        """
        while True:
            try:
                action, value = self.controls.get_nowait()
            except queue.Empty:
                break
            self._apply(action, value, t)
        self.watch_sensors(t)

    def watch_sensors(self, t: float) -> None:
        """Notices lost sensors (cue, event) and refreshes the sensor panel about once a second.

        Also during calibration, when the controls wait for "go".

        Parameters
        ----------
        t : float
            The recording's common clock now, s.
        """
        lost = {p for p, st in self.sensors.items() if st.silent_for(t) > self.silent_s}
        for placement in sorted(lost - self._lost):
            self.recorder.add_event("sensor_lost", t, sensor=placement)
            self._play(sensor_lost_cue(placement))
        changed = lost != self._lost
        self._lost = lost
        if changed or t >= self._next_status:
            self._next_status = t + STATUS_EVERY_S
            self._publish("status", sensors=[s.to_json() for s in self.sensor_panel()])

    # -- from the page or the keyboard (any thread) ------------------------------------------
    def control(self, action: object, value: object = None) -> None:
        """Queue a coach control; raises :class:`ControlError` if it is not valid.

        Parameters
        ----------
        action : object
            One of :data:`ACTIONS`.
        value : object
            Its value (:func:`parse_control`).

        Raises
        ------
        ControlError
            An unknown action or a bad value.
        """
        self.controls.put(parse_control(action, value))

    # -- internals ---------------------------------------------------------------------------
    def _apply(self, action: str, value: Any, t: float) -> None:
        if action == "start_set" and not self.set_active:
            self._start_set(t)
        elif action == "stop_set" and self.set_active:
            self._stop_set(t)
        elif action == "band" and value != self.band:
            self.band = value
            self.recorder.add_event("band", t, on=value)
            self.log(f"band {'on' if value else 'off'}")
            self._publish("band")
        elif action == "pain":
            self._mark_pain(value, t)

    def _start_set(self, t: float) -> None:
        self.set_number += 1
        self.set_active, self.set_reps = True, []
        self.recorder.add_event("set_start", t, set=self.set_number, band=self.band)
        self._play(set_start_cue(self.set_number))
        self._publish("set_start", set=self._set_state())

    def _stop_set(self, t: float) -> None:
        self.set_active = False
        self.recorder.add_event("set_end", t, set=self.set_number, reps=len(self.set_reps))
        self._play(set_end_cue(self.set_number, len(self.set_reps)))
        self._publish("set_end", set=self._set_state())

    def _mark_pain(self, nrs: float, t: float) -> None:
        if self.last_rep is None:
            self.log("pain: no rep scored yet, nothing marked")
            return
        index = int(self.last_rep["index"])
        pain = self._pain_list(index)
        pain[index - 1] = nrs
        self.recorder.set_pain(pain)
        self.recorder.add_event("pain", t, rep=index, nrs=nrs)
        self.log(f"pain {nrs:g} marked for rep {index}")
        self.last_rep["pain"] = nrs
        for r in self.set_reps:
            if r["index"] == index:
                r["pain"] = nrs
        self._publish("pain", last_rep=self.last_rep, set=self._set_state())

    def _pain_list(self, n_reps: int) -> list[float]:
        """The recording's pain as a per-rep list covering ``n_reps`` reps: a whole-test
        number applies to every rep; reps nobody reported get 0."""
        pain = self.recorder.meta.get("pain_nrs")
        if pain is None:
            pain = []
        elif not isinstance(pain, list):
            self._pain_pad = float(pain)
            pain = [self._pain_pad] * n_reps
        return list(pain) + [self._pain_pad] * (n_reps - len(pain))

    def _extend_pain(self, n_reps: int) -> None:
        """Once the coach has marked pain (a per-rep list), each new rep gets 0 until
        marked, so the list keeps matching the reps."""
        pain = self.recorder.meta.get("pain_nrs")
        if any(e.get("what") == "pain" for e in self.recorder.events) and \
                isinstance(pain, list) and len(pain) < n_reps:
            self.recorder.set_pain(self._pain_list(n_reps))

    def _pain_of(self, index: int) -> float | None:
        pain = self.recorder.meta.get("pain_nrs")
        if isinstance(pain, list):
            return pain[index - 1] if index <= len(pain) else None
        return pain

    def _set_state(self) -> JSONDoc:
        return {"number": self.set_number, "active": self.set_active,
                "target": self.target_reps,
                "reps": [{k: r.get(k) for k in ("index", "status", "total", "category", "fix",
                                                "pain")}
                         for r in self.set_reps]}

    def sensor_panel(self) -> list[SensorLink]:
        """The live page's sensor panel now.

        Returns
        -------
        list of SensorLink
            One row per sensor, in the order of :attr:`sensors`.
        """
        return [SensorLink.of(p, st, p in self._lost) for p, st in self.sensors.items()]

    def _play(self, cue: Cue) -> None:
        """Play the cue here, and hand it to the page (which plays it where its sound is on)."""
        if self.output is not None:
            self.output.play(cue)
        self._cue = {"id": self._cue["id"] + 1 if self._cue else 1, "kind": cue.kind,
                     "text": cue.text, "words": cue.words, "tones": [list(t) for t in cue.tones]}

    def _publish(self, kind: str, **changes: Any) -> None:
        if self.bus is not None:
            self.bus.publish(kind, band=self.band, cue=self._cue, **changes)

    def close(self) -> None:
        """Stop the cue output and the live page (its open streams end first), give the
        terminal back."""
        if self.keys is not None:
            self.keys.close()
        if self.output is not None:
            self.output.close()
        if self.bus is not None:
            self.bus.close()
        if self.server is not None:
            self.server.stop()

"""The slice of a live recording that scoring the next rep needs, so that the cost of a
live score does not grow with the session.

The analysis needs the calibration (the quiet standing at the start and the guided knee
bends, if asked for: everything up to "go") and the movement of the rep itself; nothing in
between.  :func:`live_window` joins the two:
the samples up to ``t_go`` and those since a moment of standing (the start of the last
rep shown, less a margin: that rep is analysed again, and the new ones after it), the
latter moved back in time to follow the former.  The athlete stands still at both
joints, so the join is as quiet as any pause between reps (joining at a rep's end, with
the thigh still flexed, leaves the orientation filter ~10° off for seconds); the
analysis of the window finds the new reps, and :func:`to_session_time` puts their times
back on the session clock.  On simulated tests the window's measures agree with the
whole recording's within 0.3 cm and 0.5° (tests/test_stepdown/test_live_window.py).

The sensor-to-segment frames need more than the window: the knee hinge found from the one
or two reps a window holds is less sure than from every rep so far (seed 3, rep 4: knee
0.75 cm against 1.29 cm from the recording so far, truth 1.67).  :func:`carry_frames`
keeps the frames found on the whole recording so far, found again each time the reps
shown have doubled (so their cost per rep stays constant on average), and the window is
analysed with them (``analyze(window, session=carried.calibration)``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from sensor_io.recorder import Recorder
from sensor_io.recording import CALIBRATION_MOVEMENT_KEY, Athlete, Recording, SensorStream

if TYPE_CHECKING:  # annotations only: the calibration loads scipy
    from analysis.result import Rep
    from calibration import Calibration

MARGIN_S = 0.5        # s of standing kept before the end of the last rep shown
MAX_RECENT_S = 20.0   # s: at most this much recent data (a rep lasts well under 10 s)
JOIN_S = 0.01         # s between the last calibration sample and the first recent one


def live_window(recorder: Recorder, t_go: float, since_s: float, now_s: float,
                margin_s: float = MARGIN_S, max_recent_s: float = MAX_RECENT_S,
                ) -> tuple[Recording, float]:
    """The calibration and the recent samples as one recording, and their time shift.

    The calibration: samples up to ``t_go``; the recent samples: from
    ``since_s - margin_s``, at most ``max_recent_s`` before ``now_s``.  Costs O(window),
    not O(session): only views are sliced.

    Parameters
    ----------
    recorder : Recorder
        The live recording so far.
    t_go : float
        "Go", the end of the calibration, s on the session clock.
    since_s : float
        Start of the last rep shown (or ``t_go``), s on the session clock.
    now_s : float
        Now, s on the session clock.
    margin_s : float
        Standing kept before ``since_s``, s.
    max_recent_s : float
        At most this much recent data, s.

    Returns
    -------
    recording : Recording
        The window (sensor frames, its metadata and gaps).
    shift : float
        Subtracted from the recent samples' times, s; 0 when the two overlap and the window
        is simply everything so far (before the first rep).
    """
    start = max(since_s - margin_s, now_s - max_recent_s)
    shift = max(0.0, start - t_go - JOIN_S)
    streams = {}
    for sensor in recorder.kept:
        s = recorder.stream(sensor)
        if s is None:
            continue
        cal_end = int(np.searchsorted(s.t, t_go, side="right"))
        first = int(np.searchsorted(s.t, start, side="left")) if shift > 0 else cal_end
        t = np.concatenate([s.t[:cal_end], s.t[first:] - shift])
        streams[sensor] = SensorStream(t, np.concatenate([s.acc[:cal_end], s.acc[first:]]),
                                       np.concatenate([s.gyr[:cal_end], s.gyr[first:]]))
    meta = recorder.meta
    extra: dict = {"gaps": [asdict(g) for g in recorder.gaps]} if recorder.gaps else {}
    if meta.get(CALIBRATION_MOVEMENT_KEY):  # before t_go: on the session's clock still
        extra[CALIBRATION_MOVEMENT_KEY] = meta[CALIBRATION_MOVEMENT_KEY]
    athlete = Athlete(**{k: v for k, v in (meta.get("athlete") or {}).items()
                         if k in Athlete.__dataclass_fields__})
    rec = Recording(streams=streams, test_leg=meta["test_leg"],
                    step_height_m=meta.get("step_height_m"), athlete=athlete,
                    sensors_meta={s: m for s, m in meta.get("sensors", {}).items()
                                  if s in streams},
                    pain_nrs=meta.get("pain_nrs"), started_at=meta.get("started_at"),
                    extra=extra)
    return rec, shift


def to_session_time(rep: Rep, shift: float, t_go: float) -> Rep:
    """A rep of the window's analysis with its times back on the session clock.

    Times after ``t_go`` move by the window's ``shift``.

    Parameters
    ----------
    rep : Rep
        A rep of the window's analysis (times s, window clock).
    shift : float
        The window's time shift, s.
    t_go : float
        "Go", s.

    Returns
    -------
    Rep
        The same rep, start, bottom and end on the session clock (s, rounded to ms).
    """
    def moved(t: float | None) -> float | None:
        return round(t + shift, 3) if t is not None and t > t_go else t

    return replace(rep, start_s=moved(rep.start_s), bottom_s=moved(rep.bottom_s),
                   end_s=moved(rep.end_s))


@dataclass(frozen=True)
class CarriedFrames:
    """The frames found on the whole recording when ``reps`` reps had been shown.

    (:func:`analysis.pipeline.session_calibration`.)
    """

    calibration: Calibration | None
    """None: they could not be found (each window then finds its own)."""
    reps: int
    """Reps shown when they were found."""


def frames_due(carried: CarriedFrames | None, reps_shown: int) -> bool:
    """Whether the frames must be found (again) on the recording so far.

    A rep has been shown and none are carried yet, or the reps shown have doubled since they
    were found.

    Parameters
    ----------
    carried : CarriedFrames or None
        The frames carried so far.
    reps_shown : int
        Reps shown so far.

    Returns
    -------
    bool
        True: find them now.
    """
    return reps_shown >= 1 and (carried is None or reps_shown >= 2 * carried.reps)


def find_frames(recording: Recording, reps_shown: int) -> CarriedFrames:
    """The frames of the whole ``recording`` so far, found when ``reps_shown`` reps had been shown.

    O(recording): the caller does it only when :func:`frames_due`. They are found with the
    settings the windows are analysed with (:func:`stepdown.live.scoring.live_config`).

    Parameters
    ----------
    recording : Recording
        The whole recording so far.
    reps_shown : int
        Reps shown so far.

    Returns
    -------
    CarriedFrames
        The frames and the rep count they were found at.

    Raises
    ------
    InputError
        The frames cannot be found in it.
    """
    from analysis.pipeline import session_calibration
    from stepdown.live.scoring import live_config

    return CarriedFrames(session_calibration(recording, config=live_config()), reps_shown)


def carry_frames(carried: CarriedFrames | None, recorder: Recorder, reps_shown: int
                 ) -> CarriedFrames | None:
    """The frames to analyse the next window with.

    ``carried`` as it is, or found again (:func:`frames_due`, :func:`find_frames`).

    Parameters
    ----------
    carried : CarriedFrames or None
        The frames carried so far.
    recorder : Recorder
        The live recording so far.
    reps_shown : int
        Reps shown so far.

    Returns
    -------
    CarriedFrames or None
        None before the first rep (the window is then the whole recording so far and finds
        its own).
    """
    if not frames_due(carried, reps_shown):
        return carried
    return find_frames(recorder.recording(), reps_shown)

"""Athlete-facing live feedback at the step (issue 13).

- :mod:`.cues`: what to tell the athlete after a rep, at set start/end, on a sensor drop-out.
- :mod:`.sound`: the cue as sound (tones, spoken words by espeak-ng) through sounddevice,
  or as a text line where no audio device exists.
- :mod:`.bus`: the live state and its events, fanned out to the page's listeners.
- :mod:`.page`: the big-screen live page (Starlette, server-sent events, local assets).
- :mod:`.scoring`: the knee and pelvis traces the page draws: each scored rep's, and the
  rep in progress (the record loop's rep tracker is :mod:`stepdown.live.reps`).
- :mod:`.feedback`: the hook `stepdown record` calls: it turns reps and sensor status
  into cues and page state, and applies the coach's controls to the recording.
"""

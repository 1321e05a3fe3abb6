"""The live record loop of `stepdown record` and what it needs to score reps as they end.

- :mod:`.loop`: :class:`~stepdown.live.loop.LiveRun`, the record loop (connect, calibrate,
  stream, status lines, storage warnings), calling the rep tracker and the feedback hook.
- :mod:`.reps`: which reps to show and when: the rep-end trigger's decisions, the live
  window, provisional and final results.
- :mod:`.window`: the slice of the recording that scoring the next rep needs.
- :mod:`.scoring`: the analysis pipeline as a live rep scorer.
- :mod:`.lines`: the terminal's status and rep lines.

The signal processing of the rep-end trigger is not app-specific: :mod:`analysis.rep_end`.
"""

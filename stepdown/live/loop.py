"""The live record loop of `stepdown record` (no typer here: testable and reusable).

:class:`LiveRun` connects the sensors one at a time, asks the athlete to stand still for
calibration, then streams: status lines, storage warnings, and each rep's result as it
ends (:class:`~stepdown.live.reps.RepTracker` decides when to score and what to show;
the feedback hook brings it to the athlete).  Times in s on the session's common clock.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from rich.console import Console

from sensor_io.errors import InputError, first_line
from stepdown.live.lines import rep_line, status_line
from stepdown.live.live_rep import LiveRep, RepTrace
from stepdown.live.reps import RepTracker
from stepdown.live.scoring import RepScorer

if TYPE_CHECKING:  # asyncio and the BLE stack load when a command runs, not for --help
    import asyncio

    from calibration.calibrate import Calibration
    from sensor_io.ble_client import StreamingSession
    from sensor_io.recorder import Recorder
    from sensor_io.recording import Recording
    from stepdown.athlete.feedback import LiveFeedback
    from stepdown.live.window import CarriedFrames
    from stepdown.record_guard import Interrupts

console = Console()

BENDS_S = 10.0  # s given for the guided knee bends (2-3 bends of 2-3.5 s, docs/recording.md)
BENDS_PROMPT = "2-3 slow knee bends on both feet, then stand on the test leg"
POLL_S = 0.05  # s between two turns of the record loop (half of it: the mean wait)
TRACE_EVERY_S = 0.1  # s between two updates of the rep in progress's trace (10 Hz)


def _interrupts() -> Interrupts:
    """A fresh record of stop signals (record_guard loads with the recorder, not for --help)."""
    from stepdown.record_guard import Interrupts

    return Interrupts()


@dataclass
class LiveRun:
    """One live test: streams from ``session`` into ``recorder`` and reports on ``console``.

    Times in s on the session's common clock.
    """

    session: StreamingSession
    """The streaming session: the sensors, their status and the common clock."""
    recorder: Recorder
    """Where the samples go (journal and recording)."""
    calibration_s: float = 3.0
    """Quiet standing asked for before "go" (s, common clock)."""
    bends_s: float = 0.0
    """Then the guided knee bends asked for this long (s; 0: not asked), their window written
    to the recording's metadata (the calibration finds the thigh's flexion axis in them;
    without them, from the reps)."""
    duration_s: float | None = None
    """Stop after this long on the common clock (None: until Ctrl-C)."""
    scorer: RepScorer | None = None
    """Called on the recording so far (in a worker thread, one call at a time); reps it returns
    that were not shown yet are printed with their items."""
    tracer: Callable[[Recording, float, Calibration | None], RepTrace | None] | None = None
    """(live window, end of the last rep shown in its time, the frames carried or None) -> the
    trace of the rep in progress (:func:`stepdown.athlete.scoring.live_tracer`), handed to
    the feedback every TRACE_EVERY_S while a rep is in progress and no scoring runs; None:
    no traces."""
    status_every_s: float = 5.0
    """Time between two status lines, s."""
    on_calibration_start: Callable[[], None] | None = None
    """Called when the athlete is asked to stand still (the emulation starts its simulated test
    then); None: nothing."""
    feedback: LiveFeedback | None = None
    """Cues, live page, coach controls; None: the terminal only."""
    score_errors: int = 0
    """How many analyses failed (not enough data yet, or a scoring bug)."""
    analyses: int = 0
    """How many times the recording so far was analysed."""
    interrupts: Interrupts = field(default_factory=_interrupts)
    """The stop signals received."""
    score_errors_said: int = 0
    """Scoring failures other than "not enough data yet"."""
    _connecting: bool = field(default=True, init=False)
    """Still connecting the sensors (a stop signal then stops at once)."""
    _failing: bool = field(default=False, init=False)
    """Journal writes failing."""
    _low_space_said: bool = field(default=False, init=False)
    """The low-disk warning has been printed."""
    _next_status: float = field(default=0.0, init=False)
    """When the next status line is due, s."""
    reps: RepTracker = field(init=False)
    """Which reps to show, when to score."""
    frames: CarriedFrames | None = field(default=None, init=False)
    """The sensor frames of the recording so far, which each live window is analysed with (a
    window's one or two reps find a less sure knee hinge: stepdown.live.window)."""

    def __post_init__(self) -> None:
        self.reps = RepTracker(self.recorder)

    async def run(self) -> None:
        """Connect, calibrate, stream until the duration or a stop signal (Ctrl-C,
        SIGTERM, SIGHUP: noted in ``interrupts``), then stop the sensors cleanly; a
        signal while connecting, or a second one, stops at once.  Returns normally when
        stopped by a signal; everything received is then in the recorder."""
        import asyncio

        from stepdown.record_guard import STOP_SIGNALS

        loop = asyncio.get_running_loop()
        main = asyncio.current_task()
        stop = asyncio.Event()
        self._connecting = True

        def on_signal(signum: int) -> None:
            self.interrupts.received.append(signum)
            stop.set()
            if self.interrupts.hurried:
                self.interrupts.at_once = True
            if (self._connecting or self.interrupts.hurried) and main is not None:
                main.cancel()

        installed = []
        for sig in STOP_SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, on_signal, sig)
                installed.append(sig)
        try:
            await self._stream(stop)
        except asyncio.CancelledError:
            if not self.interrupts.received:
                raise
            if self._connecting:  # disconnect whatever connected; nothing streamed yet
                await self.session.close()
            self.session.drain()  # decode what was received before the stop
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)

    async def _stream(self, stop: asyncio.Event) -> None:
        import asyncio

        session, rec = self.session, self.recorder
        console.print("connecting the sensors one at a time ...")
        await session.connect_all()
        self._connecting = False
        for st in session.status.values():
            console.print(f"  {st.placement}: {st.model} {st.address}: "
                          f"{st.setup or f'{st.rate_hz:g} Hz'}", highlight=False)
        runner = asyncio.create_task(session.run(stop))
        try:
            t_cal = session.now()
            rec.add_event("calibration_start", t_cal)
            if self.on_calibration_start is not None:
                self.on_calibration_start()
            if self.feedback is not None:
                self.feedback.phase("calibrating", t_cal)
            console.print(f"[bold]Stand still[/] on the step, hands on the waist "
                          f"({self.calibration_s:g} s) ...")
            await self._until(stop, lambda: session.now() >= t_cal + self.calibration_s)
            rec.add_event("calibration_end", session.now())
            if self.bends_s > 0 and not stop.is_set():
                await self._bends(stop)
            self.reps.start(session.now())
            if not stop.is_set():
                console.print("[bold green]Go:[/] 5 slow step-downs")
                if self.feedback is not None:
                    self.feedback.phase("go", self.reps.t_go)
            await self._live(stop)
        finally:
            stop.set()
            await runner
        self._mark_silent_sensors()
        if self.scorer is not None:
            await self._score("end")  # the reps that ended with the recording
        if self.feedback is not None:
            self.feedback.phase("done", session.now())

    async def _bends(self, stop: asyncio.Event) -> None:
        """Ask for the guided knee bends for ``bends_s`` and write the time asked for
        into the recording's metadata (the athlete may not do them: the calibration then
        says so and finds the flexion axis in the reps)."""
        session = self.session
        t0 = session.now()
        console.print(f"[bold]Knee bends:[/] {BENDS_PROMPT} ({self.bends_s:g} s) ...",
                      highlight=False)
        if self.feedback is not None:
            self.feedback.phase("bends", t0)
        await self._until(stop, lambda: session.now() >= t0 + self.bends_s)
        self.recorder.set_calibration_movement(t0, session.now())

    def _mark_silent_sensors(self) -> None:
        """Gaps to the end for sensors that vanished or never sent anything, and each
        sensor's quality summary in its metadata."""
        end = self.session.now()
        rec = self.recorder
        for st in self.session.status.values():
            rec.mark_silent_to_end([st.placement], st.streaming_since or 0.0, end)
        self._note_quality()

    def _note_quality(self) -> None:
        """Each sensor's quality summary into its metadata (and so into the journal: a
        recording recovered after a crash has it as of the last status line)."""
        from stepdown.completeness import sensor_quality

        gaps = [asdict(g) for g in self.recorder.gaps]
        for st in self.session.status.values():
            self.recorder.update_sensor_meta(st.placement, quality=sensor_quality(st, gaps))

    def _watch_storage(self) -> None:
        """One line when journal writes start failing (the samples stay in memory and the
        writer retries), one when they succeed again; one when the disk runs low."""
        from stepdown.record_guard import LOW_MINUTES, free_space_warning

        j = self.recorder.journal
        if j.error is not None and not self._failing:
            self._failing = True
            console.print(f"[yellow]warning:[/] cannot write the journal {j.path}: "
                          f"{j.error.strerror or j.error}; keeping the samples in memory "
                          "and retrying", highlight=False, soft_wrap=True)
        elif j.error is None and self._failing:
            self._failing = False
            console.print("journal writes work again: every sample is on disk", highlight=False)
        now = self.session.now()
        if not self._low_space_said and now > 1.0:
            rate = (j.written_bytes + j.pending_bytes) / now
            warning = free_space_warning(j.path.parent, rate, LOW_MINUTES)
            if warning:
                self._low_space_said = True
                console.print(f"[yellow]warning:[/] {warning}", highlight=False)

    async def _until(self, stop: asyncio.Event, done: Callable[[], bool]) -> None:
        """Turn (upkeep only: :meth:`_upkeep`) until ``done()`` or stopped."""
        import asyncio

        while not stop.is_set() and not done():
            if not self._upkeep(going=False):
                stop.set()
                break
            await asyncio.sleep(POLL_S)

    def _upkeep(self, going: bool) -> bool:
        """Each turn's upkeep, before "go" and after: the duration, the journal made durable
        (even when every stream is quiet), the feedback (sensor panel and lost sensors; the
        coach's controls once ``going``), storage warnings, and once going the status
        lines.  False: stop recording (the duration is over, or the disk has refused the
        journal too long)."""
        from stepdown.record_guard import MAX_PENDING_BYTES

        session = self.session
        if self.duration_s is not None and session.now() >= self.duration_s:
            return False
        self.recorder.journal.sync_if_due()
        if self.feedback is not None:
            (self.feedback.tick if going else self.feedback.watch_sensors)(session.now())
        self._watch_storage()
        if self.recorder.journal.pending_bytes > MAX_PENDING_BYTES:
            console.print("[red]stopping:[/] the disk has refused the journal for too "
                          "long (memory is filling up)", highlight=False)
            return False
        if going and session.now() >= self._next_status:
            console.print(status_line(session.status, session.now()), highlight=False)
            self._note_quality()
            self._next_status = session.now() + self.status_every_s
        return True

    async def _live(self, stop: asyncio.Event) -> None:
        import asyncio

        session = self.session
        self._next_status = session.now()
        scoring: asyncio.Task[None] | None = None
        tracing: asyncio.Task[None] | None = None
        next_trace = session.now()
        while not stop.is_set() and self._upkeep(going=True):
            idle = scoring is None or scoring.done()
            if self.scorer is not None and idle and (why := self.reps.due(session.now())):
                scoring = asyncio.create_task(self._score(why))
            elif idle and (tracing is None or tracing.done()) and session.now() >= next_trace \
                    and self._traced() and self.reps.in_rep():
                next_trace = session.now() + TRACE_EVERY_S
                tracing = asyncio.create_task(self._trace())
            await asyncio.sleep(POLL_S)
        for task in (scoring, tracing):
            if task is not None:
                await task

    @property
    def shown_reps(self) -> list[LiveRep]:
        """The reps shown so far, numbered and timed as in the session."""
        return self.reps.shown

    def _traced(self) -> bool:
        """Is the rep in progress drawn (a tracer and somewhere to show it)?"""
        return self.tracer is not None and self.feedback is not None

    async def _trace(self) -> None:
        """The trace of the rep in progress (analysed in a worker thread) to the feedback,
        unless a result of that rep came in the meantime (its own trace is then shown)."""
        import asyncio

        assert self.tracer is not None
        index = len(self.reps.shown) + 1
        frames = self.frames.calibration if self.frames is not None else None
        rec, shift = self.reps.window(self.session.now(), "trace")
        since = self.reps.last_end - (shift if self.reps.last_end > self.reps.t_go else 0.0)
        try:
            trace = await asyncio.to_thread(self.tracer, rec, since, frames)
        except Exception:  # a trace is a picture: its failure must cost nothing else
            return
        if trace is not None and self.reps.provisional is None and len(self.reps.shown) + 1 == index:
            self.feedback.trace(trace, index, self.session.now())

    async def _find_frames(self, reps_shown: int) -> CarriedFrames:
        """The sensor frames of the recording so far (in a worker thread); where they cannot
        be found, none (each window then finds its own) until the reps shown double."""
        import asyncio

        from stepdown.live.window import CarriedFrames, find_frames

        full = self.recorder.recording()  # taken in the loop's thread, which appends to it
        try:
            return await asyncio.to_thread(find_frames, full, reps_shown)
        except InputError:
            return CarriedFrames(None, reps_shown)

    async def _score(self, why: str | None = None) -> None:
        """Analyse the live window (in a worker thread) and show what it says: a rep's
        final result as a terminal line; every result (provisional, final, confirmed,
        corrected, withdrawn: :meth:`RepTracker.accept`) to the feedback hook."""
        import asyncio

        assert self.scorer is not None
        self.analyses += 1
        rec, shift = self.reps.window(self.session.now(), why)
        try:
            from stepdown.live.window import frames_due  # (the recorder loads pyarrow)

            # never between a rep's provisional and final result: both use the same frames
            if self.reps.provisional is None and frames_due(self.frames, shown := len(self.reps.shown)):
                self.frames = await self._find_frames(shown)
            reps = await asyncio.to_thread(self.scorer, rec, self.frames and self.frames.calibration)
        except InputError:
            self.score_errors += 1  # not enough data yet (no calibration, no thigh, ...)
            return
        except Exception as err:  # a scoring bug must not cost the recording
            self.score_errors += 1
            if self.score_errors_said == 0:
                console.print(f"[yellow]warning:[/] live scoring failed ({type(err).__name__}: "
                              f"{first_line(err)}); the recording goes on", highlight=False)
            self.score_errors_said += 1
            return
        for status, rep in self.reps.accept(reps, shift, self.session.now(), why):
            if status in ("final", "confirmed", "corrected"):
                console.print(rep_line(rep), highlight=False)
            if self.feedback is not None:
                self.feedback.rep(rep, self.session.now(), status)

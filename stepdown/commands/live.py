"""Live commands: `stepdown devices`, `stepdown record`, `stepdown recover`.

`record` streams BLE IMUs (:mod:`sensor_io.ble_client`) into a crash-safe journal
(:mod:`sensor_io.recorder`): it connects the sensors one at a time, asks the athlete to
stand still for calibration, then shows per-sensor status and, when a scorer is
available, each rep's items as it ends; Ctrl-C (or ``--duration``) ends it cleanly and
the recording is written.  ``--emulate`` streams a simulated test from emulated
sensors through the same code (a demo, and the end-to-end test).  `recover` rebuilds
the recording from a journal left behind by a crash or power loss.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from analysis.rules import ITEMS
from sensor_io.errors import InputError, first_line
from stepdown.cli import app

if TYPE_CHECKING:  # asyncio, numpy, scipy and the BLE stack load when a command runs, not for --help
    import asyncio

    import numpy as np

    from sensor_io.ble_client import SensorStatus, StreamingSession
    from sensor_io.recorder import Recorder, RecoveryReport
    from sensor_io.recording import Recording, SensorStream
    from stepdown.record_guard import Interrupts

console = Console()

RepScorer = Callable[["Recording"], list[dict[str, Any]]]
"""Per-rep live scoring: the recording so far -> the reps scored so far (analysis JSON
``reps`` entries: index, start_s, end_s, items, total)."""



def analysis_scorer(add: Callable[[Any, list[dict[str, Any]]], None] | None = None,
                    ) -> RepScorer | None:
    """The analysis pipeline's rep scorer, or None while it is not installed; ``add``
    (the analysis result, the reps) may add to each rep (the live page's traces)."""
    from stepdown.completeness import missing_minimum, not_measured

    try:
        from analysis.pipeline import analyze
    except ImportError:
        return None

    def score(rec: Recording) -> list[dict[str, Any]]:
        if missing := missing_minimum(rec):
            raise InputError(f"no data from {', '.join(missing)} yet")
        result = analyze(rec)
        reps = [{**rep, "not_measured": not_measured(rep, rec)}
                for rep in reps_with_borderline(result.to_json())]
        if reps:
            reps[-1]["settled"] = rep_end_settled(result.series.t, result.series.depth_rad,
                                                  reps[-1]["start_s"], reps[-1]["end_s"])
        if add is not None:
            add(result, reps)
        return reps

    return score


# -- the record loop (no typer here: testable and reusable) -------------------------------

def scan(*args: Any, **kwargs: Any) -> Any:
    """:func:`sensor_io.ble_client.scan` (a coroutine), imported when used: the BLE stack
    is not needed for --help. A module name, so a test can put a fake adapter in its place."""
    from sensor_io.ble_client import scan as ble_scan

    return ble_scan(*args, **kwargs)


def save(*args: Any, **kwargs: Any) -> Any:
    """:func:`stepdown.record_guard.save`, imported when used (it loads the recorder and the
    file formats). A module name, so a test can interrupt it."""
    from stepdown.record_guard import save as guarded_save

    return guarded_save(*args, **kwargs)


def _interrupts() -> Interrupts:
    """A fresh record of stop signals (record_guard loads with the recorder, not for --help)."""
    from stepdown.record_guard import Interrupts

    return Interrupts()


@dataclass
class LiveRun:
    """One live test: streams ``specs`` into ``recorder`` and reports on ``console``.

    calibration_s: quiet standing asked for before "go" (s, common clock).
    duration_s: stop after this long on the common clock (None: until Ctrl-C).
    scorer: called on the recording so far (in a worker thread, one call at a time);
    reps it returns that were not shown yet are printed with their items.
    """

    session: StreamingSession
    recorder: Recorder
    calibration_s: float = 3.0
    duration_s: float | None = None
    scorer: RepScorer | None = None
    status_every_s: float = 5.0
    on_calibration_start: Callable[[], None] | None = None
    feedback: Any = None  # stepdown.athlete.feedback.LiveFeedback: cues, live page, coach
    shown_reps: list[dict[str, Any]] = field(default_factory=list)
    score_errors: int = 0
    analyses: int = 0  # how many times the recording so far was analysed
    interrupts: Interrupts = field(default_factory=_interrupts)
    score_errors_said: int = 0  # scoring failures other than "not enough data yet"
    _t_go: float = field(default=0.0, init=False)      # common clock at "go"
    _t_scored: float = field(default=0.0, init=False)  # when the last analysis started
    _connecting: bool = field(default=True, init=False)
    _failing: bool = field(default=False, init=False)  # journal writes failing
    _low_space_said: bool = field(default=False, init=False)
    _unsettled_since: float | None = field(default=None, init=False)  # a rep's end may move

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
            watch = None if self.feedback is None else \
                (lambda: self.feedback.watch_sensors(session.now()))  # the page's sensor panel
            await self._until(stop, lambda: session.now() >= t_cal + self.calibration_s, watch)
            rec.add_event("calibration_end", session.now())
            self._t_go = self._t_scored = session.now()
            if not stop.is_set():
                console.print("[bold green]Go:[/] 5 slow step-downs")
                if self.feedback is not None:
                    self.feedback.phase("go", self._t_go)
            await self._live(stop)
        finally:
            stop.set()
            await runner
        self._mark_silent_sensors()
        if self.scorer is not None:
            await self._score()  # the reps that ended with the recording
        if self.feedback is not None:
            self.feedback.phase("done", session.now())

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

    async def _until(self, stop: asyncio.Event, done: Callable[[], bool],
                     each: Callable[[], None] | None = None) -> None:
        import asyncio

        while not stop.is_set() and not done():
            if each is not None:
                each()
            await asyncio.sleep(POLL_S)

    async def _live(self, stop: asyncio.Event) -> None:
        import asyncio

        from stepdown.record_guard import MAX_PENDING_BYTES

        session = self.session
        next_status = session.now()
        scoring: asyncio.Task[None] | None = None
        while not stop.is_set():
            if self.duration_s is not None and session.now() >= self.duration_s:
                break
            self.recorder.journal.sync_if_due()  # durable even when every stream is quiet
            if self.feedback is not None:
                self.feedback.tick(session.now())
            self._watch_storage()
            if self.recorder.journal.pending_bytes > MAX_PENDING_BYTES:
                console.print("[red]stopping:[/] the disk has refused the journal for too "
                              "long (memory is filling up)", highlight=False)
                break
            if session.now() >= next_status:
                console.print(status_line(session.status, session.now()), highlight=False)
                self._note_quality()
                next_status = session.now() + self.status_every_s
            if self.scorer is not None and (scoring is None or scoring.done()) and self._due():
                scoring = asyncio.create_task(self._score())
            await asyncio.sleep(POLL_S)
        if scoring is not None:
            await scoring

    def _due(self) -> bool:
        """Is a new analysis worth running? When the thigh has dipped since the last one
        and is back near standing (:func:`rep_may_have_ended`), or, as a safety net,
        FALLBACK_SCORE_S after the last one while the thigh is not deep in a rep (a rep
        analysed mid-way would end too early and be shown twice).  Analysing on every
        poll instead would cost a core on a long session."""
        now = self.session.now()
        if self._unsettled_since is not None and now - self._unsettled_since < RETRY_S:
            return True  # a rep found, its end not settled yet: look again
        thigh = self.recorder.stream(f"thigh_{self.recorder.meta['test_leg']}")
        if thigh is None or len(thigh) < 20:
            return now - self._t_scored >= FALLBACK_SCORE_S
        if now - self._t_scored >= FALLBACK_SCORE_S:
            return not mid_dip(thigh)
        return rep_may_have_ended(thigh, self._t_scored)

    async def _score(self) -> None:
        import asyncio

        assert self.scorer is not None
        self._t_scored = self.session.now()
        self.analyses += 1
        rec, shift = self._window()
        try:
            reps = await asyncio.to_thread(self.scorer, rec)
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
        now = self.session.now()
        if reps and not reps[-1].get("settled", True):  # the last rep's end may still move
            reps = reps[:-1]
            self._unsettled_since = self._unsettled_since or now
        else:
            self._unsettled_since = None
        for rep in self._new_reps(reps, shift):
            self.shown_reps.append(rep)
            console.print(rep_line(rep), highlight=False)
            if self.feedback is not None:
                self.feedback.rep(rep, self.session.now())


    def _window(self) -> tuple[Recording, float]:
        """What scoring the next rep needs: the calibration and the samples since the last
        rep shown (:mod:`stepdown.live_window`), so a score costs the same late in a long
        session as early; the pain reports of the reps already shown are left out."""
        from stepdown.live_window import live_window

        # from the quiet standing before the last rep shown: joining at a rep's end, where
        # the thigh is still flexed, would leave the orientation filter ~10° off for seconds
        since = self.shown_reps[-1]["start_s"] if self.shown_reps else self._t_go
        rec, shift = live_window(self.recorder, self._t_go, since, self.session.now())
        if shift > 0 and isinstance(rec.pain_nrs, list):
            rec.pain_nrs = rec.pain_nrs[len(self.shown_reps):]
        return rec, shift

    def _new_reps(self, reps: list[dict[str, Any]], shift: float) -> list[dict[str, Any]]:
        """The reps of a window's analysis not shown yet, numbered and timed as in the
        session."""
        from stepdown.live_window import to_session_time

        if shift == 0:  # the window was the whole recording so far
            return reps[len(self.shown_reps):]
        last_end = self.shown_reps[-1]["end_s"] if self.shown_reps else self._t_go
        fresh = [to_session_time(r, shift, self._t_go) for r in reps]
        # a rep whose bottom is before the last shown rep's end is that rep again
        fresh = [r for r in fresh if r["bottom_s"] > last_end]
        return [{**r, "index": len(self.shown_reps) + i} for i, r in enumerate(fresh, 1)]


SILENT_S = 2.0
POLL_S = 0.05          # s between two turns of the record loop (half of it: the mean wait)
FALLBACK_SCORE_S = 5.0
DIP_DEG = 12.0         # thigh tilt that makes a rep (the analysis' min depth is 8°)
BACK_RATIO = 0.1       # back within this share of the dip (+ BACK_DEG): the rep has ended
BACK_DEG = 1.0
NEAR_STANDING_DEG = 6.0
SETTLE_S, SETTLE_DEG = 0.05, 0.25  # ... or near standing and falling < 0.25° in 0.05 s
SETTLED_SHARE = 0.02     # of the rep's depth, over SETTLE_S: its end will not move
RETRY_S = 1.0          # s of looking again at each poll for a rep whose end may move
SMOOTH_S = 0.05        # trailing mean of the accelerometer (noise; a centred one lags)
LOOKBACK_S = 20.0      # at most this much of the thigh is read per poll


def thigh_tilt(s: SensorStream, since_s: float) -> tuple[np.ndarray, float]:
    """The thigh's tilt (deg) from its standing direction, per sample after ``since_s``
    (s, common clock; at most LOOKBACK_S before its last sample), and the sample
    interval (s).

    The tilt is the angle between the accelerometer's reading (trailing mean over
    SMOOTH_S) and its mean over the stream's first 2 s: gravity's direction, so no
    heading, no filter; only the first 2 s and the recent samples are read, so the
    cost does not grow with the session.  Empty when fewer than 10 samples are recent.
    """
    import numpy as np
    from scipy.ndimage import uniform_filter1d

    first = int(np.searchsorted(s.t, max(since_s, s.t[-1] - LOOKBACK_S), side="right"))
    if len(s) - first < 10:
        return np.empty(0), 0.0
    standing = s.acc[: np.searchsorted(s.t, s.t[0] + 2.0)].mean(axis=0)
    dt = float(np.median(np.diff(s.t[first:])))
    k = max(1, round(SMOOTH_S / dt)) | 1
    acc = uniform_filter1d(s.acc[first:], k, axis=0, origin=(k - 1) // 2)  # trailing
    cos = acc @ standing / (np.linalg.norm(acc, axis=1) * np.linalg.norm(standing))
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))), dt


def rep_may_have_ended(s: SensorStream, since_s: float) -> bool:
    """Cheap trigger for live scoring: has the test thigh (its stream ``s``) tilted more
    than DIP_DEG since ``since_s`` (s, common clock) and come back, either to within
    BACK_RATIO of that dip (+ BACK_DEG) or near standing and no longer falling?

    The analysis ends a rep where its depth is back within 5 % of the dip; firing at
    10 % (of the tilt, which runs a little ahead of the analysis' filtered depth) shows
    the rep sooner; a rep whose end may still move is held back (:func:`rep_end_settled`).
    """
    if len(s) < 20:
        return False
    tilt, dt = thigh_tilt(s, since_s)
    n = max(1, round(SETTLE_S / dt)) if len(tilt) else 0
    if len(tilt) <= n or tilt.max() <= DIP_DEG:
        return False
    now = tilt[-1]
    back = now < BACK_RATIO * tilt.max() + BACK_DEG
    settled = now < NEAR_STANDING_DEG and tilt[-n - 1] - now < SETTLE_DEG
    return bool(back or settled)


def rep_end_settled(t: np.ndarray, depth_rad: np.ndarray, start_s: float, end_s: float) -> bool:
    """Would more data leave this rep's end where it is?  The analysis ends a rep where
    its depth (``depth_rad``, rad, at times ``t``, s) is back within 5 % of the rep's
    depth above the lowest level after it; while the depth is still falling at the
    data's end, that level, and the end with it, move later.  Settled: SETTLE_S of data
    after the end, over which the depth fell less than SETTLED_SHARE of the rep's."""
    import numpy as np

    if len(t) < 2 or t[-1] - end_s < SETTLE_S:
        return False
    d = np.degrees(depth_rad)
    inside = (t >= start_s) & (t <= end_s)
    depth = float(d[inside].max() - d[-1]) if inside.any() else 0.0
    fall = float(d[int(np.searchsorted(t, t[-1] - SETTLE_S))] - d[-1])
    return fall < SETTLED_SHARE * depth


def mid_dip(s: SensorStream) -> bool:
    """Is the test thigh (stream ``s``) in a rep now: tilted beyond NEAR_STANDING_DEG and
    beyond half the deepest tilt of the last LOOKBACK_S?"""
    import numpy as np


    tilt, _ = thigh_tilt(s, -np.inf)
    return bool(len(tilt) and tilt[-1] > max(NEAR_STANDING_DEG, 0.5 * tilt.max()))


def status_line(status: dict[str, SensorStatus], now_s: float) -> str:
    """One line: per sensor state (NO DATA when silent > 2 s; a stopped or failed
    sensor with the device's reason), samples, gaps, reconnects, battery, signal."""
    parts = []
    for st in status.values():
        extra = f" {st.battery_v:.2f} V" if st.battery_v is not None else ""
        extra += f" {st.battery_pct} %" if st.battery_pct is not None else ""
        extra += f" {st.rssi} dBm" if st.rssi is not None else ""
        extra += f" {st.duplicates} dup" if st.duplicates else ""
        extra += f" {st.implausible} implausible" if st.implausible else ""
        extra += f" ({st.error})" if st.state in ("stopped", "failed") and st.error else ""
        state = "NO DATA" if st.silent_for(now_s) > SILENT_S else st.state
        parts.append(f"{st.placement} {state} {st.samples} smp {st.gaps} gaps"
                     f" {st.reconnects} reconn{extra}")
    return " | ".join(parts)


def reps_with_borderline(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The analysis' reps, each with ``borderline``: its items whose measure is within the
    measure's uncertainty of a threshold (they may flip as the test goes on)."""
    near: dict[int, set[str]] = {}
    for b in (doc.get("uncertainty") or {}).get("borderline", []):
        near.setdefault(b["rep"], set()).add(b["item"])
    return [{**rep, "borderline": [k for k in ITEMS if k in near.get(rep["index"], ())]}
            for rep in doc["reps"]]


def rep_line(rep: dict[str, Any]) -> str:
    """'rep 2: total 2  pelvis=1 knee=1~  (~ near its threshold)': the faults of a rep,
    a borderline item marked with ~ (shown even at 0, as knee=0~), and the items its
    sensors could not measure (``rep["not_measured"]``): 'rep 3: total 0  knee not
    measured', never 'no faults' then."""
    items = rep.get("items", {})
    near = set(rep.get("borderline", ()))
    faults = " ".join(f"{k}={items[k]}{'~' if k in near else ''}" for k in ITEMS
                      if items.get(k) or k in near)
    legend = "  (~ near its threshold)" if near else ""
    unmeasured = rep.get("not_measured") or []
    if unmeasured:
        return (f"rep {rep.get('index')}: total {rep.get('total')}  {faults + '  ' if faults else ''}"
                f"{', '.join(unmeasured)} not measured{legend}")
    return f"rep {rep.get('index')}: total {rep.get('total')}  {faults or 'no faults'}{legend}"


# -- emulation (demo and end-to-end test) ----------------------------------------------------
EMULATED_VENDOR = {"pelvis": "movesense", "thigh": "polar", "shank": "witmotion",
                   "trunk": "movesense", "wrist": "polar"}


def emulated_world(segments: list[str], leg: str, seed: int, speed: float):
    """A world streaming a simulated test: returns (world, {segment: address}, simulation,
    start) where ``start()`` makes the simulated athlete begin the test now (until then
    the sensors replay the first, standing sample)."""
    from sensor_io.ble_emulation import EmulatedPeripheral, EmulatedWorld, stream_signal
    from sensor_io.vendors import VENDORS
    from simulator.single_test import SimConfig, placement_name, simulate

    sim = simulate(SimConfig(seed=seed, test_leg=leg, sensors=tuple(segments)))
    world = EmulatedWorld(speed=speed)
    addresses = {}
    for k, seg in enumerate(segments):
        addr = f"EE:00:00:00:00:{k + 1:02X}"
        stream = sim.recording.streams[placement_name(seg, leg)]
        world.add(EmulatedPeripheral(addr, VENDORS[EMULATED_VENDOR[seg]].profile,
                                     stream_signal(stream, t0=0.0)))
        addresses[seg] = addr

    def start() -> None:
        t0 = world.now()
        for seg, addr in addresses.items():
            stream = sim.recording.streams[placement_name(seg, leg)]
            world.peripherals[addr].signal = stream_signal(stream, t0=t0)

    return world, addresses, sim, start


# -- commands ------------------------------------------------------------------------------
def no_bluetooth(err: BaseException) -> InputError:
    """The one line for a machine where bleak cannot reach a Bluetooth adapter (no
    adapter, BlueZ not running: bleak's D-Bus socket is missing)."""
    return InputError(f"cannot use Bluetooth: {first_line(err)} (is there an adapter, and is "
                      "the Bluetooth service running?)")


@app.command()
def devices(
    timeout: Annotated[float, typer.Option(help="Scan time in s.")] = 5.0,
    emulate: Annotated[bool, typer.Option(help="Scan emulated sensors (demo).")] = False,
) -> None:
    """List nearby IMUs with their model and signal strength."""
    import asyncio

    from bleak.exc import BleakError

    backend = None
    if emulate:
        world, _, _, _ = emulated_world(["pelvis", "thigh", "shank"], "left", 0, 1.0)
        backend = world.backends()[0]
    try:
        found = asyncio.run(scan(timeout, backend=backend))
    except (BleakError, FileNotFoundError, ConnectionError) as err:
        raise no_bluetooth(err) from None
    if not found:
        console.print("no BLE devices found")
    for d in found:
        model = d.model or "(not a supported IMU)"
        console.print(f"{d.address}  {d.rssi:4d} dBm  {model:22s} {d.name or ''}", highlight=False)


@app.command()
def record(
    leg: Annotated[str, typer.Option("--leg", help="Test leg: left or right.")],
    athlete: Annotated[str, typer.Option("--athlete", help="Athlete id.")],
    pelvis: Annotated[str | None, typer.Option(help="Pelvis sensor address.")] = None,
    thigh: Annotated[str | None, typer.Option(help="Test-leg thigh sensor address.")] = None,
    shank: Annotated[str | None, typer.Option(help="Test-leg shank sensor address.")] = None,
    trunk: Annotated[str | None, typer.Option(help="Trunk (sternum) sensor address.")] = None,
    wrist: Annotated[str | None, typer.Option(help="Test-side wrist sensor address.")] = None,
    rate: Annotated[float, typer.Option(help="Wanted sample rate in Hz.")] = 100.0,
    out: Annotated[Path | None, typer.Option(help="Recording to write (.parquet/.csv); "
                                                  "default: the data home.")] = None,
    calibration: Annotated[float, typer.Option(help="Quiet standing asked for, s.")] = 3.0,
    duration: Annotated[float | None, typer.Option(help="Stop after this many s "
                                                        "(default: Ctrl-C).")] = None,
    pain: Annotated[str | None, typer.Option(help="Pain 0-10 reported by the athlete: one "
                                                  "number, or one per rep: 0,0,2,1,0")] = None,
    score: Annotated[bool, typer.Option(help="Score each rep live.")] = True,
    emulate: Annotated[bool, typer.Option(help="Stream a simulated test from emulated "
                                               "sensors (demo, tests).")] = False,
    emulate_speed: Annotated[float, typer.Option(
        help="Emulated clock speed-up; 0: virtual time, as fast as the machine computes "
             "(the same result on any machine, for tests).")] = 1.0,
    seed: Annotated[int, typer.Option(help="Simulation seed for --emulate.")] = 0,
    overwrite: Annotated[bool, typer.Option(help="Replace an earlier recording and journal "
                                                 "at --out.")] = False,
    sound: Annotated[bool, typer.Option(help="A sound cue per rep, at set start/end and when "
                                             "a sensor drops out (text without audio).")] = False,
    live_page: Annotated[bool, typer.Option(help="Serve the big-screen live page for the "
                                                 "athlete, with the coach's controls.")] = False,
    page_address: Annotated[str, typer.Option(help="HOST:PORT of the live page; beyond this "
                                                   "computer it needs HTTPS and accounts.")]
    = "127.0.0.1:8766",
    page_cert: Annotated[Path | None, typer.Option(help="TLS certificate (PEM) of the page.")] = None,
    page_key: Annotated[Path | None, typer.Option(help="TLS private key (PEM) of the page.")] = None,
    exercise: Annotated[str, typer.Option(help="What is recorded: test, hold or heel_taps.")]
    = "test",
    band: Annotated[bool, typer.Option(help="The set is done with a knee band (feedback).")]
    = False,
    step_cm: Annotated[float | None, typer.Option(help="Step height, cm.")] = None,
    load_kg: Annotated[float, typer.Option(help="Added load, kg.")] = 0.0,
) -> None:
    """Record a lateral step-down test (or a programme exercise) from BLE IMUs, live."""
    import asyncio

    from bleak.exc import BleakError

    from sensor_io.ble_client import SensorSpec, StreamingSession
    from sensor_io.exercise import set_from_options
    from sensor_io.journal import new_session_id
    from sensor_io.recorder import Recorder
    from sensor_io.recording import LEGS, Athlete
    from stepdown.record_guard import (
        BYTES_PER_SAMPLE,
        WARN_MINUTES,
        default_name,
        free_space_warning,
        refuse_existing,
    )

    if leg not in LEGS:
        raise InputError(f"--leg must be left or right, not {leg!r}")
    exercise_set, step_height_m = set_from_options(exercise, band, load_kg, step_cm)
    if exercise_set is not None and exercise_set["kind"] != "test" and score:
        score = False  # live scoring scores a test's reps; a programme set is analysed after
        console.print(f"{exercise_set['kind'].replace('_', ' ')} set: no live test scoring; "
                      "analyse it afterwards with stepdown analyze", highlight=False)
    given = {"pelvis": pelvis, "thigh": thigh, "shank": shank, "trunk": trunk, "wrist": wrist}
    scanner_backend = client_backend = None
    clock = on_start = None
    pain_nrs = parse_pain(pain)
    if emulate:
        segments = [s for s, a in given.items() if a] or ["pelvis", "thigh"]
        if emulate_speed < 0:
            raise InputError(f"--emulate-speed must be 0 (virtual time) or more, not {emulate_speed:g}")
        world, addresses, sim, on_start = emulated_world(segments, leg, seed, emulate_speed or 1.0)
        given = {s: addresses.get(s) for s in given}
        scanner_backend, client_backend = world.backends()
        clock = world.now
        if duration is None:
            duration = sim.recording.duration_s + 4.0  # + connecting
        if pain_nrs is None:
            pain_nrs = sim.recording.pain_nrs  # what the simulated athlete reports
    if not given["pelvis"] or not given["thigh"]:
        raise InputError("--pelvis and --thigh are required (the minimum sensor set)")
    specs = [SensorSpec(f"{seg}_{leg}" if seg in ("thigh", "shank", "wrist") else seg, addr,
                        rate) for seg, addr in given.items() if addr]
    started_at = datetime.now(UTC)
    started = started_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    session_id = new_session_id()
    if out is None:
        from stepdown.paths import recordings_dir

        out = recordings_dir() / default_name(athlete, started_at, f"{session_id:016x}")
    journal = out.with_suffix(".sdj")
    refuse_existing(out, journal, overwrite)
    extra: dict[str, Any] = {"clock": _outside_loop_zero(clock)} if clock else {}
    recorder = Recorder(journal, test_leg=leg, athlete=Athlete(id=athlete), started_at=started,
                        pain_nrs=pain_nrs, session=session_id, overwrite=overwrite,
                        step_height_m=step_height_m, exercise=exercise_set, **extra)
    room = free_space_warning(journal.parent, BYTES_PER_SAMPLE * rate * len(specs), WARN_MINUTES)
    if room:
        console.print(f"[yellow]warning:[/] {room}", highlight=False)
    kw: dict[str, Any] = {"clock": clock} if clock else {}
    session = StreamingSession(specs, recorder, scanner_backend=scanner_backend,
                               client_backend=client_backend, **kw)
    scorer = (_page_scorer() if live_page else analysis_scorer()) if score else None
    run = LiveRun(session, recorder, calibration_s=calibration, duration_s=duration,
                  scorer=scorer, on_calibration_start=on_start)
    if sound or live_page:
        try:
            from stepdown.athlete.launch import open_feedback

            run.feedback = open_feedback(
                recorder, session.status, athlete_id=athlete, sound=sound,
                page_address=page_address if live_page else None, ssl_certfile=page_cert,
                ssl_keyfile=page_key, silent_s=SILENT_S,
                log=lambda line: console.print(line, highlight=False))
        except BaseException:  # refused before anything streamed: no journal left behind
            recorder.close()
            recorder.journal.path.unlink(missing_ok=True)
            raise
    try:
        try:
            if emulate and emulate_speed == 0:
                from sensor_io.virtual_clock import run_virtual

                run_virtual(run.run())
            else:
                asyncio.run(run.run())
        finally:
            if run.feedback is not None:  # the terminal back and the page closed, then save
                run.feedback.close()
    except (BleakError, FileNotFoundError, ConnectionError) as err:  # no adapter, BlueZ down
        _save_or_discard(run, out, score=False)
        raise no_bluetooth(err) from None
    except BaseException:
        _save_or_discard(run, out, score=False)  # a failure: keep what came, then say why
        raise
    code = _save_or_discard(run, out, score=score)
    if code:
        raise typer.Exit(code)


def _outside_loop_zero(clock: Callable[[], float]) -> Callable[[], float]:
    """The emulated world's clock, 0 before its event loop runs: the journal times its
    syncs on it, so a virtual-time recording syncs on virtual time, the same every run."""
    def now() -> float:
        try:
            return clock()
        except RuntimeError:  # no running event loop yet
            return 0.0
    return now


def _save_or_discard(run: LiveRun, out: Path, score: bool) -> int:
    """Save what ``run`` recorded (or remove the journal when no sample came) and say
    so; returns the exit code: 0 saved as asked, 1 something could not be written,
    130 stopped by a signal before anything was recorded."""
    from stepdown.record_guard import final_line, held_signals

    recorder, interrupts = run.recorder, run.interrupts
    for st in run.session.status.values():  # the device's own reason for stopping
        if st.error and st.state in ("stopped", "failed"):
            console.print(f"[yellow]{st.placement} sensor {st.address}:[/] {st.error}",
                          highlight=False)
    if not recorder.kept:
        recorder.close()
        recorder.journal.path.unlink(missing_ok=True)
        why = f"stopped by {interrupts.first}" if interrupts.first else "stopped"
        console.print(f"{why} before any sensor streamed: nothing was recorded (no file kept)",
                      highlight=False)
        return 130 if interrupts.first else 0
    with held_signals(interrupts):  # saving and saying so take a second: not cut short
        rec = recorder.recording()
        saved = save(recorder, rec, out)
        for name, s in rec.streams.items():
            gaps = sum(1 for g in rec.extra.get("gaps", []) if g["sensor"] == name)
            q = rec.sensors_meta.get(name, {}).get("quality") or {}
            lost = (f" ({q['lost_samples']} samples lost, {q['bad_packets']} bad packets)"
                    if q.get("lost_samples") or q.get("bad_packets") else "")
            console.print(f"{name}: {len(s)} samples, {s.duration_s:.1f} s, {gaps} gaps{lost}",
                          highlight=False)
        for g in rec.extra.get("gaps", []):
            if g["sensor"] not in rec.streams:
                console.print(f"{g['sensor']}: no samples ({g['reason']})", highlight=False)
        if saved.problem:
            console.print(f"[yellow]warning:[/] written although it breaks the format: "
                          f"{saved.problem}", highlight=False)
        for line in saved.errors:
            console.print(f"[red]error:[/] {line}", highlight=False, soft_wrap=True)
        console.print(final_line(saved, interrupts), highlight=False, soft_wrap=True)
        if score and not interrupts.hurried:
            console.print(test_line(rec), highlight=False)
    return 0 if saved.recording == out and not saved.errors else 1


def _page_scorer() -> RepScorer | None:
    from stepdown.athlete.scoring import traced_scorer

    return traced_scorer()


def parse_pain(text: str | None) -> list[float] | float | None:
    """'2' -> 2.0; '0,0,2' -> [0.0, 0.0, 2.0]; each 0-10."""
    if text is None:
        return None
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise InputError(f"--pain must be numbers 0-10 separated by commas, not {text!r}") from None
    if any(not 0 <= v <= 10 for v in values):
        raise InputError(f"--pain values must be within 0-10, got {text!r}")
    return values[0] if len(values) == 1 else values


def test_line(rec: Recording) -> str:
    """The test result of the whole recording, or why there is none."""
    from stepdown.completeness import missing_minimum, verdict_line

    try:
        from analysis.pipeline import analyze
    except ImportError:
        return "test: not scored (analysis not installed)"
    if missing := missing_minimum(rec):
        return f"test: not scored (no data from {', '.join(missing)})"
    try:
        doc = analyze(rec).to_json()
    except InputError as err:
        return f"test: not scored ({err})"
    except Exception as err:  # the recording is saved: a scoring failure must not hide that
        return f"test: not scored (the analysis failed: {type(err).__name__}: {first_line(err)})"
    return f"test: {verdict_line(rec, doc)}"


@app.command()
def recover(
    journal: Annotated[Path, typer.Argument(help="Journal (.sdj) left by `stepdown record`.")],
    out: Annotated[Path | None, typer.Option("--out", "-o",
                                             help="Recording to write (.parquet or .csv); "
                                                  "default: the journal's name, .parquet")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing recording at --out.")]
    = False,
) -> None:
    """Rebuild the recording from a journal after a crash, a kill or damage; says exactly
    what was lost (which sensor, which time span) and marks it as gaps."""
    from sensor_io.journal import journal_in_use
    from sensor_io.recorder import recover as recover_journal

    if not journal.exists():
        raise FileNotFoundError(2, "no such file", str(journal))
    if journal_in_use(journal):
        raise InputError(f"{journal} is being written by a recording still running: "
                         "recover it once that has ended (or been killed)")
    out = out or journal.with_suffix(".parquet")
    if out.exists() and not overwrite:
        raise InputError(f"{out} exists: choose another --out, or pass --overwrite to replace it")
    rec, report = recover_journal(journal, out)
    for name, n in report.samples.items():
        s = rec.streams[name]
        console.print(f"{name}: {n} samples, {s.duration_s:.2f} s")
    for line in recovery_lines(report):
        console.print(line, highlight=False)
    if report.problem:
        console.print(f"[yellow]warning:[/] written although it breaks the format: "
                      f"{report.problem}", highlight=False)
    console.print(f"wrote {out}")


def recovery_lines(report: RecoveryReport) -> list[str]:
    """What a recovery found wrong with the journal, one line each (none when whole)."""
    lines = []
    if not report.magic_ok:
        lines.append("the journal's first bytes were damaged (read on regardless)")
    if report.damaged_bytes:
        lines.append(f"skipped {report.damaged_bytes} damaged bytes "
                     f"({report.lost_records} records lost)")
    for span in report.lost:
        start = "its start" if span.start_s is None else f"{span.start_s:.3f} s"
        end = "the end" if span.end_s is None else f"{span.end_s:.3f} s"
        lines.append(f"lost {span.sensor}: {span.samples} samples between {start} and {end} "
                     "(marked as a gap)")
    if not report.closed:
        tail = f"; {report.tail_bytes} bytes of a torn last record dropped" \
            if report.tail_bytes else ""
        lines.append("the recording did not end cleanly (crash, kill or power loss): at most "
                     f"its last second is missing{tail}")
    elif report.tail_bytes:
        lines.append(f"dropped {report.tail_bytes} unreadable bytes at the end")
    return lines

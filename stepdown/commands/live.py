"""Live commands: `stepdown devices`, `stepdown record`, `stepdown recover`: their options
and wiring.

`record` streams BLE IMUs (:mod:`sensor_io.ble_client`) into a crash-safe journal
(:mod:`sensor_io.recorder`) through the record loop (:mod:`stepdown.live.loop`): it
connects the sensors one at a time, asks the athlete to stand still for calibration,
then shows per-sensor status and, when a scorer is available, each rep's items as it
ends; Ctrl-C (or ``--duration``) ends it cleanly and the recording is written.
``--emulate`` streams a simulated test from emulated sensors through the same code (a
demo, and the end-to-end test).  `recover` rebuilds
the recording from a journal left behind by a crash or power loss.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sensor_io.errors import InputError, first_line
from sensor_io.json_doc import JSONDoc
from stepdown.cli import app
from stepdown.commands.options import parse_pain
from stepdown.live.emulation import Prompts, emulated_world, until_test_ends
from stepdown.live.lines import SILENT_S
from stepdown.live.loop import BENDS_S, LiveRun, console
from stepdown.live.scoring import RepScorer, analysis_scorer
from stepdown.paths import check_output_folder

if TYPE_CHECKING:  # numpy, scipy and the BLE stack load when a command runs, not for --help
    from sensor_io.recorder import RecoveryReport
    from sensor_io.recording import Recording


def scan(*args: Any, **kwargs: Any) -> Any:
    """:func:`sensor_io.ble_client.scan` (a coroutine), imported when used: the BLE stack
    is not needed for --help. A module name, so a test can put a fake adapter in its place.

    Parameters
    ----------
    *args : Any
        Passed on to :func:`sensor_io.ble_client.scan` (the scan time, s).
    **kwargs : Any
        Passed on to :func:`sensor_io.ble_client.scan` (e.g. ``backend``).

    Returns
    -------
    Coroutine
        The scan, to be awaited: the devices found.
    """
    from sensor_io.ble_client import scan as ble_scan

    return ble_scan(*args, **kwargs)


def save(*args: Any, **kwargs: Any) -> Any:
    """:func:`stepdown.record_guard.save`, imported when used (it loads the recorder and the
    file formats). A module name, so a test can interrupt it.

    Parameters
    ----------
    *args : Any
        Passed on to :func:`stepdown.record_guard.save` (recorder, recording, output path).
    **kwargs : Any
        Passed on to :func:`stepdown.record_guard.save`.

    Returns
    -------
    Any
        What :func:`stepdown.record_guard.save` returns: where the recording was written and
        what could not be.
    """
    from stepdown.record_guard import save as guarded_save

    return guarded_save(*args, **kwargs)


# -- commands ------------------------------------------------------------------------------
def no_bluetooth(err: BaseException) -> InputError:
    """The one line for a machine where bleak cannot reach a Bluetooth adapter (no
    adapter, BlueZ not running: bleak's D-Bus socket is missing).

    Parameters
    ----------
    err : BaseException
        What bleak (or the D-Bus connection) raised.

    Returns
    -------
    InputError
        The error to raise, its first line naming the cause.
    """
    return InputError(f"cannot use Bluetooth: {first_line(err)} (is there an adapter, and is "
                      "the Bluetooth service running?)")


@app.command()
def devices(
    timeout: Annotated[float, typer.Option(help="Scan time in s.")] = 5.0,
    emulate: Annotated[bool, typer.Option(help="Scan emulated sensors (demo).")] = False,
) -> None:
    """List nearby IMUs with their model and signal strength.\f

    Parameters
    ----------
    timeout : float
        Scan time, s.
    emulate : bool
        Scan emulated sensors (demo).
    """
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
    bends: Annotated[bool, typer.Option(help="Then ask for 2-3 slow knee bends on both feet "
                                             "(the calibration finds the thigh's axis in "
                                             "them).")] = True,
    duration: Annotated[float | None, typer.Option(help="Stop after this many s "
                                                        "(default: Ctrl-C).")] = None,
    pain: Annotated[str | None, typer.Option(help="Pain 0-10 reported by the athlete: one "
                                                  "number, or one per rep: 0,0,2,1,0")] = None,
    score: Annotated[bool, typer.Option(help="Score each rep live.")] = True,
    emulate: Annotated[bool, typer.Option(help="Stream a simulated test (or --exercise set) "
                                               "from emulated sensors (demo, tests).")] = False,
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
    reps: Annotated[int | None, typer.Option(help="A set's prescription: holds (hold) or taps "
                                                  "(heel_taps).")] = None,
    hold_s: Annotated[float | None, typer.Option(help="A hold set's prescription: about this "
                                                      "many s per hold (0.9-1.1 times).")]
    = None,
) -> None:
    """Record a lateral step-down test (or a programme exercise) from BLE IMUs, live.\f

    Parameters
    ----------
    leg : str
        Test leg: left or right.
    athlete : str
        Athlete id.
    pelvis, thigh, shank, trunk, wrist : str or None
        BLE address of each sensor (thigh, shank and wrist on the test side; trunk on the
        sternum); pelvis and thigh are required.
    rate : float
        Wanted sample rate, Hz.
    out : Path or None
        Recording to write (.parquet/.csv); default: the data home.
    calibration : float
        Quiet standing asked for, s.
    bends : bool
        Then ask for 2-3 slow knee bends on both feet (the calibration finds the thigh's
        axis in them).
    duration : float or None
        Stop after this many s (default: Ctrl-C).
    pain : str or None
        Pain 0-10 reported by the athlete: one number, or one per rep (``0,0,2,1,0``).
    score : bool
        Score each rep live.
    emulate : bool
        Stream a simulated test (or the ``exercise`` set) from emulated sensors (demo, tests).
    emulate_speed : float
        Emulated clock speed-up; 0: virtual time, as fast as the machine computes (the same
        result on any machine, for tests).
    seed : int
        Simulation seed for ``emulate``.
    overwrite : bool
        Replace an earlier recording and journal at ``out``.
    sound : bool
        A sound cue per rep, at set start/end and when a sensor drops out (text without
        audio).
    live_page : bool
        Serve the big-screen live page for the athlete, with the coach's controls.
    page_address : str
        HOST:PORT of the live page; beyond this computer it needs HTTPS and accounts.
    page_cert, page_key : Path or None
        TLS certificate and private key (PEM) of the page.
    exercise : str
        What is recorded: test, hold or heel_taps.
    band : bool
        The set is done with a knee band (feedback).
    step_cm : float or None
        Step height, cm.
    load_kg : float
        Added load, kg.
    reps : int or None
        A set's prescription: holds (hold) or taps (heel_taps); with ``emulate`` what the
        emulated set does.
    hold_s : float or None
        A hold set's prescription: about this many s per hold (``hold_s`` [0.9, 1.1] times
        it in the metadata).
    """
    import asyncio

    from bleak.exc import BleakError

    from sensor_io.ble_client import SensorSpec, StreamingSession
    from sensor_io.exercise import about_s, set_from_options
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
    kind = exercise.strip().lower().replace("-", "_")
    if reps is not None and kind not in ("hold", "heel_taps"):
        raise InputError("--reps is for a hold or heel-tap set (--exercise hold|heel_taps)")
    if hold_s is not None and kind != "hold":
        raise InputError("--hold-s is for a hold set (--exercise hold)")
    rx = ({} if reps is None else {"holds" if kind == "hold" else "reps": reps}) | (
        {} if hold_s is None else {"hold_s": about_s(hold_s)})
    exercise_set, step_height_m = set_from_options(exercise, band, load_kg, step_cm, rx)
    if exercise_set is not None and exercise_set["kind"] != "test" and score:
        score = False  # live scoring scores a test's reps; a programme set is analysed after
        console.print(f"{exercise_set['kind'].replace('_', ' ')} set: no live test scoring; "
                      "analyse it afterwards with stepdown analyze", highlight=False)
    # a programme set too: without them its pelvis heading is the sacral skin normal's, whose
    # error leaks the sensor's tilt into a hold's pelvic drop (docs/accuracy.md)
    bends_s = BENDS_S if bends else 0.0
    given = {"pelvis": pelvis, "thigh": thigh, "shank": shank, "trunk": trunk, "wrist": wrist}
    scanner_backend = client_backend = None
    clock = on_start = None
    pain_nrs = parse_pain(pain)
    if emulate:
        segments = [s for s, a in given.items() if a] or ["pelvis", "thigh"]
        if emulate_speed < 0:
            raise InputError(f"--emulate-speed must be 0 (virtual time) or more, not {emulate_speed:g}")
        world, addresses, sim, on_start = emulated_world(
            segments, leg, seed, emulate_speed or 1.0, prompts=Prompts(calibration, bends_s),
            exercise=exercise_set, step_height_m=step_height_m)
        given = {s: addresses.get(s) for s in given}
        scanner_backend, client_backend = world.backends()
        clock = world.now
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
    run = LiveRun(session, recorder, calibration_s=calibration, bends_s=bends_s, duration_s=duration,
                  scorer=scorer, tracer=_page_tracer() if live_page and score else None,
                  on_calibration_start=on_start)
    if emulate and duration is None:  # the recording ends with the simulated test
        run.on_calibration_start = until_test_ends(run, on_start, sim)
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


def _page_tracer() -> Callable[..., JSONDoc | None] | None:
    from stepdown.athlete.scoring import live_tracer

    return live_tracer()


def test_line(rec: Recording) -> str:
    """The test result of the whole recording, or why there is none.

    Parameters
    ----------
    rec : Recording
        The recording just saved.

    Returns
    -------
    str
        ``"test: "`` and the verdict line, or ``"test: not scored (why)"``.
    """
    from stepdown.completeness import missing_minimum, verdict_line

    try:
        from analysis.pipeline import analyze
    except ImportError:
        return "test: not scored (analysis not installed)"
    if missing := missing_minimum(rec):
        return f"test: not scored (no data from {', '.join(missing)})"
    try:
        result = analyze(rec).result()
    except InputError as err:
        return f"test: not scored ({err})"
    except Exception as err:  # the recording is saved: a scoring failure must not hide that
        return f"test: not scored (the analysis failed: {type(err).__name__}: {first_line(err)})"
    return f"test: {verdict_line(rec, result)}"


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
    what was lost (which sensor, which time span) and marks it as gaps.\f

    Parameters
    ----------
    journal : Path
        Journal (.sdj) left by ``stepdown record``.
    out : Path or None
        Recording to write (.parquet or .csv); default: the journal's name, .parquet.
    overwrite : bool
        Replace an existing recording at ``out``.
    """
    from sensor_io.journal import journal_in_use
    from sensor_io.recorder import recover as recover_journal

    if not journal.exists():
        raise FileNotFoundError(2, "no such file", str(journal))
    if journal_in_use(journal):
        raise InputError(f"{journal} is being written by a recording still running: "
                         "recover it once that has ended (or been killed)")
    out = out or journal.with_suffix(".parquet")
    check_output_folder(out, f"--out {out}")
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
    """What a recovery found wrong with the journal, one line each (none when whole).

    Parameters
    ----------
    report : RecoveryReport
        The recovery's report (:func:`sensor_io.recorder.recover`).

    Returns
    -------
    list of str
        Damaged first bytes, skipped bytes, lost spans per sensor (times in s) and an
        unclean end, as they apply.
    """
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

"""`stepdown simulate OUT`: write a simulated step-down recording and its ground truth.

The recording goes to ``OUT`` (``.parquet``, or ``.csv`` + ``.json`` sidecar),
the truth beside it as ``<name>.truth.json`` (see :mod:`stepdown.truth_files`).
Options map one to one onto :class:`simulator.single_test.SimConfig`; with ``--sets`` > 1
or ``--minutes``, a whole session (sets, rests, walks between sets) from
:class:`simulator.session.SessionConfig`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sensor_io.errors import InputError
from stepdown.cli import app
from stepdown.paths import check_output_folder

if TYPE_CHECKING:  # the simulator (scipy) loads when the command runs, not for --help
    from simulator.session import SessionConfig
    from simulator.single_test import SimConfig

HEIGHT_RANGE_M = (1.40, 2.10)
STEP_HEIGHT_RANGE_M = (0.10, 0.30)
MAX_REPS = 20
MAX_MINUTES = 600.0


def parse_sensors(text: str) -> tuple[str, ...]:
    """``"pelvis,thigh,shank"`` -> segment names; refuses unknown names and a
    set without the minimum pelvis + thigh.

    Parameters
    ----------
    text : str
        Comma-separated segment names (any case; repeats are dropped).

    Returns
    -------
    tuple of str
        The segment names, lower case, in the order given.

    Raises
    ------
    InputError
        An unknown name, or pelvis or thigh missing.
    """
    from simulator.single_test import SEGMENT_CHOICES

    names = tuple(dict.fromkeys(n.strip().lower() for n in text.split(",") if n.strip()))
    unknown = [n for n in names if n not in SEGMENT_CHOICES]
    if unknown:
        raise InputError(f"--sensors: unknown sensor {unknown[0]!r}; "
                         f"choose from {','.join(SEGMENT_CHOICES)}")
    missing = [n for n in ("pelvis", "thigh") if n not in names]
    if missing:
        raise InputError(f"--sensors: {' and '.join(missing)} missing; the minimum set is "
                         "pelvis,thigh")
    return names


def sim_config(seed: int = 0, leg: str = "left", sensors: str = "pelvis,thigh",
               profile: str = "medium", reps: int = 5, height: float | None = None,
               step_height: float | None = None, ideal: bool = False,
               ideal_body: bool = False, calibration_movement: bool = False) -> SimConfig:
    """Check the command's options and turn them into a SimConfig (units: m).

    Parameters
    ----------
    seed : int
        Random seed: same seed, same test.
    leg : str
        Test leg: left or right (any case).
    sensors : str
        Comma-separated segments (see :func:`parse_sensors`).
    profile : str
        Movement quality: good, medium or poor.
    reps : int
        Number of full reps, 1 to ``MAX_REPS``.
    height : float or None
        Athlete height, m (1.40-2.10); None: drawn from the seed.
    step_height : float or None
        Step height, m (0.10-0.30); None: drawn.
    ideal : bool
        Perfect sensors: no noise, bias, gaps, jitter or soft tissue.
    ideal_body : bool
        The idealised body instead of whole-body physics.
    calibration_movement : bool
        The athlete does the guided calibration movement after standing.

    Returns
    -------
    SimConfig
        The single test to simulate.

    Raises
    ------
    InputError
        An option out of its range, named with the range and unit.
    """
    from simulator.scenario import PROFILES
    from simulator.single_test import BALANCE_GAIN_RANGE, SimConfig

    leg = leg.lower()
    if leg not in ("left", "right"):
        raise InputError(f"--leg must be left or right, not {leg!r}")
    profile = profile.lower()
    if profile not in PROFILES:
        raise InputError(f"--profile must be one of {', '.join(PROFILES)}, not {profile!r}")
    if not 1 <= reps <= MAX_REPS:
        raise InputError(f"--reps must be from 1 to {MAX_REPS}, not {reps}")
    for flag, value, (lo, hi) in (("--height", height, HEIGHT_RANGE_M),
                                  ("--step-height", step_height, STEP_HEIGHT_RANGE_M)):
        if value is not None and not lo <= value <= hi:
            raise InputError(f"{flag} {value:g} is outside {lo:g}-{hi:g} m (give metres)")
    return SimConfig(seed=seed, test_leg=leg, sensors=parse_sensors(sensors), profile=profile,
                     n_reps=reps, height_m=height, step_height_m=step_height,
                     ideal_sensors=ideal, physics="ideal" if ideal_body else "whole-body",
                     balance=None if ideal_body else BALANCE_GAIN_RANGE,
                     calibration_movement=calibration_movement)


def session_config(cfg: SimConfig, sets: int, minutes: float | None, rest: float,
                   walk: float) -> SessionConfig | None:
    """The session to simulate, or None for a single test (one set, no --minutes).

    Parameters
    ----------
    cfg : SimConfig
        The single test's configuration (from :func:`sim_config`).
    sets : int
        Sets in the session (at least 1).
    minutes : float or None
        A session of about this many minutes instead of ``sets`` (at most ``MAX_MINUTES``).
    rest : float
        Rest before each further set, s (at least 2 s of quiet standing).
    walk : float
        Walk between sets, s (at least :data:`simulator.session.MIN_WALK_S`).

    Returns
    -------
    SessionConfig or None
        The session; None for one set without ``minutes``.

    Raises
    ------
    InputError
        An option out of its range, or a single-test option given for a session.
    """
    from simulator.session import MIN_WALK_S, SessionConfig

    if sets < 1:
        raise InputError(f"--sets must be at least 1, not {sets}")
    if minutes is not None and not 0 < minutes <= MAX_MINUTES:
        raise InputError(f"--minutes must be above 0 and at most {MAX_MINUTES:g}, not {minutes:g}")
    if rest < 2.0:
        raise InputError(f"--rest {rest:g} s is too short: each set starts from 2 s of quiet standing")
    if walk < MIN_WALK_S:
        raise InputError(f"--walk {walk:g} s is too short (at least {MIN_WALK_S:g} s: two turns "
                         "and a few steps)")
    if sets == 1 and minutes is None:
        return None
    if cfg.physics == "ideal":
        raise InputError("--ideal-body is for a single test; leave it out with --sets or --minutes")
    if cfg.calibration_movement:
        raise InputError("--calibration-movement is for a single test; leave it out with --sets "
                         "or --minutes")
    return SessionConfig(seed=cfg.seed, test_leg=cfg.test_leg, sensors=cfg.sensors,
                         profile=cfg.profile, reps_per_set=cfg.n_reps or 5, sets=sets,
                         minutes=minutes, rest_s=rest, walk_s=walk, height_m=cfg.height_m,
                         step_height_m=cfg.step_height_m, ideal_sensors=cfg.ideal_sensors)


def check_output(out: Path, force: bool) -> None:
    """OUT must be .parquet/.csv in an existing folder, and not overwrite data unasked.

    Parameters
    ----------
    out : Path
        The recording to write (its truth file goes beside it).
    force : bool
        Overwrite an existing recording or truth file.

    Raises
    ------
    InputError
        A wrong suffix, a missing or read-only folder, or a file that exists without ``force``.
    """
    from sensor_io.recording_io import SUFFIXES
    from stepdown.truth_files import truth_path

    if out.suffix.lower() not in SUFFIXES:
        raise InputError(f"{out}: the recording must end in {' or '.join(SUFFIXES)}")
    check_output_folder(out, str(out))
    if not force:
        for p in (out, truth_path(out)):
            if p.exists():
                raise InputError(f"{p} already exists; use --force to overwrite it")


@app.command("simulate")
def simulate_cmd(
    out: Annotated[Path, typer.Argument(help="Recording to write: OUT.parquet or OUT.csv.")],
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same test.")] = 0,
    leg: Annotated[str, typer.Option(help="Test leg: left or right.")] = "left",
    sensors: Annotated[str, typer.Option(
        help="Comma-separated: pelvis,thigh,shank,trunk,wrist (pelvis,thigh required).")
    ] = "pelvis,thigh",
    profile: Annotated[str, typer.Option(help="Movement quality: good, medium or poor.")
                       ] = "medium",
    reps: Annotated[int, typer.Option(help="Number of full reps (per set).")] = 5,
    sets: Annotated[int, typer.Option(
        help="Sets in a session, each after a rest and a walk back to the step.")] = 1,
    minutes: Annotated[float | None, typer.Option(
        help="A session of about this many minutes: as many sets as fit (instead of --sets).")
    ] = None,
    rest: Annotated[float, typer.Option(help="Rest before each further set, s (quiet standing).")
                    ] = 60.0,
    walk: Annotated[float, typer.Option(help="Walk between sets, s (away and back).")] = 20.0,
    height: Annotated[float | None, typer.Option(
        help="Athlete height in m (default: drawn from the seed).")] = None,
    step_height: Annotated[float | None, typer.Option(
        help="Step height in m (default: drawn, 0.15-0.25).")] = None,
    ideal: Annotated[bool, typer.Option(
        "--ideal", help="Perfect sensors: no noise, bias, gaps, jitter or soft tissue.")
    ] = False,
    ideal_body: Annotated[bool, typer.Option(
        "--ideal-body", help="The idealised body: no balance, postural sway, valgus timing "
        "variants or hand-on-waist coupling (default: whole-body physics, docs/simulator.md).")
    ] = False,
    calibration_movement: Annotated[bool | None, typer.Option(
        "--calibration-movement/--no-calibration-movement",
        help="The athlete does the guided calibration movement (knee bends on both feet) "
        "after standing; its window goes in the metadata (docs/accuracy.md). Default: off "
        "for a test, on for a hold or heel-tap set (as record asks before a set).",
        show_default=False)] = None,
    plot: Annotated[Path | None, typer.Option(
        help="Also write a PNG of the signals with the reps shaded.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing files.")] = False,
    exercise: Annotated[str, typer.Option(
        help="test, hold (--reps holds of about --hold-s s) or heel_taps (--reps taps).")
    ] = "test",
    hold_s: Annotated[float, typer.Option(help="Hold: seconds per hold (about).")] = 30.0,
    unsteady: Annotated[bool, typer.Option(
        "--unsteady", help="Hold: an athlete who never steadies in the hold.")] = False,
    band: Annotated[bool, typer.Option(help="Heel taps: done with a knee band.")] = False,
    load_kg: Annotated[float, typer.Option(help="Heel taps: added load, kg.")] = 0.0,
) -> None:
    """Write a simulated step-down test (or programme set) and its ground truth
    (<name>.truth.json).\f

    Parameters
    ----------
    out : Path
        Recording to write: OUT.parquet or OUT.csv.
    seed : int
        Random seed: same seed, same test.
    leg : str
        Test leg: left or right.
    sensors : str
        Comma-separated: pelvis,thigh,shank,trunk,wrist (pelvis,thigh required).
    profile : str
        Movement quality: good, medium or poor.
    reps : int
        Number of full reps (per set).
    sets : int
        Sets in a session, each after a rest and a walk back to the step.
    minutes : float or None
        A session of about this many minutes: as many sets as fit (instead of ``sets``).
    rest : float
        Rest before each further set, s (quiet standing).
    walk : float
        Walk between sets, s (away and back).
    height : float or None
        Athlete height, m (default: drawn from the seed).
    step_height : float or None
        Step height, m (default: drawn, 0.15-0.25).
    ideal : bool
        Perfect sensors: no noise, bias, gaps, jitter or soft tissue.
    ideal_body : bool
        The idealised body: no balance, postural sway, valgus timing variants or
        hand-on-waist coupling (default: whole-body physics, docs/simulator.md).
    calibration_movement : bool or None
        The athlete does the guided calibration movement (knee bends on both feet) after
        standing; its window goes in the metadata (docs/accuracy.md). None: off for a
        test, on for a hold or heel-tap set (the simulator's default for a set).
    plot : Path or None
        Also write a PNG of the signals with the reps shaded.
    force : bool
        Overwrite existing files.
    exercise : str
        test, hold (``reps`` holds of about ``hold_s`` s) or heel_taps (``reps`` taps).
    hold_s : float
        Hold: seconds per hold (about).
    unsteady : bool
        Hold: an athlete who never steadies in the hold.
    band : bool
        Heel taps: done with a knee band.
    load_kg : float
        Heel taps: added load, kg.
    """
    from rich.console import Console

    from sensor_io.recording_io import write_recording
    from simulator.single_test import simulate
    from stepdown.truth_files import plot_recording, truth_document, write_truth

    cfg = sim_config(seed, leg, sensors, profile, reps, height, step_height, ideal, ideal_body,
                     bool(calibration_movement))
    session = session_config(cfg, sets, minutes, rest, walk)
    check_output(out, force)
    if plot is not None and plot.suffix.lower() != ".png":
        raise InputError(f"--plot {plot}: the figure must end in .png")
    if plot is not None:
        check_output_folder(plot, f"--plot {plot}")
    kind = exercise.strip().lower().replace("-", "_")
    if kind != "test":
        from stepdown.programme.simulated import simulate_exercise, summary_line

        if session is not None:
            raise InputError("--sets and --minutes are for the test; a programme set is one set")
        sim, doc = simulate_exercise(kind, seed=seed, leg=cfg.test_leg, sensors=cfg.sensors,
                                     profile=cfg.profile, reps=reps, step_height_m=step_height,
                                     ideal=ideal, band=band, load_kg=load_kg, hold_s=hold_s,
                                     unsteady=unsteady, calibration_movement=calibration_movement)
        write_recording(sim.recording, out)
        truth_file = write_truth(doc, out)
        Console().print(f"wrote [bold]{out}[/] ({sim.recording.duration_s:.1f} s)\n"
                        f"wrote [bold]{truth_file}[/] ({summary_line(doc)})",
                        highlight=False, soft_wrap=True)
        return
    if session is None:
        sim = simulate(cfg)
        doc = truth_document(sim, cfg)
    else:
        from simulator.session import simulate_session

        sim = simulate_session(session)
        doc = truth_document(sim, session)
    write_recording(sim.recording, out)
    truth_file = write_truth(doc, out)
    console = Console()
    rec = sim.recording
    sensors_text = ", ".join(f"{n} {rec.streams[n].rate_hz:.0f} Hz" for n in rec.placements)
    console.print(f"wrote [bold]{out}[/] ({rec.duration_s:.1f} s; {sensors_text})",
                  highlight=False, soft_wrap=True)
    test = doc["test"]
    sets_text = f"{len(doc['sets'])} sets, " if "sets" in doc else ""
    console.print(f"wrote [bold]{truth_file}[/] ({sets_text}{len(doc['reps'])} reps; truth: "
                  f"{test['category']}, total {test['total']}, items "
                  + " ".join(f"{k}={v}" for k, v in test["items"].items()) + ")",
                  highlight=False, soft_wrap=True)
    if plot is not None:
        plot_recording(rec, doc, plot)
        console.print(f"wrote [bold]{plot}[/]", highlight=False, soft_wrap=True)


"""`stepdown analyze` of a programme set (hold or heel taps): the analysis and its report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sensor_io.errors import InputError
from sensor_io.exercise import exercise_of
from sensor_io.recording import Recording

if TYPE_CHECKING:
    from rich.console import Console

    from analysis.exercises.set_result import SetResult

TEST_ONLY = ("rules", "rule", "pain", "standing", "calibration_from")


def analyze_programme_set(rec: Recording, path: Path, **test_options: Any) -> Any:
    """The set's analysis (:func:`analysis.exercises.dispatch.analyze_set`).

    Parameters
    ----------
    rec : Recording
        The recording.
    path : Path
        Its file, for the messages.
    **test_options
        The `stepdown analyze` options given (``rules``, ``rule``, ``pain``,
        ``standing``, ``calibration_from``: a test's only).

    Returns
    -------
    HoldSet or HeelTapSet or None
        The set's analysis; None for a test (the caller analyses it as always);
        InputError (one line) when a test's option was given for a set.
    """
    ex = exercise_of(rec)
    if ex.kind == "test":
        return None
    given = [k for k in TEST_ONLY if test_options.get(k) is not None]
    if given:
        flag = "--" + given[0].replace("_", "-")
        raise InputError(f"{flag} is for a step-down test; {path} is a {ex.kind} set")
    from analysis.exercises.dispatch import analyze_set

    try:
        return analyze_set(rec)
    except InputError as err:
        raise InputError(f"{path}: {err}") from None


def _num(v: Any, fmt: str = ".1f", unit: str = "") -> str:
    return "—" if v is None else f"{v:{fmt}}{unit}"


def set_lines(result: SetResult) -> list[str]:
    """The report of a set's analysis, as plain lines.

    Parameters
    ----------
    result : HoldSetResult or HeelTapSetResult
        The set's analysis.

    Returns
    -------
    list of str
        Per hold or tap one line, the set's summary, its uncertainty and warnings.
    """
    from analysis.exercises.set_result import HoldSetResult

    ex = result.exercise
    band = ", with band" if ex.band else ""
    load = f", +{ex.load_kg:g} kg" if ex.load_kg else ""
    lines = [f"{ex.kind.replace('_', ' ')} set, {result.test_leg} leg{band}{load}"]
    if isinstance(result, HoldSetResult):
        s = result.summary
        rx = s.prescribed_hold_s
        for h in result.holds:
            done = "" if h.completed is None else ("  done" if h.completed else "  short")
            lines.append(f"hold {h.index}: {h.start_s:.1f}-{h.end_s:.1f} s, "
                         f"{h.tut_s:.1f} s under tension, thigh {h.depth_deg:.0f}°, "
                         f"pelvis sway {_num(h.pelvis_sway_deg, '.2f', '°')}, "
                         f"tremor {_num(h.tremor_dps, '.1f', ' °/s')}{done}")
        target = (f"; prescribed {s.prescribed_holds or '?'} x {rx[0]:g}-{rx[1]:g} s, "
                  f"{s.completed} done" if rx else "")
        lines.append(f"{s.holds} holds, {s.tut_s:.0f} s under tension{target}")
        u = result.uncertainty.measures
        lines.append(f"measurement uncertainty (90 %, from simulation): time under tension "
                     f"±{u['tut_s']:g} s, pelvis sway ±{u['pelvis_sway_deg']:g}°, tremor "
                     f"±{u['tremor_dps']:g} °/s")
    else:
        for t in result.taps:
            m = t.rep.measures
            lines.append(f"tap {t.rep.index}: depth {t.depth_deg:.0f}°, {t.duration_s:.1f} s "
                         f"(down {t.descent_s:.1f}, up {t.ascent_s:.1f}), knee "
                         f"{_num(m.get('knee_medial_cm'), '.1f', ' cm')}, pelvis "
                         f"{_num(m.get('pelvic_drop_deg'), '.1f', '°')}, "
                         f"{'controlled' if t.controlled else 'fault'}")
        s, c = result.summary, result.summary.control
        rx = f" of {s.prescribed_reps} prescribed" if s.prescribed_reps else ""
        lines.append(f"{s.taps} taps{rx}, {_num(s.cadence_per_min)} per min, median depth "
                     f"{s.depth_deg:.0f}°; knee {_num(c.knee_medial_cm, '.1f', ' cm')}, "
                     f"pelvis {_num(c.pelvic_drop_deg, '.1f', '°')} (medians), "
                     f"{_num(c.controlled_share, '.0%')} of taps controlled")
        control = ("knee_medial_cm", "pelvic_drop_deg", "controlled_share")
        u = {k: v for k, v in result.uncertainty.measures.items()
             if k in control or k in ("depth_deg", "duration_s")}
        if u:
            lines.append("measurement uncertainty (90 %): " + ", ".join(
                f"{k} ±{v:g}" for k, v in u.items()))
    lines += [f"warning: {w}" for w in result.warnings]
    return lines


def print_set(console: Console, path: Path, result: Any) -> None:
    """The set's report on the console.

    Parameters
    ----------
    console : rich.console.Console
        Where it is printed.
    path : Path
        The recording, named in the heading.
    result : HoldSet or HeelTapSet
        The set's analysis.
    """
    from rich.markup import escape  # a file named "[/x].parquet" is no style tag

    console.print(f"[bold]{escape(str(path))}[/]", highlight=False)
    for line in set_lines(result.result()):
        console.print(line, highlight=False, soft_wrap=True)

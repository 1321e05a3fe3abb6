"""`stepdown info RECORDING`: what a recording holds, sensor by sensor.

Per sensor: samples, median rate (Hz), duration (s), gaps (a gap is an interval
longer than 2.5 × the median interval: how many, and the longest in s) and the
median |a| (m/s², about 9.81 for a worn sensor); then the test leg, athlete,
step height and reported pain, and any frame a sensor repeated while it cannot have been
still (``sensor_io.frozen_frames``: the analysis treats such a run as a gap).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from stepdown.cli import app

if TYPE_CHECKING:  # numpy, rich and the reader load when the command runs, not for --help
    from rich.table import Table

    from sensor_io.recording import Recording, SensorStream

GAP_FACTOR = 2.5


@dataclass
class StreamSummary:
    """Figures of one sensor stream, in SI units."""

    samples: int
    """Number of samples."""
    rate_hz: float
    """Median sample rate, Hz."""
    duration_s: float
    """Time from the first to the last sample, s."""
    gap_count: int
    """Intervals longer than the gap factor × the median interval."""
    longest_gap_s: float
    """The longest of those intervals, s; 0.0 without a gap."""
    acc_norm_median_mps2: float
    """Median accelerometer norm |a|, m/s² (about 9.81 for a worn sensor)."""
    has_mag: bool
    """Whether the stream has magnetometer samples."""


def summarize_stream(stream: SensorStream, gap_factor: float = GAP_FACTOR) -> StreamSummary:
    """Samples, rate, duration, gaps (interval > gap_factor × median) and median |a|.

    Parameters
    ----------
    stream : SensorStream
        One sensor's samples (time in s, acc in m/s², sensor frame).
    gap_factor : float
        An interval longer than this many median intervals is a gap.

    Returns
    -------
    StreamSummary
        The stream's figures, in SI units.
    """
    import numpy as np

    gaps = stream.gaps(gap_factor)
    return StreamSummary(
        samples=len(stream), rate_hz=stream.rate_hz, duration_s=stream.duration_s,
        gap_count=len(gaps), longest_gap_s=float(gaps.max()) if len(gaps) else 0.0,
        acc_norm_median_mps2=float(np.median(np.linalg.norm(stream.acc, axis=1))),
        has_mag=stream.mag is not None,
    )


def sensor_table(rec: Recording) -> Table:
    """A rich table with one row per sensor, in PLACEMENTS order.

    Parameters
    ----------
    rec : Recording
        The recording shown.

    Returns
    -------
    Table
        Per sensor: samples, median rate (Hz), duration (s), gaps, longest gap (s),
        median |a| (m/s²) and whether it has a magnetometer.
    """
    from rich.table import Table

    table = Table(title="sensors", caption=f"rate and |a| are medians; a gap is an interval "
                  f"> {GAP_FACTOR:g} × the median interval")
    table.add_column("sensor", no_wrap=True, min_width=11)
    for col in ("samples", "rate Hz", "duration s", "gaps", "longest gap s", "|a| m/s²", "mag"):
        table.add_column(col, justify="right")
    for name in rec.placements:
        s = summarize_stream(rec.streams[name])
        table.add_row(
            name, str(s.samples), f"{s.rate_hz:.1f}", f"{s.duration_s:.2f}", str(s.gap_count),
            f"{s.longest_gap_s:.3f}" if s.gap_count else "-", f"{s.acc_norm_median_mps2:.2f}",
            "yes" if s.has_mag else "no",
        )
    return table


def describe_test(rec: Recording) -> list[str]:
    """Lines about the test: leg, athlete, step height, pain, start time, extras.

    Parameters
    ----------
    rec : Recording
        The recording described.

    Returns
    -------
    list of str
        One line each: test leg, athlete (id and body lengths in m), step height (m), pain
        NRS, duration (s), then the start time, a programme set's exercise and the other
        metadata keys when there are any.
    """
    a = rec.athlete
    body = [f"{k} {v:g} m" for k, v in (("height", a.height_m), ("thigh", a.thigh_length_m),
                                       ("shank", a.shank_length_m),
                                       ("foot medial offset", a.foot_medial_offset_m))
            if v is not None]
    athlete = ", ".join(([a.id] if a.id else []) + body) or "not given"
    step = f"{rec.step_height_m:.2f} m" if rec.step_height_m is not None else "not given"
    if rec.pain_nrs is None:
        pain = "not reported"
    elif isinstance(rec.pain_nrs, list):
        pain = "per rep " + " ".join(f"{p:g}" for p in rec.pain_nrs)
    else:
        pain = f"{rec.pain_nrs:g} (whole test)"
    lines = [f"test leg: {rec.test_leg}", f"athlete: {athlete}", f"step height: {step}",
             f"pain NRS: {pain}", f"duration: {rec.duration_s:.2f} s"]
    if rec.started_at:
        lines.append(f"started at: {rec.started_at}")
    if "exercise" in rec.extra:  # a programme set (issue 15)
        from sensor_io.exercise import exercise_of

        ex = exercise_of(rec)
        rx = ", ".join(f"{k} {v}" for k, v in ex.prescription.items())
        lines.append(f"exercise: {ex.kind.replace('_', ' ')}, band {'yes' if ex.band else 'no'}, "
                     f"added load {ex.load_kg:g} kg" + (f"; prescribed {rx}" if rx else ""))
    if rec.extra:
        lines.append(f"other metadata: {', '.join(sorted(rec.extra))}")
    return lines


def quality_lines(rec: Recording) -> list[str]:
    """The recorder's per-sensor quality summary (sensor metadata ``quality``) and the
    gap markers longer than 0.5 s with their reasons; empty for a recording without them.

    Parameters
    ----------
    rec : Recording
        The recording described.

    Returns
    -------
    list of str
        One line per sensor with a quality summary, then one per gap longer than 0.5 s.
    """
    lines = []
    for name, meta in rec.sensors_meta.items():
        q = meta.get("quality")
        if q:
            decoder = ", ".join(f"{q[k]} {k.replace('_', ' ')}" for k in
                                ("bad_packets", "duplicates", "reconnects") if k in q)
            lines.append(f"{name}: {q['samples']} samples kept, {q['gaps']} gaps "
                         f"({q['lost_samples']} samples lost)" + (f", {decoder}" if decoder else ""))
    for g in rec.extra.get("gaps", []):
        if g["end_s"] - g["start_s"] > 0.5:
            lines.append(f"gap: {g['sensor']} {g['start_s']:.2f}-{g['end_s']:.2f} s "
                         f"({g['reason']})")
    return lines


def frozen_lines(rec: Recording) -> list[str]:
    """One line per run of a repeated frame that cannot be a still sensor.

    Parameters
    ----------
    rec : Recording
        The recording shown.

    Returns
    -------
    list of str
        "frozen: <the analysis's warning>" per run, in placement then time order. No
        standing bias is taken off here (the analysis takes it off), so a still sensor
        whose gyro bias alone reads above the limit (2 °/s by default) would be listed.
    """
    from sensor_io.frozen_frames import frozen_runs

    return [f"frozen: {run.warning()}" for name in rec.placements
            for run in frozen_runs(name, rec.streams[name])]


@app.command()
def info(
    recording: Annotated[Path, typer.Argument(help="Recording (.parquet or .csv + .json).")],
) -> None:
    """Show the sensors and metadata of a recording.\f

    Parameters
    ----------
    recording : Path
        Recording (.parquet or .csv + .json).
    """
    from rich.console import Console
    from rich.markup import escape

    from sensor_io.recording_io import read_recording

    rec = read_recording(recording)
    console = Console()
    console.print(f"[bold]{escape(str(recording))}[/]", highlight=False)
    for line in describe_test(rec):  # the file's own text (athlete id, keys): never markup
        console.print(line, highlight=False, markup=False)
    console.print(sensor_table(rec))
    for line in quality_lines(rec) + frozen_lines(rec):
        console.print(line, highlight=False, markup=False)

"""The figure of one analysis (`stepdown analyze --plot`): every available measure series
over time, the reps shaded and the thresholds drawn. matplotlib is imported when drawing."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from analysis import registry
from analysis.result import AnalysisResult
from analysis.rules import RuleConfig
from sensor_io.errors import InputError
from stepdown.analysis_report import measure_columns
from stepdown.paths import check_output_folder

if TYPE_CHECKING:
    from collections.abc import Mapping

    import numpy as np

    from analysis.measures import MeasureSeries
    from analysis.pipeline import Analysis


def _thresholds(key: str, config: RuleConfig) -> list[tuple[float, str]]:
    """Threshold lines for a measure panel: (value in the panel's unit, label), from the
    rules that judge the measure (:func:`analysis.registry.measure_levels`); mirrored below
    zero for a measure judged by its size either side (the trunk lean)."""
    lines = []
    for item, level in registry.measure_levels(key):
        value = float(config.threshold(level.setting))
        points = f" {level.points}" if item.max_points > 1 else ""
        lines.append((value, f"{item.name}{points}: {level.what}"))
        if registry.by_magnitude(key):
            lines.append((-value, item.name))
    return lines


def plot_panels(series: Mapping[str, np.ndarray | None]) -> list[list[str]]:
    """Which series go on which panel: hip adduction and rotation share one; None dropped.

    Parameters
    ----------
    series : Mapping of str to numpy.ndarray or None
        Measure key -> its (N,) series in the key's unit (None: not available).

    Returns
    -------
    list of list of str
        Per panel, the measure keys drawn on it; empty panels left out.
    """
    groups = [["knee_medial_cm"], ["pelvic_drop_deg"], ["trunk_lean_deg"],
              ["hip_adduction_deg", "hip_internal_rotation_deg"], ["hip_flexion_deg"],
              ["wrist_motion_deg"]]
    panels = [[k for k in g if series.get(k) is not None] for g in groups]
    return [p for p in panels if p]


def plot_analysis(analysis: Analysis, path: Path, title: str = "") -> Path:
    """PNG of every available measure series over time (s) with the reps shaded.

    One panel per measure (hip adduction and internal rotation together), deg or
    cm relative to standing; dashed red lines are the rule thresholds, dots each
    rep's peak (the value in the table), yellow spans the reps with their index and
    total (dotted: bottom), grey the calibration window, purple skipped partial reps.

    Parameters
    ----------
    analysis : Analysis
        The analysis: its measure series, result and rule config.
    path : pathlib.Path
        The PNG to write.
    title : str
        Put before the figure's title line.

    Returns
    -------
    pathlib.Path
        ``path``, written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ms, result = analysis.series, analysis.result()
    panels = plot_panels(ms.series)
    fig, axes = plt.subplots(len(panels), 1, figsize=(11, 1.9 * len(panels) + 1.2),
                             sharex=True, squeeze=False)
    for ax, keys in zip(axes[:, 0], panels, strict=True):
        _draw_panel(ax, ms, keys, result, analysis.config)
    for rep in result.reps:
        axes[0, 0].annotate(f"rep {rep.index}: {rep.total}", ((rep.start_s + rep.end_s) / 2, 0.97),
                            xycoords=("data", "axes fraction"), ha="center", va="top",
                            fontsize=8, fontweight="bold")
    axes[-1, 0].set_xlabel("time (s)", fontsize=8)
    test = result.test
    fig.suptitle(f"{title}{result.recording.test_leg} test leg, {test.category}: total "
                 f"{test.total} of 8, Piva {test.piva_total} of 6 (rule {test.rule})\n"
                 "grey: standing calibration; yellow: reps 'rep: total' (dotted: bottom); "
                 "dots: each rep's peak; dashed red: thresholds (default heuristics unless "
                 "configured)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _draw_panel(ax: Any, ms: MeasureSeries, keys: list[str], result: AnalysisResult,
                config: RuleConfig) -> None:
    """One measure panel: series, each rep's peak, thresholds, shading, title with units."""
    units = {k: u for k, _, _, u, _ in measure_columns()}
    labels = {k: lab for k, _, lab, _, _ in measure_columns()}
    _shade(ax, result)
    for key, color in zip(keys, ("tab:blue", "tab:orange"), strict=False):
        y = ms.series[key]
        ax.plot(ms.t, y, lw=1.0, color=color, label=labels[key])
        for rep in result.reps:
            m = (ms.t >= rep.start_s) & (ms.t <= rep.end_s)
            if m.any():
                k = int(abs(y[m]).argmax() if registry.by_magnitude(key) else y[m].argmax())
                ax.plot(ms.t[m][k], y[m][k], "o", ms=3.5, color=color)
    thresholds = _thresholds(keys[0], config)
    for value, label in thresholds:
        ax.axhline(value, color="tab:red", lw=0.8, ls="--")
        ax.annotate(label, (0.002, value), xycoords=("axes fraction", "data"), fontsize=7,
                    color="tab:red", va="bottom")
    unit = units[keys[0]]
    shown = ", ".join(f"{v:g}" for v, _ in thresholds if v > 0)
    ax.set_title(" / ".join(labels[k] for k in keys) + f" ({unit})"
                 + (f"; threshold {shown} {unit}" if shown else ""), fontsize=9, loc="left")
    lo, hi = ax.get_ylim()
    ax.set_ylim(lo, hi + 0.22 * (hi - lo))  # headroom for the labels
    ax.set_ylabel(unit, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.25, lw=0.5)
    if len(keys) > 1:
        ax.legend(loc="upper right", fontsize=7, frameon=False, ncol=2)


def _shade(ax: Any, result: AnalysisResult) -> None:
    if (window := result.recording.calibration_window_s) is not None:
        ax.axvspan(*window, color="0.85", alpha=0.6, lw=0)
    for rep in result.reps:
        ax.axvspan(rep.start_s, rep.end_s, color="gold", alpha=0.22, lw=0)
        if rep.bottom_s is not None:
            ax.axvline(rep.bottom_s, color="0.4", lw=0.6, ls=":")
    for skipped in result.skipped or ():
        ax.axvspan(skipped.start_s, skipped.end_s, color="tab:purple", alpha=0.12, lw=0)


def check_plot_path(out: Path | None) -> None:
    """--plot must be a .png in an existing folder (checked before the analysis runs).

    Parameters
    ----------
    out : pathlib.Path or None
        The ``--plot`` value; None: no plot, nothing to check.

    Raises
    ------
    InputError
        Not a .png name, or its folder does not exist or cannot be written.
    """
    if out is None:
        return
    if out.suffix.lower() != ".png":
        raise InputError(f"--plot {out}: the plot is written as PNG; give a name ending in .png")
    check_output_folder(out, f"--plot {out}")

"""Plotly figure specs (plain dicts, drawn in the browser by the local plotly.min.js).

Units follow the measure names (``_deg``, ``_cm``); thresholds are the rule
scorer's (:class:`analysis.rules.RuleConfig`), shown as dashed lines and named as
default heuristics, as DESIGN.md asks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from analysis import registry
from analysis.result import AnalysisResult
from sensor_io.json_doc import JSONDoc
from stepdown.catalog.repo import AthleteInfo, RepDetail, TestSummary

if TYPE_CHECKING:
    from collections.abc import Mapping

    import numpy as np

    from analysis.rules import RuleConfig

def json_for_html(value: object) -> str:
    """JSON safe inside a <script type="application/json"> element (no '<', '>', '&').

    Parameters
    ----------
    value : object
        Anything :func:`json.dumps` takes.

    Returns
    -------
    str
        The JSON text, escaped as :func:`html_safe` does.
    """
    return html_safe(json.dumps(value))


def html_safe(json_text: str) -> str:
    """JSON text with '<', '>' and '&' escaped, to sit inside an HTML element.

    Parameters
    ----------
    json_text : str
        JSON text.

    Returns
    -------
    str
        The same JSON value, the three characters written as ``\\u`` escapes.
    """
    return json_text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


CATEGORY_COLOURS = {"good": "#2e7d32", "medium": "#ef8f00", "poor": "#c62828"}
LEG_COLOURS = {"left": "#1f5fa8", "right": "#8e44ad"}


@dataclass(frozen=True)
class MeasureSpec:
    """One charted measure: what it is called and which threshold lines it gets."""

    key: str
    """The measure's key in the results (``knee_medial_cm``); its unit is in the name."""
    title: str
    """The chart title."""
    unit: str
    """The measure's unit, as the axis shows it."""
    thresholds: tuple[tuple[float, str], ...]
    """(value, label) of each threshold line, value in ``unit``."""
    magnitude: bool = False
    """The rule judges the size, either side (analysis.registry)."""


CHARTED = (("knee_medial_cm", "Knee moving inside the foot"),
           ("pelvic_drop_deg", "Pelvic drop (swing side lower)"),
           ("trunk_lean_deg", "Trunk lean sideways (either side)"),
           ("hip_adduction_deg", "Hip adduction"))
"""The measures charted per rep and over time, with their chart titles."""


def measure_specs(foot_offset_cm: float | None = None, cfg: RuleConfig | None = None
                  ) -> list[MeasureSpec]:
    """The charted measures with their rule thresholds (:func:`analysis.registry.measure_levels`):
    ``cfg``'s (default: the defaults), the knee's second level at the athlete's foot offset
    (cm) if known.

    Parameters
    ----------
    foot_offset_cm : float or None
        The athlete's foot medial offset, cm; None: the configured second knee threshold.
    cfg : RuleConfig or None
        The rule thresholds; None for the defaults.

    Returns
    -------
    list of MeasureSpec
        One per charted measure (``CHARTED``), in that order.
    """
    from analysis.rules import RuleConfig

    cfg = cfg or RuleConfig()
    knee_2 = {} if foot_offset_cm is None else {"knee_cm_2": foot_offset_cm}
    return [MeasureSpec(key, title, registry.measure(key).unit,
                        tuple(_threshold(key, item, level,
                                         knee_2.get(level.setting, cfg.threshold(level.setting)))
                              for item, level in registry.measure_levels(key)),
                        magnitude=registry.by_magnitude(key))
            for key, title in CHARTED]


def _threshold(key: str, item: registry.Item, level: registry.Level, value: float
               ) -> tuple[float, str]:
    """(value, label) of one threshold line: "5°", or "1 cm: inside the second toe" for an
    item of several levels."""
    text = f"{value:g}{registry.unit_after_number(key)}"
    return value, (f"{text}: {level.what}" if item.max_points > 1 else text)


def analysis_specs(analysis: AnalysisResult, athlete: AthleteInfo | None
                   ) -> list[MeasureSpec]:
    """The charted measures with the thresholds this analysis used (its ``config.rules``);
    one stored before settings were saved gets :func:`athlete_specs`.

    Parameters
    ----------
    analysis : AnalysisResult
        The stored analysis.
    athlete : AthleteInfo or None
        The athlete, for the foot offset of an analysis without saved settings.

    Returns
    -------
    list of MeasureSpec
        One per charted measure.
    """
    from analysis.rules import RuleConfig, threshold_names

    used = (analysis.config or {}).get("rules")
    if not used:
        return athlete_specs(athlete)
    cfg = RuleConfig(**{k: float(used[k]) for k in threshold_names() if k in used})
    return measure_specs(cfg=cfg)


def athlete_specs(athlete: AthleteInfo | None) -> list[MeasureSpec]:
    """:func:`measure_specs` with the athlete's foot medial offset (m -> cm) when known.

    Parameters
    ----------
    athlete : AthleteInfo or None
        The athlete (foot medial offset in m), or None.

    Returns
    -------
    list of MeasureSpec
        One per charted measure, default thresholds.
    """
    offset_m = None if athlete is None else athlete.foot_medial_offset_m
    return measure_specs(None if offset_m is None else offset_m * 100.0)


def _layout(title: str, y_title: str, **extra: Any) -> JSONDoc:
    layout = {
        "title": {"text": title, "font": {"size": 15}},
        "margin": {"l": 55, "r": 20, "t": 45, "b": 45}, "height": 280,
        "yaxis": {"title": {"text": y_title}, "rangemode": "tozero", "zeroline": True},
        "showlegend": False, "plot_bgcolor": "#fafafa",
    }
    layout.update(extra)
    return layout


def _threshold_shapes(spec: MeasureSpec) -> tuple[list[dict], list[dict]]:
    shapes, notes = [], []
    for value, label in spec.thresholds:
        shapes.append({"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": value,
                       "y1": value, "line": {"color": "#c62828", "dash": "dash", "width": 1.5}})
        notes.append({"xref": "paper", "x": 0, "y": value, "xanchor": "left",
                      "yanchor": "bottom", "showarrow": False, "text": f"threshold {label}",
                      "font": {"size": 11, "color": "#c62828"}, "bgcolor": "rgba(255,255,255,0.8)"})
    return shapes, notes


def rep_measure_charts(reps: list[RepDetail], specs: list[MeasureSpec]) -> list[JSONDoc]:
    """One bar chart per measure: its peak in each rep, thresholds dashed.

    Bars over the lowest threshold are drawn red.  Measures without any value
    (no sensor for them) are left out.

    Parameters
    ----------
    reps : list of RepDetail
        The test's reps (measures in the units of their names).
    specs : list of MeasureSpec
        The measures to chart.

    Returns
    -------
    list of dict
        Plotly figures ``{"id", "data", "layout"}``, one per measure with a value.
    """
    figures = []
    for spec in specs:
        values = [r.measures.get(spec.key) for r in reps]
        if all(v is None for v in values):
            continue
        lowest = min((t for t, _ in spec.thresholds), default=None)
        colours = ["#c62828" if lowest is not None and v is not None and v > lowest
                   else "#607d8b" for v in values]
        shapes, notes = _threshold_shapes(spec)
        top = max([v for v in values if v is not None] + [t for t, _ in spec.thresholds])
        figures.append({
            "id": spec.key,
            "data": [{"type": "bar", "x": [f"rep {r.index}" for r in reps], "y": values,
                      "marker": {"color": colours},
                      "text": [("–" if v is None else f"{v:.1f}") for v in values],
                      "textposition": "outside",
                      "hovertemplate": f"%{{x}}: %{{y:.1f}} {spec.unit}<extra></extra>"}],
            "layout": _layout(f"{spec.title}, peak per rep", spec.unit, shapes=shapes,
                              annotations=notes,
                              yaxis={"title": {"text": spec.unit}, "range": [0, top * 1.25 + 0.5]}),
        })
    return figures


def _by_leg(tests: list[TestSummary], value, band: float | None = None) -> list[JSONDoc]:
    """One line per leg; with ``band``, a shaded ±band around it (drawn first, under it)."""
    traces = []
    for leg in ("left", "right"):
        mine = [t for t in tests if t.test_leg == leg and value(t) is not None]
        if not mine:
            continue
        x, y = [t.when for t in mine], [value(t) for t in mine]
        if band is not None:
            colour = LEG_COLOURS[leg]
            traces.append({"type": "scatter", "mode": "lines", "x": x + x[::-1],
                           "y": [v + band for v in y] + [v - band for v in y][::-1],
                           "fill": "toself", "fillcolor": _rgba(colour, 0.15),
                           "line": {"width": 0}, "hoverinfo": "skip", "showlegend": False,
                           "name": f"{leg} leg ±{band:g}"})
        traces.append({"type": "scatter", "mode": "lines+markers", "name": f"{leg} leg",
                       "x": x, "y": y, "line": {"color": LEG_COLOURS[leg]},
                       "marker": {"size": 9}})
    return traces


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _date_axis(tests: list[TestSummary]) -> JSONDoc:
    """A date x axis; with a single test day, a week either side (not a span of milliseconds)."""
    import datetime as dt

    axis: JSONDoc = {"type": "date"}
    days = {t.when[:10] for t in tests}
    if len(days) == 1:
        day = dt.date.fromisoformat(days.pop())
        axis["range"] = [str(day - dt.timedelta(days=7)), str(day + dt.timedelta(days=7))]
    return axis


def trend_band(key: str) -> float | None:
    """The measurement uncertainty drawn around a trend (90 % bound for one rep peak,
    from simulation); the widest over the calibration cases and ways of measuring.

    Parameters
    ----------
    key : str
        The measure's key (unit in its name).

    Returns
    -------
    float or None
        The half-width of the band in the measure's unit; None when none is known.
    """
    from analysis.uncertainty import largest_uncertainty

    return largest_uncertainty(key)


def athlete_charts(tests: list[TestSummary], specs: list[MeasureSpec]) -> list[JSONDoc]:
    """Trends over the athlete's tests: checklist total, then each measured fault by leg,
    with the measurement uncertainty as a shaded band.

    Parameters
    ----------
    tests : list of TestSummary
        The athlete's tests, oldest first.
    specs : list of MeasureSpec
        The measures to chart.

    Returns
    -------
    list of dict
        Plotly figures: the totals, then one per measure with a value; empty without tests.
    """
    if not tests:
        return []
    bands = [{"type": "rect", "xref": "paper", "x0": 0, "x1": 1, "y0": lo, "y1": hi,
              "fillcolor": CATEGORY_COLOURS[cat], "opacity": 0.08, "line": {"width": 0},
              "layer": "below"} for cat, lo, hi in (("good", -0.5, 1.5), ("medium", 1.5, 3.5),
                                                     ("poor", 3.5, 8.5))]
    labels = [{"xref": "paper", "x": 0, "y": y, "xanchor": "left", "showarrow": False,
               "text": cat, "font": {"size": 11, "color": CATEGORY_COLOURS[cat]}}
              for cat, y in (("good", 0.5), ("medium", 2.5), ("poor", 6))]
    legend = {"showlegend": True, "legend": {"orientation": "h", "y": -0.25},
              "xaxis": _date_axis(tests)}
    figures = [{
        "id": "totals",
        "data": _by_leg(tests, lambda t: t.total),
        "layout": _layout("Checklist total (0-8) per test", "total", shapes=bands,
                          annotations=labels, yaxis={"title": {"text": "total"},
                                                     "range": [-0.5, 8.5], "dtick": 1},
                          **legend),
    }]
    for spec in specs:
        if all(t.mean_measures.get(spec.key) is None for t in tests):
            continue
        shapes, notes = _threshold_shapes(spec)
        band = trend_band(spec.key)
        title = f"{spec.title} ({spec.unit}), mean of rep peaks"
        figures.append({
            "id": f"trend_{spec.key}",
            "data": _by_leg(tests, lambda t, k=spec.key: t.mean_measures.get(k), band),
            "layout": _layout(title, spec.unit, shapes=shapes, annotations=notes, **legend),
        })
    return figures


EPISODE_COLOURS = {"acwr_rolling": "#c62828", "acwr_ewma": "#c62828",
                   "progression_2w": "#ef8f00", "monotony": "#8e44ad",
                   "pain_rising": "#6d4c41", "stepdown_worsening": "#1f5fa8"}


def episode_shapes(episodes: list[dict]) -> list[JSONDoc]:
    """Shaded spans, one per flag episode (``{"flag", "start", "end"}`` ISO dates, inclusive).

    Parameters
    ----------
    episodes : list of dict
        The flag episodes (:func:`stepdown.web.views.load_episodes`).

    Returns
    -------
    list of dict
        Plotly rectangle shapes, from the start day's midnight to the midnight after the end.
    """
    import datetime as dt

    return [{"type": "rect", "xref": "x", "yref": "paper", "y0": 0, "y1": 1,
             "x0": f"{ep['start']}T00:00:00",
             "x1": f"{dt.date.fromisoformat(ep['end']) + dt.timedelta(days=1)}T00:00:00",
             "fillcolor": EPISODE_COLOURS.get(ep["flag"], "#c62828"), "opacity": 0.10,
             "line": {"width": 0}, "layer": "below"} for ep in episodes]


def load_chart(panel: Any, episodes: list[dict] = ()) -> JSONDoc:
    """Training load per day (bars, missing days left empty) with acute/chronic EWMA lines,
    flag episodes shaded.

    Parameters
    ----------
    panel : LoadPanel
        :class:`analysis.training_load.panel.LoadPanel`: dates, daily load, acute and chronic
        EWMA, in its ``load_unit``.
    episodes : list of dict
        See :func:`episode_shapes`.

    Returns
    -------
    dict
        The Plotly figure ``{"id": "load", "data", "layout"}``.
    """
    return {
        "id": "load",
        "data": [
            {"type": "bar", "name": "daily load", "x": panel.dates, "y": panel.daily_load,
             "marker": {"color": "#90a4ae"}},
            {"type": "scatter", "mode": "lines", "name": "acute (7-day EWMA)", "x": panel.dates,
             "y": panel.acute, "line": {"color": "#ef8f00"}},
            {"type": "scatter", "mode": "lines", "name": "chronic (28-day EWMA)",
             "x": panel.dates, "y": panel.chronic, "line": {"color": "#1f5fa8"}},
        ],
        "layout": _layout(f"Training load per day ({panel.load_unit}); shaded: flag episodes",
                          panel.load_unit, shapes=episode_shapes(list(episodes)),
                          showlegend=True, legend={"orientation": "h", "y": -0.25}),
    }


def rep_curve_charts(t: np.ndarray, series: Mapping[str, np.ndarray | None], reps: list[RepDetail],
                     specs: list[MeasureSpec], max_points: int = 200) -> list[JSONDoc]:
    """Curves of each measure over every rep, overlaid from the rep's start, thresholds dashed.

    Parameters
    ----------
    t : array_like
        (N,) s on the recording clock.
    series : Mapping of str to numpy.ndarray or None
        Measure key -> (N,) values in the key's unit, or None where no sensor gives it
        (left out).
    reps : list of RepDetail
        The reps (start and end in s on the same clock).
    specs : list of MeasureSpec
        The measures to chart.
    max_points : int
        At most about this many points per rep curve (decimated).

    Returns
    -------
    list of dict
        Plotly figures, one per measure with a curve; x in s from each rep's start.
    """
    import numpy as np

    t = np.asarray(t, dtype=float)
    figures = []
    for spec in specs:
        values = series.get(spec.key)
        if values is None:
            continue
        values = np.asarray(values, dtype=float)
        if spec.magnitude:
            values = np.abs(values)
        traces = []
        for rep in reps:
            idx = np.flatnonzero((t >= rep.start_s) & (t <= rep.end_s))
            if len(idx) < 2:
                continue
            idx = idx[:: max(1, len(idx) // max_points)]
            y = [None if v != v else v  # NaN -> None (JSON null)
                 for v in np.round(np.where(np.isfinite(values[idx]), values[idx], np.nan),
                                   2).tolist()]
            traces.append({"type": "scatter", "mode": "lines", "name": f"rep {rep.index}",
                           "x": np.round(t[idx] - rep.start_s, 3).tolist(), "y": y,
                           "hovertemplate": f"rep {rep.index}, %{{x:.1f}} s: %{{y:.1f}} "
                                            f"{spec.unit}<extra></extra>"})
        if not traces:
            continue
        shapes, notes = _threshold_shapes(spec)
        figures.append({
            "id": f"curve_{spec.key}",
            "data": traces,
            "layout": _layout(f"{spec.title} during each rep", spec.unit, shapes=shapes,
                              annotations=notes, showlegend=True,
                              xaxis={"title": {"text": "time from rep start (s)"}},
                              legend={"orientation": "h", "y": -0.3}, height=320),
        })
    return figures

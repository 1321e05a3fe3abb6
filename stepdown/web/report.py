"""The printable report of one test: self-contained HTML, and the same as a PDF.

Both are drawn with matplotlib (a dependency already): the HTML embeds its
charts as inline SVG and its style inline, so the file can be saved, mailed and
opened offline with nothing else; the PDF is one A4 page.
"""

from __future__ import annotations

import io
import re
import textwrap
from datetime import UTC, datetime

import jinja2
from matplotlib.figure import Figure

from analysis import registry
from stepdown.catalog.repo import AthleteInfo, TestDetail
from stepdown.web import charts, views

CATEGORY_WORDS = {"good": "good control", "medium": "some loss of control",
                  "poor": "poor control"}


def _draw_measures(fig: Figure, grid, detail: TestDetail, athlete: AthleteInfo | None) -> None:
    """Bar charts of up to four measures' peak per rep, into the 2x2 ``grid`` of ``fig``.

    Bars over the lowest threshold are red; thresholds are dashed and labelled.
    """
    specs = [sp for sp in charts.athlete_specs(athlete)
             if any(r.measures.get(sp.key) is not None for r in detail.reps)][:4]
    reps = detail.reps
    for i, spec in enumerate(specs):
        ax = fig.add_subplot(grid[i // 2, i % 2])
        values = [r.measures.get(spec.key) for r in reps]
        lowest = min((t for t, _ in spec.thresholds), default=None)
        ax.bar([str(r.index) for r in reps], [0 if v is None else v for v in values],
               color=["#c62828" if lowest is not None and v is not None and v > lowest
                      else "#90a4ae" for v in values])
        top = max([v for v in values if v is not None] + [t for t, _ in spec.thresholds])
        ax.set_ylim(0, top * 1.35 + 0.5)  # room above the bars for the threshold labels
        for value, label in spec.thresholds:
            ax.axhline(value, color="#c62828", linestyle="--", linewidth=1, zorder=3)
            # in front of the bars, on a white box, at the left edge: never hidden by a bar
            ax.text(0.01, value, label, transform=ax.get_yaxis_transform(), ha="left",
                    va="bottom", fontsize=7, color="#c62828", zorder=4,
                    bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1})
        ax.set_title(f"{spec.title} ({spec.unit})", fontsize=9)
        ax.set_xlabel("rep", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.spines[["top", "right"]].set_visible(False)


def charts_svg(detail: TestDetail, athlete: AthleteInfo | None) -> str:
    """The per-rep measure charts as one inline SVG element.

    Parameters
    ----------
    detail : TestDetail
        The test.
    athlete : AthleteInfo or None
        Its athlete (the foot offset sets the knee's second threshold), or None.

    Returns
    -------
    str
        The ``<svg>`` element, without its metadata.
    """
    fig = Figure(figsize=(7.5, 4.6))  # not pyplot: its global state is not thread-safe
    _draw_measures(fig, fig.add_gridspec(2, 2, hspace=0.6, wspace=0.25), detail, athlete)
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    svg = buf.getvalue()
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)  # no outside names at all
    return svg[svg.index("<svg"):]


def athlete_notes(detail: TestDetail) -> list:
    """The notes the coach chose for the athlete's report (never the coaches-only ones).

    Parameters
    ----------
    detail : TestDetail
        The test.

    Returns
    -------
    list of Note
        Its notes marked for the athlete.
    """
    return [n for n in detail.notes if n.for_athlete]


def report_html(detail: TestDetail, athlete: AthleteInfo | None, env: jinja2.Environment) -> str:
    """The report as one HTML document with no external reference.

    The result is the coach-reviewed one (labels in place) when the coach relabelled
    reps; only the notes the coach chose for the athlete are printed.

    Parameters
    ----------
    detail : TestDetail
        The test.
    athlete : AthleteInfo or None
        Its athlete, or None.
    env : jinja2.Environment
        The app's templates (``report.html``).

    Returns
    -------
    str
        The HTML document.
    """
    return env.get_template("report.html").render(
        s=detail.summary, t=detail, athlete=athlete, svg=charts_svg(detail, athlete),
        reviewed=views.reviewed_result(detail), notes=athlete_notes(detail),
        explanations=views.explanations(detail), label_lines=views.label_lines(detail),
        uncertainty=views.uncertainty_lines(detail),
        reps=[{"rep": r, "cells": views.item_cells(r)} for r in detail.reps],
        words=CATEGORY_WORDS, items=registry.item_names(), item_names=views.item_titles(),
        printed=datetime.now(UTC).strftime("%Y-%m-%d"))


def report_pdf(detail: TestDetail, athlete: AthleteInfo | None, lines: list[str]) -> bytes:
    """The report as a one-page A4 PDF: result (coach-reviewed when relabelled), explanation,
    per-rep items, the notes chosen for the athlete, charts.

    Parameters
    ----------
    detail : TestDetail
        The test.
    athlete : AthleteInfo or None
        Its athlete, or None.
    lines : list of str
        The explanation lines (at most 8 are printed).

    Returns
    -------
    bytes
        The PDF file.
    """
    s = detail.summary
    reviewed = views.reviewed_result(detail)
    fig = Figure(figsize=(8.27, 11.69))
    fig.text(0.07, 0.955, f"Lateral step-down test — {s.athlete_id}", fontsize=16,
             weight="bold")
    fig.text(0.07, 0.93, f"{s.when_text} UTC · {s.test_leg} leg · {s.n_reps} reps",
             fontsize=10, color="#455a64")
    colour = charts.CATEGORY_COLOURS[reviewed.category]
    fig.text(0.07, 0.885, f"{reviewed.total}/8", fontsize=30, weight="bold", color=colour)
    fig.text(0.22, 0.897, f"{reviewed.category}: {CATEGORY_WORDS[reviewed.category]}",
             fontsize=13, color=colour)
    fig.text(0.22, 0.882, f"Piva 0-6 subtotal {reviewed.piva_total} · {s.rule} rule · "
             "0-1 good, 2-3 medium, 4+ poor", fontsize=9, color="#455a64")
    if reviewed.relabelled:
        fig.text(0.22, 0.868, f"Reviewed by your coach (automatic result {s.total}/8)",
                 fontsize=9, color="#4a148c")
    y = 0.84
    for line in (lines or ["No fault found in more than half of the reps."])[:8]:
        fig.text(0.07, y, f"• {line}", fontsize=8.5, wrap=True)
        y -= 0.02
    rows = [[str(r.index)] + ["–" if v is None else str(v) for v in
                              (r.reviewed_items().get(k) for k in registry.item_names())]
            + [str(views.coach_total(r))] for r in detail.reps]
    ax = fig.add_axes((0.07, y - 0.03 - 0.022 * len(rows), 0.86, 0.022 * (len(rows) + 1)))
    ax.axis("off")
    table = ax.table(cellText=rows, colLabels=["Rep"] + [i.short for i in registry.ITEMS]
                     + ["Total"], loc="upper center", cellLoc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    y = y - 0.06 - 0.022 * len(rows)
    shared = athlete_notes(detail)
    if shared:
        fig.text(0.07, y, "Notes from your coach", fontsize=10, weight="bold")
        for note in shared[:4]:
            y -= 0.02
            fig.text(0.07, y, f"• {textwrap.shorten(note.text, 150, placeholder=' …')}",
                     fontsize=8.5)
        y -= 0.02
    sub = fig.add_gridspec(2, 2, left=0.09, right=0.95, bottom=0.08, top=y - 0.03,
                           hspace=0.45, wspace=0.3)
    _draw_measures(fig, sub, detail, athlete)
    fig.text(0.07, 0.035, "Items: coach labels where given, else automatic. Thresholds are "
             "default heuristics, not validated cut-offs.", fontsize=7.5, color="#607d8b")
    buf = io.BytesIO()
    fig.savefig(buf, format="pdf")
    return buf.getvalue()


def progress_svg(tests: list, specs: list) -> str:
    """Totals and the measured faults over the tests, by leg, as one inline SVG element
    (measures with their uncertainty band, as on the athlete page).

    Parameters
    ----------
    tests : list of TestSummary
        The athlete's tests, oldest first (at least one).
    specs : list of MeasureSpec
        The charted measures; the first two with a value are drawn.

    Returns
    -------
    str
        The ``<svg>`` element, without its metadata.
    """
    import matplotlib.dates as mdates
    import numpy as np

    shown = [sp for sp in specs[:2] if any(t.mean_measures.get(sp.key) is not None
                                           for t in tests)]
    fig = Figure(figsize=(7.5, 2.4 * (1 + len(shown))))
    axes = fig.subplots(1 + len(shown), 1, sharex=True, squeeze=False)[:, 0]
    when = {t.id: np.datetime64(t.when[:19]) for t in tests}
    panels = [("Checklist total (0-8)", lambda t: t.total, None)] + [
        (f"{sp.title} ({sp.unit})", lambda t, k=sp.key: t.mean_measures.get(k),
         charts.trend_band(sp.key)) for sp in shown]
    for ax, (title, value, band) in zip(axes, panels, strict=True):
        for leg, colour in charts.LEG_COLOURS.items():
            mine = [t for t in tests if t.test_leg == leg and value(t) is not None]
            if not mine:
                continue
            x = [when[t.id] for t in mine]
            y = np.array([value(t) for t in mine], dtype=float)
            if band is not None:
                ax.fill_between(x, y - band, y + band, color=colour, alpha=0.15, linewidth=0)
            ax.plot(x, y, "o-", color=colour, label=f"{leg} leg")
        ax.set_title(title, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].legend(fontsize=7, frameon=False)
    axes[0].set_ylim(-0.5, 8.5)
    axes[-1].xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
    if len({t.when[:10] for t in tests}) == 1:  # one day: a week either side, not milliseconds
        day = np.datetime64(tests[0].when[:10])
        axes[-1].set_xlim(day - np.timedelta64(7, "D"), day + np.timedelta64(8, "D"))
    fig.tight_layout()
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    svg = re.sub(r"<metadata>.*?</metadata>", "", buf.getvalue(), flags=re.S)
    return svg[svg.index("<svg"):]


def progress_html(athlete: AthleteInfo, tests: list, latest: TestDetail | None,
                  env: jinja2.Environment) -> str:
    """The athlete's progress over all their tests as one self-contained HTML document:
    trend charts, one line per test, and the newest test's findings.

    Parameters
    ----------
    athlete : AthleteInfo
        The athlete.
    tests : list of TestSummary
        Their tests, oldest first.
    latest : TestDetail or None
        The newest test, or None without tests.
    env : jinja2.Environment
        The app's templates (``progress.html``).

    Returns
    -------
    str
        The HTML document.
    """
    return env.get_template("progress.html").render(
        athlete=athlete, tests=list(reversed(tests)),
        svg=progress_svg(tests, charts.athlete_specs(athlete)) if tests else "",
        latest=latest, reviewed=views.reviewed_result(latest) if latest else None,
        explanations=views.explanations(latest) if latest else [],
        notes=athlete_notes(latest) if latest else [], words=CATEGORY_WORDS,
        printed=datetime.now(UTC).strftime("%Y-%m-%d"))

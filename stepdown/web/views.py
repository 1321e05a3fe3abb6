"""What each page shows, computed from the catalog (no HTTP here).

Plain functions from repository dataclasses to the values the templates print:
athlete flags, the plain-language explanation of a test, per-rep rows with the
automatic verdict beside the coach's label.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from analysis import registry
from analysis.checklist import rep_total
from sensor_io.errors import InputError
from stepdown.catalog.repo import AthleteSummary, RepDetail, TestDetail

SOURCE_NAMES = {"rule": "measured", "classifier": "classifier", "reported": "athlete",
                "not_assessed": "not assessed"}
MEASURE_COLUMNS = (
    ("knee_medial_cm", "Knee medial", "cm"), ("pelvic_drop_deg", "Pelvic drop", "°"),
    ("trunk_lean_deg", "Trunk lean", "°"), ("hip_adduction_deg", "Hip adduction", "°"),
    ("hip_internal_rotation_deg", "Hip int. rotation (unvalidated)", "°"),
    ("hip_flexion_deg", "Hip flexion", "°"),
)


def athlete_flags(a: AthleteSummary) -> list[str]:
    """Short reasons for a coach to look at this athlete first.

    Parameters
    ----------
    a : AthleteSummary
        The athlete with their tests, oldest first.

    Returns
    -------
    list of str
        "no test yet", or: total up since the test before, pain reported, not reviewed.
    """
    latest = a.latest
    if latest is None:
        return ["no test yet"]
    flags = []
    if len(a.tests) >= 2 and latest.total > a.tests[-2].total:
        flags.append(f"total up {a.tests[-2].total} → {latest.total}")
    if latest.any_pain:
        flags.append("pain reported")
    if latest.n_labels == 0 and latest.n_notes == 0:
        flags.append("not reviewed")
    return flags


def sparkline_svg(values: list[int], width: int = 120, height: int = 28) -> str:
    """A tiny inline SVG line of checklist totals (0-8), oldest left; '' if fewer than 2.

    Parameters
    ----------
    values : list of int
        Checklist totals, 0-8, oldest first.
    width, height : int
        Size of the SVG, px.

    Returns
    -------
    str
        The ``<svg>`` element, or '' for fewer than two totals.
    """
    if len(values) < 2:
        return ""
    step = (width - 8) / (len(values) - 1)
    pts = " ".join(f"{4 + i * step:.1f},{height - 4 - v * (height - 8) / 8:.1f}"
                   for i, v in enumerate(values))
    last_x, last_y = pts.split()[-1].split(",")
    return (f'<svg class="spark" width="{width}" height="{height}" role="img" '
            f'aria-label="totals {", ".join(map(str, values))}">'
            f'<polyline fill="none" stroke="#455a64" stroke-width="1.5" points="{pts}"/>'
            f'<circle cx="{last_x}" cy="{last_y}" r="2.5" fill="#455a64"/></svg>')


@dataclass(frozen=True)
class ItemCell:
    """One checklist item of a rep: the automatic verdict beside the coach's label."""

    item: str
    """The item's registry name."""
    auto: int | None
    """The automatic score; None when not assessed."""
    source: str
    """Where the automatic score came from, in words (:data:`SOURCE_NAMES`)."""
    label: int | None
    """The coach's current label, None if none."""
    label_by: str | None
    """Who gave the label."""
    max_value: int
    """The item's highest score."""

    @property
    def shown(self) -> int | None:
        """The coach's label where given, else the automatic score."""
        return self.label if self.label is not None else self.auto

    @property
    def changed(self) -> bool:
        """Whether the coach's label differs from the automatic score."""
        return self.label is not None and self.label != self.auto


def item_titles() -> dict[str, str]:
    """Checklist item -> its name for coaches, for every item of the registry.

    Returns
    -------
    dict of str to str
        Item name -> title.
    """
    return {i.name: i.title for i in registry.ITEMS}


def item_cells(rep: RepDetail) -> list[ItemCell]:
    """One cell per checklist item of the registry: the automatic verdict and the label.

    Parameters
    ----------
    rep : RepDetail
        The rep with its items, sources and labels.

    Returns
    -------
    list of ItemCell
        In the registry's order.
    """
    return [ItemCell(i.name, rep.items.get(i.name),
                     SOURCE_NAMES.get(rep.sources.get(i.name, ""), "–"),
                     rep.labels[i.name].value if i.name in rep.labels else None,
                     rep.labels[i.name].author if i.name in rep.labels else None, i.max_points)
            for i in registry.ITEMS]


@dataclass(frozen=True)
class ReviewedResult:
    """A test's result with the coach's labels in place of the automatic rep items."""

    items: dict[str, int | None]
    """Test-level item scores; None for an item not assessed."""
    total: int
    """Checklist total, 0-8."""
    piva_total: int
    """Piva 0-6 subtotal."""
    category: str
    """good, medium or poor."""
    relabelled: bool
    """Differs from the automatic result."""


def reviewed_result(detail: TestDetail) -> ReviewedResult:
    """Test-level items re-aggregated (the test's own rule) from the reviewed rep items.

    Parameters
    ----------
    detail : TestDetail
        The test with its reps and labels.

    Returns
    -------
    ReviewedResult
        The automatic result itself when no rep is labelled.
    """
    from analysis.checklist import aggregate_items, category, piva_total

    reps = [r.reviewed_items() for r in detail.reps]
    if not any(r.labels for r in detail.reps):
        s = detail.summary
        return ReviewedResult(dict(detail.test_items), s.total, s.piva_total, s.category, False)
    items = aggregate_items(reps, detail.summary.rule)
    total = rep_total(items)
    return ReviewedResult(items, total, piva_total(items), category(total),
                          total != detail.summary.total or items != detail.test_items)


def coach_total(rep: RepDetail) -> int:
    """The rep total with the coach's labels in place of the automatic items.

    Parameters
    ----------
    rep : RepDetail
        The rep.

    Returns
    -------
    int
        The rep's checklist total.
    """
    return rep_total(rep.reviewed_items())


def explanations(detail: TestDetail) -> list[str]:
    """Plain-language lines: the analysis' own if it stored them, else from its measures.

    Recomputed lines come from :func:`analysis.checklist.explain` on the stored
    per-rep measures and pain, with the default rules.

    Parameters
    ----------
    detail : TestDetail
        The test.

    Returns
    -------
    list of str
        The lines; empty when the stored measures cannot be scored again.
    """
    stored = detail.analysis.explanations
    if stored is not None:
        return list(stored)
    from analysis.checklist import score_test
    from analysis.result import MeasuredRep, RepMeasures

    pain = [r.pain_nrs or 0.0 for r in detail.reps]
    try:
        reps = [MeasuredRep(r.index, r.start_s, r.bottom_s, r.end_s,
                            RepMeasures.from_json(r.measures)) for r in detail.reps]
        checklist = score_test(reps, pain_nrs=pain, rule=detail.summary.rule)
    except (InputError, ValueError, KeyError, TypeError):
        return []
    return checklist.explanations(detail.summary.test_leg)


def uncertainty_lines(detail: TestDetail) -> list[str]:
    """How sure the result is (range of totals, borderline reps), from the stored
    analysis; empty for an analysis stored before it carried ``uncertainty``.

    Parameters
    ----------
    detail : TestDetail
        The test.

    Returns
    -------
    list of str
        The lines (:func:`analysis.uncertainty.describe_uncertainty`).
    """
    from analysis.uncertainty import describe_uncertainty

    return [line.strip().removeprefix("~ ")
            for line in describe_uncertainty(detail.analysis)]


def not_measured_lines(detail: TestDetail) -> list[str]:
    """One line per rep measure the analysis could not measure, with the reason (a gap,
    a guessed heading, an implausible value), from the stored analysis.

    Parameters
    ----------
    detail : TestDetail
        The test.

    Returns
    -------
    list of str
        ``rep N, measure: reason`` lines.
    """
    names = {key: name for key, name, _ in MEASURE_COLUMNS}
    return [f"rep {rep.index}, {names.get(k, k).lower()}: {why}"
            for rep in detail.analysis.reps for k, why in (rep.not_measured or {}).items()]


def label_lines(detail: TestDetail) -> list[str]:
    """One line per coach label that differs from the automatic verdict.

    Parameters
    ----------
    detail : TestDetail
        The test.

    Returns
    -------
    list of str
        ``rep N, item: automatic A, coach C (who)`` lines.
    """
    lines = []
    for rep in detail.reps:
        for cell in item_cells(rep):
            if cell.changed:
                lines.append(f"rep {rep.index}, {registry.item(cell.item).title.lower()}: "
                             f"automatic {cell.auto}, coach {cell.label} ({cell.label_by})")
    return lines


def angle_curves_json(detail: TestDetail, specs: list) -> str:
    """Per-rep curve charts (JSON text) recomputed from the stored recording; "[]" without it.

    Runs :func:`analysis.pipeline.analyze` on the catalog's copy of the recording
    (a fraction of a second) to get the measure time series; series and charts
    are kept in memory per file version, reps and specs, so a page shown again
    costs a dictionary look-up.

    Parameters
    ----------
    detail : TestDetail
        The test (its recording path and reps).
    specs : list of MeasureSpec
        The measures to chart.

    Returns
    -------
    str
        JSON list of Plotly figures (:func:`stepdown.web.charts.rep_curve_charts`).
    """
    from pathlib import Path

    path = Path(detail.recording_path)
    try:
        stat = path.stat()
    except OSError:
        return "[]"
    reps = tuple((r.index, r.start_s, r.end_s) for r in detail.reps)
    return _curves_json(str(path), stat.st_mtime_ns, stat.st_size, reps, tuple(specs))


@functools.lru_cache(maxsize=256)
def _curves_json(path: str, mtime_ns: int, size: int, reps: tuple, specs: tuple) -> str:
    import json

    from stepdown.catalog.repo import RepDetail
    from stepdown.web.charts import rep_curve_charts

    series = _measure_series(path, mtime_ns, size)
    if series is None:
        return "[]"
    rep_details = [RepDetail(i, start, None, end, 0, None) for i, start, end in reps]
    return json.dumps(rep_curve_charts(series[0], series[1], rep_details, list(specs)))


@functools.lru_cache(maxsize=64)
def _measure_series(path: str, mtime_ns: int, size: int) -> tuple | None:
    """(t, measure series) of the recording at ``path``; None if it cannot be analysed.

    ``mtime_ns`` and ``size`` are only part of the cache key (a changed file is read again).
    """
    from analysis.pipeline import analyze
    from sensor_io.recording_io import read_recording

    try:
        result = analyze(read_recording(path))
    except (InputError, ValueError):
        return None
    return result.series.t, result.series.series


def load_episodes(flags: list[dict]) -> list[dict]:
    """A load panel's daily flags as episodes, newest first: ``{"flag", "start", "end",
    "text", "days"}`` with ``days`` the daily ``{"date", "reason"}`` lines of the episode.

    Parameters
    ----------
    flags : list of dict
        The panel's daily flags (columns of
        :data:`analysis.training_load.flags.FLAG_COLUMNS` but the athlete; ISO dates).

    Returns
    -------
    list of dict
        The episodes, newest first.
    """
    import pandas as pd

    from analysis.training_load.flags import FLAG_COLUMNS, episode_text, flag_episodes

    if not flags:
        return []
    frame = pd.DataFrame(flags).assign(athlete_id="-")[list(FLAG_COLUMNS)]
    frame["value"] = frame["value"].astype(float)
    frame["threshold"] = frame["threshold"].astype(float)
    out = []
    for ep in flag_episodes(frame).itertuples(index=False):
        start, end = ep.start.date().isoformat(), ep.end.date().isoformat()
        out.append({"flag": ep.flag, "start": start, "end": end, "text": episode_text(ep),
                    "days": [{"date": f["date"], "reason": f["reason"]} for f in flags
                             if f["flag"] == ep.flag and start <= f["date"] <= end]})
    return out


def local_time(iso_utc: str | None, time_zone: str = "UTC") -> str:
    """``2026-11-24T17:03:00Z`` as ``2026-11-24 18:03`` in ``time_zone`` (IANA), with the
    zone's abbreviation unless it is UTC; '–' for None.

    Parameters
    ----------
    iso_utc : str or None
        An ISO 8601 time (one without a zone is taken as UTC).
    time_zone : str
        IANA time zone name.

    Returns
    -------
    str
        The local time to the minute; the text itself when it is not a time.
    """
    import datetime as dt
    from zoneinfo import ZoneInfo

    if not iso_utc:
        return "–"
    try:
        when = dt.datetime.fromisoformat(iso_utc.replace("Z", "+00:00"))
    except ValueError:
        return iso_utc
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    local = when.astimezone(ZoneInfo(time_zone))
    return local.strftime("%Y-%m-%d %H:%M") + ("" if time_zone == "UTC" else
                                                 f" {local.tzname()}")


CSV_COLUMNS = ("test_id", "athlete_id", "started_at_utc", "test_leg", "rule", "total",
               "piva_total", "category", "n_reps", "any_pain", "n_labels", "n_notes")


def tests_csv(tests: list) -> str:
    """Tests (:class:`~stepdown.catalog.repo.TestSummary`) as CSV text, oldest first; measure
    columns are the mean over the test's reps of each rep's peak, named with their unit.

    Parameters
    ----------
    tests : list of TestSummary
        The tests, oldest first.

    Returns
    -------
    str
        CSV text with a header row (``CSV_COLUMNS``, then ``mean_<measure>``).
    """
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    measures = [key for key, _, _ in MEASURE_COLUMNS]
    writer.writerow([*CSV_COLUMNS, *(f"mean_{k}" for k in measures)])
    for t in tests:
        writer.writerow([t.id, t.athlete_id, t.when, t.test_leg, t.rule, t.total, t.piva_total,
                         t.category, t.n_reps, int(t.any_pain), t.n_labels, t.n_notes,
                         *("" if t.mean_measures.get(k) is None else f"{t.mean_measures[k]:.3f}"
                           for k in measures)])
    return buf.getvalue()

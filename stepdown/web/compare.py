"""Two tests side by side: item changes, measure changes against the measurement
uncertainty, and their angle curves overlaid (no HTTP here).

A measure's change is the difference of the two tests' means of rep peaks.  It
*exceeds the measurement uncertainty* when ``|B - A| > sqrt(2) * u``, with ``u``
the measure's 90 % error bound for one rep peak
(:data:`analysis.uncertainty.MEASURE_UNCERTAINTY`, from simulation): errors
are taken as fully shared by the reps of one test (so averaging reps does not
shrink them) and independent between the two tests.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from analysis import registry
from analysis.uncertainty import measure_uncertainty
from stepdown.catalog.repo import TestDetail
from stepdown.web import views

A_COLOUR, B_COLOUR = "#1f5fa8", "#c2185b"


@dataclass(frozen=True)
class MeasureChange:
    """One measure in tests A and B: its means of rep peaks and the bound a change must pass."""

    key: str
    """The measure's key (unit in its name)."""
    name: str
    """Its display name."""
    unit: str
    """Its unit."""
    a: float | None
    """Mean of rep peaks in test A, ``unit``; None when A does not measure it."""
    b: float | None
    """Mean of rep peaks in test B, ``unit``; None when B does not measure it."""
    bound: float | None
    """sqrt(2) * u, ``unit``; None where no uncertainty is known."""

    @property
    def delta(self) -> float | None:
        """B - A in ``unit``; None when either is missing."""
        return None if self.a is None or self.b is None else self.b - self.a

    @property
    def exceeds(self) -> bool | None:
        """True/False if the change is beyond/within the uncertainty; None if unknown."""
        if self.delta is None or self.bound is None:
            return None
        return abs(self.delta) > self.bound


def _uncertainty(detail: TestDetail) -> dict[str, float]:
    """Each measure's uncertainty for the knee source the analysis used: the analysis JSON
    keeps it in ``body.knee_medial_from`` (not at the top, where it was looked for, so the
    knee had no bound and its changes were never judged)."""
    return measure_uncertainty((detail.analysis.recording.body or {}).get("knee_medial_from"))


def measure_changes(a: TestDetail, b: TestDetail) -> list[MeasureChange]:
    """Each measure either test has: mean of rep peaks in A and in B, and the bound.

    Parameters
    ----------
    a, b : TestDetail
        The two tests.

    Returns
    -------
    list of MeasureChange
        In the order of :data:`stepdown.web.views.MEASURE_COLUMNS`; the bound from the larger
        of the two tests' uncertainties.
    """
    ua, ub = _uncertainty(a), _uncertainty(b)
    out = []
    for key, name, unit in views.MEASURE_COLUMNS:
        va, vb = a.summary.mean_measures.get(key), b.summary.mean_measures.get(key)
        if va is None and vb is None:
            continue
        u = max(ua.get(key, math.nan), ub.get(key, math.nan))
        out.append(MeasureChange(key, name, unit, va, vb,
                                 None if math.isnan(u) else math.sqrt(2) * u))
    return out


def item_rows(a: TestDetail, b: TestDetail) -> list[dict]:
    """Test-level items as reviewed (coach labels in place) in A and B.

    Parameters
    ----------
    a, b : TestDetail
        The two tests.

    Returns
    -------
    list of dict
        ``{"item", "name", "a", "b"}`` per registry item: its key, title and score in each.
    """
    ra, rb = views.reviewed_result(a), views.reviewed_result(b)
    return [{"item": i.name, "name": i.title, "a": ra.items.get(i.name), "b": rb.items.get(i.name)}
            for i in registry.ITEMS]


def overlay_curves(a_json: str, b_json: str) -> list[dict]:
    """The two tests' per-rep curve charts merged by measure: A's reps blue, B's pink.

    Parameters
    ----------
    a_json, b_json : str
        Each test's curve figures as JSON (:func:`stepdown.web.views.angle_curves_json`).

    Returns
    -------
    list of dict
        One Plotly figure per measure both tests have.
    """
    figs_a = {f["id"]: f for f in json.loads(a_json)}
    figs_b = {f["id"]: f for f in json.loads(b_json)}
    merged = []
    for fig_id in [i for i in figs_a if i in figs_b]:
        fig = figs_a[fig_id]
        traces = []
        for tag, colour, source in (("A", A_COLOUR, figs_a[fig_id]), ("B", B_COLOUR,
                                                                         figs_b[fig_id])):
            for i, trace in enumerate(source["data"]):
                traces.append({**trace, "name": f"{tag} {trace['name']}",
                               "legendgroup": tag, "showlegend": i == 0,
                               "line": {"color": colour, "width": 1.5},
                               "hovertemplate": f"{tag} " + trace.get("hovertemplate", "")})
        title = fig["layout"]["title"]["text"].replace("during each rep",
                                                       "during each rep, A and B")
        merged.append({"id": f"cmp_{fig_id}", "data": traces,
                       "layout": {**fig["layout"], "title": {"text": title,
                                                             "font": {"size": 15}}}})
    return merged

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
    key: str
    name: str
    unit: str
    a: float | None
    b: float | None
    bound: float | None  # sqrt(2) * u; None where no uncertainty is known

    @property
    def delta(self) -> float | None:
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
    """Each measure either test has: mean of rep peaks in A and in B, and the bound."""
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
    """Test-level items as reviewed (coach labels in place) in A and B."""
    ra, rb = views.reviewed_result(a), views.reviewed_result(b)
    return [{"item": i.name, "name": i.title, "a": ra.items.get(i.name), "b": rb.items.get(i.name)}
            for i in registry.ITEMS]


def overlay_curves(a_json: str, b_json: str) -> list[dict]:
    """The two tests' per-rep curve charts merged by measure: A's reps blue, B's pink."""
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

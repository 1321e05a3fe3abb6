"""Two tests side by side: item changes, measure changes against the measurement
uncertainty, and their angle curves overlaid (no HTTP here).

A measure's change is the difference of the two tests' means of rep peaks.  It
*exceeds the measurement uncertainty* when ``|B - A|`` is larger than the bound of a change
between sessions (:func:`analysis.exercises.change_bound.between_sessions_bound`): each
test's simulated 90 % bound for one rep peak (the one its analysis states for its
calibration; errors are shared by the reps of one test, so averaging reps does not shrink
them, and independent between the two tests, whose straps may have been put on again),
and how a real subject's offset from a lab reference moved between trials (pelvic drop,
hip adduction, hip flexion), in quadrature.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from analysis import registry
from analysis.exercises.change_bound import between_sessions_bound
from analysis.uncertainty import measure_uncertainty
from analysis.validation import UNVALIDATED
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
    """The change's 90 % bound, ``unit``; None where no uncertainty is known."""

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


def _uncertainty(detail: TestDetail) -> tuple[dict[str, float], str | None]:
    """Each measure's simulated 90 % bound and the calibration case, as the analysis states
    them; an analysis stored before it stated them: the table of the knee source it used
    (the JSON keeps it in ``body.knee_medial_from``) without the unvalidated measures, and
    no case."""
    stated = detail.analysis.uncertainty or {}
    if "simulated" in stated and "case" in stated:
        return dict(stated["simulated"]), stated["case"]
    table = measure_uncertainty((detail.analysis.recording.body or {}).get("knee_medial_from"))
    return {k: v for k, v in table.items() if k not in UNVALIDATED}, None  # no earned precision


def measure_changes(a: TestDetail, b: TestDetail) -> list[MeasureChange]:
    """Each measure either test has: mean of rep peaks in A and in B, and the bound.

    Parameters
    ----------
    a, b : TestDetail
        The two tests.

    Returns
    -------
    list of MeasureChange
        In the order of :data:`stepdown.web.views.MEASURE_COLUMNS`; the bound of a change
        between sessions (a test without a stated bound for the measure takes the other's).
    """
    (ua, case_a), (ub, case_b) = _uncertainty(a), _uncertainty(b)
    out = []
    for key, name, unit in views.MEASURE_COLUMNS:
        va, vb = a.summary.mean_measures.get(key), b.summary.mean_measures.get(key)
        if va is None and vb is None:
            continue
        sims = [u for u in (ua.get(key), ub.get(key)) if u is not None]
        bound = (None if not sims else
                 between_sessions_bound(key, (sims[0], sims[-1]), (case_a, case_b)))
        out.append(MeasureChange(key, name, unit, va, vb, bound))
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

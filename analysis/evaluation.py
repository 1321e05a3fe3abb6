"""Hold the analysis to a ground truth: rep matching and error tables.

Used by the accuracy tests (simulated truth) and by anyone validating on
labelled real data: the truth is a dict with ``reps`` holding ``start_s``,
``bottom_s``, ``end_s`` and ``measures`` (the simulator's truth document).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

from analysis.measures import MEASURES
from sensor_io.json_doc import JSONDoc

MATCH_TOLERANCE_S = 0.5


class TypedRep(Protocol):
    """A rep of the analysis as a type (:class:`analysis.result.MeasuredRep`,
    :class:`analysis.result.Rep`): its JSON is what is compared with the truth.

    Parameters
    ----------
    *args, **kwargs
        None: a protocol describes an object's methods, it is not built.
    """

    def to_json(self) -> JSONDoc:
        """The rep's JSON object.

        Returns
        -------
        dict
            ``index``, times (s), ``measures`` and what else the rep's type writes.
        """


def _docs(reps: Sequence[Mapping[str, Any] | TypedRep]) -> list[Mapping[str, Any]]:
    """The reps as JSON objects (typed reps by their ``to_json``), as the truth has them."""
    return [r if isinstance(r, Mapping) else r.to_json() for r in reps]


def match_reps(pred: Sequence[Mapping[str, Any] | TypedRep], truth: Sequence[Mapping[str, Any]],
               tol_s: float = MATCH_TOLERANCE_S) -> list[tuple[int, int]]:
    """Greedy one-to-one matching of reps by bottom time.

    Parameters
    ----------
    pred : Sequence of dict or typed rep
        Found reps, each with ``bottom_s`` (s).
    truth : Sequence of dict
        Reference reps, each with ``bottom_s`` (s).
    tol_s : float
        Largest bottom-time difference of a match, s.

    Returns
    -------
    list of (int, int)
        (index in ``pred``, index in ``truth``) of each match.
    """
    pairs, used = [], set()
    for i, p in enumerate(_docs(pred)):
        d = [abs(p["bottom_s"] - t["bottom_s"]) if j not in used else np.inf
             for j, t in enumerate(truth)]
        if d and min(d) <= tol_s:
            j = int(np.argmin(d))
            used.add(j)
            pairs.append((i, j))
    return pairs


def rep_errors(pred: Sequence[Mapping[str, Any] | TypedRep], truth: Sequence[Mapping[str, Any]],
               **labels) -> tuple[pd.DataFrame, dict]:
    """Per matched rep: signed errors (pred - truth) of times and measures.

    Parameters
    ----------
    pred : Sequence of dict or typed rep
        Found reps: ``start_s``, ``bottom_s``, ``end_s`` (s) and ``measures``.
    truth : Sequence of dict
        Reference reps, the same keys.
    **labels
        Columns added to every row (e.g. ``sensor_set="pelvis+thigh"``).

    Returns
    -------
    tuple of (pandas.DataFrame, dict)
        The table (``<name>_err`` in the name's unit, and each measure's true value) and
        the counts {n_pred, n_truth, n_matched} for precision and recall.
    """
    rows = []
    pred = _docs(pred)
    pairs = match_reps(pred, truth)
    for i, j in pairs:
        p, t = pred[i], truth[j]
        row = dict(labels)
        for k in ("start_s", "bottom_s", "end_s"):
            row[f"{k}_err"] = p[k] - t[k]
        for k in MEASURES:
            v = p["measures"].get(k)
            row[k] = t["measures"][k]
            row[f"{k}_err"] = np.nan if v is None else v - t["measures"][k]
        rows.append(row)
    return pd.DataFrame(rows), {"n_pred": len(pred), "n_truth": len(truth), "n_matched": len(pairs)}


def summarize(errors: pd.DataFrame, counts: Iterable[dict], by: str = "sensor_set") -> pd.DataFrame:
    """Mean absolute errors per group; precision and recall of reps overall.

    Parameters
    ----------
    errors : pandas.DataFrame
        :func:`rep_errors` tables, concatenated.
    counts : Iterable of dict
        Their counts.
    by : str
        The column grouping the rows.

    Returns
    -------
    pandas.DataFrame
        Per group the MAE of every time and measure (units of the names) and ``reps``;
        ``attrs`` holds ``precision`` and ``recall``.
    """
    cols = [c for c in errors.columns if c.endswith("_err")]
    table = errors.groupby(by)[cols].agg(lambda x: np.nanmean(np.abs(x)) if x.notna().any() else np.nan)
    table.columns = [c.replace("_err", "") for c in table.columns]
    table["reps"] = errors.groupby(by).size()
    c = pd.DataFrame(list(counts))
    table.attrs["precision"] = c.n_matched.sum() / max(c.n_pred.sum(), 1)
    table.attrs["recall"] = c.n_matched.sum() / max(c.n_truth.sum(), 1)
    return table


def agreement(errors: pd.DataFrame, by: str = "sensor_set") -> pd.DataFrame:
    """Agreement with the truth, Bland-Altman style: bias and slope beside the MAE.

    Parameters
    ----------
    errors : pandas.DataFrame
        :func:`rep_errors` tables, concatenated.
    by : str
        The column grouping the rows.

    Returns
    -------
    pandas.DataFrame
        Per group and measure (and rep time): ``n``, ``mae``, ``bias`` (mean of estimate -
        truth) and ``slope`` of the estimate on the truth (least squares; NaN for times).
    """
    rows = []
    for group, g in errors.groupby(by):
        for name in [c.removesuffix("_err") for c in g.columns if c.endswith("_err")]:
            e = g[f"{name}_err"].dropna()
            if e.empty:
                continue
            slope = np.nan
            if name in g and len(e) >= 3:
                truth = g.loc[e.index, name].to_numpy(float)
                if np.ptp(truth) > 0:
                    slope = float(np.polyfit(truth, truth + e.to_numpy(float), 1)[0])
            rows.append({by: group, "measure": name, "n": len(e), "mae": float(e.abs().mean()),
                         "bias": float(e.mean()), "slope": slope})
    return pd.DataFrame(rows)


def errors_against_uncertainty(pred: Sequence[Mapping[str, Any] | TypedRep],
                               truth: Sequence[Mapping[str, Any]],
                               knee_source: str | None, calibration=None) -> pd.DataFrame:
    """Each matched rep's error beside the uncertainty the analysis states for it.

    Parameters
    ----------
    pred : Sequence of dict or typed rep
        Found reps (:func:`rep_errors`).
    truth : Sequence of dict
        Reference reps.
    knee_source : str or None
        How the knee displacement was measured ("shank", "thigh+pelvis model").
    calibration : Calibration, optional
        The analysis' calibration, which picks the uncertainty case.

    Returns
    -------
    pandas.DataFrame
        Per matched rep and measure with a stated uncertainty
        (:func:`analysis.uncertainty.measure_uncertainty`): ``measure`` (the knee labelled
        with how it was measured), ``case`` (:func:`analysis.uncertainty.calibration_case`),
        ``abs_error`` and the stated ``bound``, in the measure's unit.
    """
    from analysis.uncertainty import calibration_case, measure_uncertainty

    errors, _ = rep_errors(pred, truth)
    case = calibration_case(calibration)
    rows = []
    for measure, bound in measure_uncertainty(knee_source, calibration).items():
        label = f"{measure} ({knee_source})" if measure == "knee_medial_cm" else measure
        for err in errors.get(f"{measure}_err", pd.Series(dtype=float)).dropna():
            rows.append({"measure": label, "case": case, "abs_error": abs(err), "bound": bound})
    return pd.DataFrame(rows, columns=["measure", "case", "abs_error", "bound"])


def sensor_set_name(placements: Sequence[str]) -> str:
    """The name of a sensor set.

    Parameters
    ----------
    placements : Sequence of str
        Placement names (``thigh_left``, ...).

    Returns
    -------
    str
        'pelvis+thigh', 'pelvis+thigh+shank', ... (side dropped).
    """
    return "+".join(p.split("_")[0] for p in placements)


def change_errors(first: Sequence[Mapping[str, Any] | TypedRep],
                  second: Sequence[Mapping[str, Any] | TypedRep],
                  first_truth: Sequence[Mapping[str, Any]], second_truth: Sequence[Mapping[str, Any]],
                  measures: Sequence[str]) -> dict[str, tuple[float, float]]:
    """Per measure, the measured and the true change of the median rep peak between two
    tests, as a retest compares them (:mod:`analysis.exercises.change`: every rep found,
    not only the matched ones).

    Parameters
    ----------
    first, second : Sequence of dict or typed rep
        The two tests' found reps (``measures``).
    first_truth, second_truth : Sequence of dict
        Their reference reps (``measures``).
    measures : Sequence of str
        The measures (unit in the name).

    Returns
    -------
    dict of str to (float, float)
        Measure -> (measured change, true change), in the measure's unit; a measure either
        test did not measure is left out.
    """
    from analysis.exercises.change import compare_reps  # the product's own comparison

    def changes(x: Sequence[Mapping[str, Any]], y: Sequence[Mapping[str, Any]]) -> tuple:
        return compare_reps([r["measures"] for r in x], [r["measures"] for r in y], measures, {}, {})

    measured, true = changes(_docs(first), _docs(second)), changes(first_truth, second_truth)
    return {m.measure: (m.change, t.change) for m, t in zip(measured, true, strict=True)
            if m.change is not None and t.change is not None}

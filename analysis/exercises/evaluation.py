"""Hold a programme set's analysis to a ground truth, as :mod:`analysis.evaluation` does
for the test: match, then per matched pair the signed error of every measure, in tables
that :func:`analysis.evaluation.agreement` turns into n, MAE, bias and slope."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from analysis.evaluation import match_reps, rep_errors

HOLD_MEASURES = ("start_s", "end_s", "tut_s", "depth_deg", "pelvis_sway_deg", "tremor_dps",
                 "pelvic_drop_deg")
TAP_MEASURES = ("depth_deg", "duration_s")


def match_by_overlap(pred: Sequence[dict], truth: Sequence[dict]) -> list[tuple[int, int]]:
    """Match spans by their overlap.

    Parameters
    ----------
    pred : Sequence of dict
        Found spans, ``start_s`` and ``end_s`` (s).
    truth : Sequence of dict
        Reference spans, the same keys.

    Returns
    -------
    list of (int, int)
        One-to-one pairs (pred index, truth index) that overlap most, each truth span used
        once.
    """
    pairs, used = [], set()
    for i, p in enumerate(pred):
        best, best_j = 0.0, None
        for j, t in enumerate(truth):
            overlap = min(p["end_s"], t["end_s"]) - max(p["start_s"], t["start_s"])
            if j not in used and overlap > best:
                best, best_j = overlap, j
        if best_j is not None:
            used.add(best_j)
            pairs.append((i, best_j))
    return pairs


def hold_errors(pred: Sequence[dict], truth: Sequence[dict], **labels) -> tuple[pd.DataFrame, dict]:
    """The signed errors of each matched hold.

    Parameters
    ----------
    pred : Sequence of dict
        Found holds (``HoldSet.to_json()["holds"]``).
    truth : Sequence of dict
        The simulator's truth ``holds``.
    **labels
        Columns added to every row.

    Returns
    -------
    tuple of (pandas.DataFrame, dict)
        Per matched hold the truth of each of HOLD_MEASURES and its signed error (units in
        the names); the counts {n_pred, n_truth, n_matched}.
    """
    rows = []
    pairs = match_by_overlap(pred, truth)
    for i, j in pairs:
        row = dict(labels)
        for k in HOLD_MEASURES:
            row[k] = truth[j][k]
            row[f"{k}_err"] = (float("nan") if pred[i][k] is None
                               else pred[i][k] - truth[j][k])
        rows.append(row)
    return pd.DataFrame(rows), {"n_pred": len(pred), "n_truth": len(truth), "n_matched": len(pairs)}


def tap_errors(pred: Sequence[dict], truth: Sequence[dict], **labels) -> tuple[pd.DataFrame, dict]:
    """The signed errors of each matched heel tap.

    Parameters
    ----------
    pred : Sequence of dict
        Found taps (``HeelTapSet.to_json()["taps"]``).
    truth : Sequence of dict
        The simulator's truth taps.
    **labels
        Columns added to every row.

    Returns
    -------
    tuple of (pandas.DataFrame, dict)
        :func:`analysis.evaluation.rep_errors` of the taps (the test's measures and
        times) with the truth and signed error of each tap's depth and duration beside
        them; the counts.
    """
    table, counts = rep_errors(pred, truth, **labels)
    for k in TAP_MEASURES:  # rep_errors' rows are match_reps' pairs, in order
        pairs = match_reps(pred, truth)
        table[k] = [truth[j][k] for _, j in pairs]
        table[f"{k}_err"] = [pred[i][k] - truth[j][k] for i, j in pairs]
    return table, counts

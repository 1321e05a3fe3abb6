"""What the shipped rep classifier can do, read without loading scikit-learn.

:func:`analysis.classifier.save_model` writes, beside each ``<model>.skops``, a
small ``<model>.json`` with its versions, provenance and grouped-CV figures.
The pipeline reads it to decide whether the model could add anything to a
given recording before paying for scikit-learn's import (about a second).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from sensor_io.json_doc import JSONDoc

SHIPPED_MODEL = Path(__file__).resolve().parent.parent / "data" / "rep_classifier.skops"
ITEM_TARGETS = ("arm", "trunk")
MIN_KAPPA = 0.4
"""A target decides checklist items only when its grouped-CV kappa reaches this
(moderate agreement); below, the item stays not_assessed rather than take a
near-random guess into the totals, and the analysis says so."""


def summary_path(model_path: Path) -> Path:
    """Where a model's summary is kept.

    Parameters
    ----------
    model_path : Path
        The model file, ``<model>.skops``.

    Returns
    -------
    Path
        ``<model>.json`` beside it.
    """
    return model_path.with_suffix(".json")


def shipped_model_path() -> Path:
    """Where the shipped model is looked for (tests point it elsewhere).

    Returns
    -------
    Path
        The ``.skops`` file.
    """
    return SHIPPED_MODEL


def read_summary(model_path: Path | None = None) -> JSONDoc | None:
    """A model's summary (versions, training, cv).

    Parameters
    ----------
    model_path : Path, optional
        The model file (default: the shipped model).

    Returns
    -------
    dict or None
        The summary; None when there is none or it is not JSON.
    """
    try:
        return json.loads(summary_path(model_path or shipped_model_path()).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def usable_items_from_cv(cv: JSONDoc, min_kappa: float = MIN_KAPPA) -> dict[str, str]:
    """Which items the model may decide, from its cross-validation.

    Parameters
    ----------
    cv : dict
        Item -> its grouped-CV scores (``kappa``), from the model's summary.
    min_kappa : float
        Lowest Cohen's kappa for an item the model may decide.

    Returns
    -------
    dict of str to str
        Per item target, "" when the model may decide it, else why not (its CV kappa).
    """
    out = {}
    for item in ITEM_TARGETS:
        kappa = (cv.get(item) or {}).get("kappa")
        ok = kappa is not None and math.isfinite(kappa) and kappa >= min_kappa
        out[item] = "" if ok else f"grouped-CV kappa {kappa} below {min_kappa}"
    return out

"""The rep classifier: items the worn sensors cannot measure, and an overall rep quality.

Targets (:data:`TARGETS`), each its own scikit-learn ``Pipeline`` on the
per-rep features of :mod:`analysis.features`:

- ``arm``: the hand leaves the waist, for tests without a wrist sensor
  (trained without the wrist columns);
- ``trunk``: the trunk leans > the rule's threshold, for tests without a trunk
  sensor (trained without the trunk columns);
- ``quality``: the rep's movement total (arm + trunk + pelvis + knee + descent,
  pain excluded: it is reported, not observed) is >= :data:`QUALITY_MIN_TOTAL`.

Pipeline: median imputation with missing-value indicators (a sensor not worn
gives NaN columns) -> standard scaling -> logistic regression -> sigmoid calibration
(``CalibratedClassifierCV``, its inner folds grouped by athlete), so the
probabilities are calibrated. Validation: ``GroupKFold`` by athlete, so no
athlete is in both the training and the validation part of a fold; per target:
sensitivity, specificity, Cohen's kappa (:func:`grouped_cv`).

In the analysis (:func:`classifier_inputs`), an item target decides
checklist items only when its grouped-CV kappa is >= :data:`MIN_KAPPA`; the
analysis lists withheld targets and why. ``quality`` is always reported, as a
probability per rep.

Labelled reps come from a recording's analysis plus its truth document
(``<name>.truth.json`` with per-rep ``items``, as ``stepdown simulate``
writes), matched by rep bottom time (:func:`labelled_reps`); the application
builds them from the simulator or a folder (:mod:`stepdown.commands.train`).

Persistence is ``skops`` (never bare pickle); a model records the format
version and the feature version, and :func:`load_model` refuses another
version with one clear line. The shipped model is ``data/rep_classifier.skops``
(:func:`shipped_model`, loaded once); regenerate it with
``stepdown train --simulate 400 --seed 11 --out data/rep_classifier.skops``
(see data/MODEL_CARD.md).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sklearn
from sklearn.calibration import CalibratedClassifierCV
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import cohen_kappa_score, confusion_matrix
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from analysis import model_info
from analysis.evaluation import MATCH_TOLERANCE_S
from analysis.features import FEATURE_VERSION, FEATURES, features_table
from analysis.measures import MeasureSeries
from analysis.model_info import ITEM_TARGETS, MIN_KAPPA, SHIPPED_MODEL, summary_path, usable_items_from_cv
from analysis.result import MeasuredRep
from analysis.rules import RuleConfig, score_rep
from analysis.segment_motion import Motion
from sensor_io.errors import InputError
from sensor_io.json_doc import JSONDoc

__all__ = [
    "MODEL_FORMAT", "MODEL_VERSION", "QUALITY_MIN_TOTAL", "SHIPPED_MODEL", "TARGETS",
    "ITEM_TARGETS", "MIN_KAPPA", "CVReport", "ModelVersionError", "RepClassifier", "classifier_inputs",
    "classify_reps", "usable_items",
    "evaluate", "grouped_cv", "grouped_folds", "labelled_reps", "load_model", "make_pipeline",
    "save_model", "shipped_model", "target_features", "train",
]

MODEL_FORMAT = "stepdown-rep-classifier"
MODEL_VERSION = 1
TARGETS = ("arm", "trunk", "quality")
QUALITY_MIN_TOTAL = 2
MOVEMENT_ITEMS = ("arm", "trunk", "pelvis", "knee", "descent")

# Columns a target must not see: those of the sensor that measures it directly.
_SENSOR_COLUMNS = {
    "arm": ("wrist_",),
    "trunk": ("trunk_",),
    "quality": (),
}


class ModelVersionError(InputError):
    """A model file from another format or feature version."""


def target_features(target: str) -> list[str]:
    """The feature columns a target's pipeline uses.

    Parameters
    ----------
    target : str
        One of :data:`TARGETS`.

    Returns
    -------
    list of str
        FEATURES minus the columns of the target's own sensor.
    """
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; choose from {', '.join(TARGETS)}")
    return [c for c in FEATURES if not c.startswith(_SENSOR_COLUMNS[target])]


def make_pipeline(c: float = 0.3) -> Pipeline:
    """Imputer (with missing indicators) -> scaler -> logistic regression, sigmoid-calibrated.

    Fit under ``sklearn.config_context(enable_metadata_routing=True)`` with ``groups=``
    so the calibration folds are grouped by athlete (:func:`_fit`). Chosen over
    boosted trees and random forests: on 60 simulated athletes it matched or
    beat them in grouped CV (quality kappa 0.83 vs 0.74-0.75) and fits in
    a fraction of a second.

    Parameters
    ----------
    c : float
        Inverse L2 strength of the regression.

    Returns
    -------
    sklearn.pipeline.Pipeline
        The unfitted pipeline.
    """
    return Pipeline([
        ("impute", SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)),
        ("scale", StandardScaler()),
        ("classify", CalibratedClassifierCV(LogisticRegression(C=c, max_iter=2000),
                                            method="sigmoid", cv=GroupKFold(3))),
    ])


def _calibration_cv(y: np.ndarray, groups: np.ndarray) -> GroupKFold | int:
    """Calibration folds grouped by athlete (up to 3) when every fold's training part
    holds both classes; else ungrouped stratified folds (small training sets)."""
    k = min(3, len(set(groups)))
    if k >= 2:
        folds = GroupKFold(k).split(np.zeros(len(y)), y, groups)
        if all(len(set(y[tr])) == 2 for tr, _ in folds):
            return GroupKFold(k)
    minority = int(min(np.sum(y == 0), np.sum(y == 1)))
    if minority < 2:
        raise InputError(f"too few reps of one class to train ({minority}); label more reps")
    return min(3, minority)


def _fit(pipe: Pipeline, x: pd.DataFrame, y: np.ndarray, groups: np.ndarray) -> Pipeline:
    cv = _calibration_cv(y, groups)
    pipe.set_params(classify__cv=cv)
    if not isinstance(cv, GroupKFold):
        return pipe.fit(x, y)
    with sklearn.config_context(enable_metadata_routing=True):
        return pipe.fit(x, y, groups=groups)


# -- labelled reps -----------------------------------------------------------------------------

def _labels(items: Mapping[str, Any]) -> dict[str, int]:
    movement = sum(int(items.get(k) or 0) for k in MOVEMENT_ITEMS)
    return {"arm": int(items.get("arm") or 0), "trunk": int(items.get("trunk") or 0),
            "quality": int(movement >= QUALITY_MIN_TOTAL)}


def labelled_reps(features: pd.DataFrame, truth: Mapping[str, Any], group: str) -> pd.DataFrame:
    """Feature rows with their true labels.

    A rep is labelled by the truth rep whose bottom is nearest, within 0.5 s; reps without
    one are dropped.

    Parameters
    ----------
    features : pandas.DataFrame
        :func:`analysis.features.rep_features` of a recording.
    truth : Mapping
        Its truth document (``reps`` with ``bottom_s`` in s and ``items``).
    group : str
        The athlete, for grouped validation.

    Returns
    -------
    pandas.DataFrame
        The rows with columns ``arm``, ``trunk``, ``quality`` (0/1) and ``group``.
    """
    truth_reps = [r for r in truth.get("reps", []) if "items" in r]
    if features.empty or not truth_reps:
        return features.iloc[0:0].assign(**{t: pd.Series(dtype=int) for t in TARGETS}, group="")
    t_bottom = np.array([r["bottom_s"] for r in truth_reps], dtype=float)
    dist = np.abs(features["bottom_s"].to_numpy()[:, None] - t_bottom[None, :])
    nearest = dist.argmin(axis=1)
    ok = dist[np.arange(len(nearest)), nearest] <= MATCH_TOLERANCE_S
    labels = pd.DataFrame([_labels(truth_reps[j]["items"]) for j in nearest[ok]],
                          index=features.index[ok])
    return features[ok].join(labels).assign(group=str(group))


# -- validation --------------------------------------------------------------------------------

@dataclass(frozen=True)
class CVReport:
    """Grouped cross-validation of one target: counts and agreement with the truth."""

    target: str
    """The target (:data:`TARGETS`)."""
    n_reps: int
    """Reps validated."""
    n_athletes: int
    """Athletes (groups) among them."""
    n_positive: int
    """Reps where the target is present."""
    sensitivity: float
    """Share of present targets found (NaN without any)."""
    specificity: float
    """Share of absent targets left absent (NaN without any)."""
    kappa: float
    """Cohen's kappa of the predictions against the truth."""

    def to_json(self) -> JSONDoc:
        """The report as the model summary keeps it.

        Returns
        -------
        dict
            The fields, floats rounded to 0.001.
        """
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def _report(target: str, y: np.ndarray, pred: np.ndarray, groups: np.ndarray) -> CVReport:
    tn, fp, fn, tp = confusion_matrix(y, pred, labels=[0, 1]).ravel()
    sens = tp / (tp + fn) if tp + fn else float("nan")
    spec = tn / (tn + fp) if tn + fp else float("nan")
    kappa = cohen_kappa_score(y, pred) if len(set(y) | set(pred)) > 1 else float("nan")
    return CVReport(target, len(y), len(set(groups)), int(y.sum()), float(sens), float(spec),
                    float(kappa))


def evaluate(target: str, y: Sequence[int], proba: Sequence[float],
             groups: Sequence[str]) -> CVReport:
    """Agreement of probabilities, thresholded at 0.5, with the truth.

    Parameters
    ----------
    target : str
        The target.
    y : Sequence of int
        True labels, 0/1.
    proba : Sequence of float
        Predicted probabilities that the target is present.
    groups : Sequence of str
        The athlete of each rep.

    Returns
    -------
    CVReport
        Sensitivity, specificity and kappa.
    """
    y, p = np.asarray(y, dtype=int), np.asarray(proba, dtype=float)
    return _report(target, y, (p >= 0.5).astype(int), np.asarray(groups))


def grouped_folds(groups: Sequence[str], n_splits: int = 5) -> list[tuple[np.ndarray, np.ndarray]]:
    """Cross-validation folds that keep each group in one part.

    Parameters
    ----------
    groups : Sequence of str
        The athlete of each row.
    n_splits : int
        Most folds (fewer when there are fewer athletes).

    Returns
    -------
    list of (numpy.ndarray, numpy.ndarray)
        (train, validation) index pairs of ``GroupKFold``; InputError with fewer than 2
        athletes.
    """
    groups = np.asarray(groups)
    k = min(n_splits, len(set(groups)))
    if k < 2:
        raise InputError("grouped validation needs labelled reps of at least 2 athletes")
    return list(GroupKFold(k).split(np.zeros(len(groups)), groups=groups))


def grouped_cv(table: pd.DataFrame, target: str, n_splits: int = 5,
               c: float = 0.3) -> CVReport:
    """Grouped cross-validation of one target.

    Parameters
    ----------
    table : pandas.DataFrame
        Labelled reps (:func:`labelled_reps`).
    target : str
        The target.
    n_splits : int
        Most folds.
    c : float
        Inverse L2 strength of the regression.

    Returns
    -------
    CVReport
        Agreement of the out-of-fold predictions (``GroupKFold`` on ``table['group']``).
    """
    x, y, groups = table[target_features(target)], table[target].to_numpy(int), table["group"].to_numpy()
    proba = np.full(len(y), np.nan)
    for train_idx, val_idx in grouped_folds(groups, n_splits):
        y_tr = y[train_idx]
        if min(np.sum(y_tr == 0), np.sum(y_tr == 1)) < 2:  # cannot fit: predict the prevalence
            proba[val_idx] = float(y_tr.mean())
            continue
        pipe = _fit(make_pipeline(c), x.iloc[train_idx], y[train_idx], groups[train_idx])
        proba[val_idx] = pipe.predict_proba(x.iloc[val_idx])[:, 1]
    return evaluate(target, y, proba, groups)


# -- the model ---------------------------------------------------------------------------------

@dataclass
class RepClassifier:
    """Fitted pipelines per target, with their feature lists, CV figures and provenance."""

    pipelines: dict[str, Pipeline]
    """Target -> its fitted pipeline."""
    features: dict[str, list[str]]
    """Target -> the feature columns its pipeline reads."""
    cv: dict[str, JSONDoc] = field(default_factory=dict)
    """Target -> its grouped-CV report (:meth:`CVReport.to_json`)."""
    training: JSONDoc = field(default_factory=dict)
    """Where the training reps came from and how many."""
    feature_version: int = FEATURE_VERSION
    """Version of the feature table the model was fitted on."""

    def predict_proba(self, features: pd.DataFrame, target: str) -> np.ndarray:
        """Probability that a target is present in each rep.

        Parameters
        ----------
        features : pandas.DataFrame
            (K rows) :func:`analysis.features.rep_features` rows.
        target : str
            The target.

        Returns
        -------
        numpy.ndarray
            (K,) probability that ``target`` is present (1).
        """
        pipe = self.pipelines[target]
        if features.empty:
            return np.zeros(0)
        proba = pipe.predict_proba(features[self.features[target]].astype(float))
        classes = list(pipe.classes_)
        return proba[:, classes.index(1)] if 1 in classes else np.zeros(len(features))


def train(table: pd.DataFrame, n_splits: int = 5, c: float = 0.3,
          source: str = "", progress: Callable[[str], None] | None = None) -> RepClassifier:
    """Grouped CV per target, then fit each target on all the labelled reps.

    Parameters
    ----------
    table : pandas.DataFrame
        Labelled reps (:func:`labelled_reps`), with ``group``.
    n_splits : int
        Most cross-validation folds.
    c : float
        Inverse L2 strength of the regression.
    source : str
        Where the reps came from, kept in the model.
    progress : callable, optional
        Called with one line per target validated.

    Returns
    -------
    RepClassifier
        The fitted model with its CV figures.
    """
    if table.empty:  # before the columns: no matched rep leaves none of the label columns
        raise InputError("no labelled reps to train on (no rep matched a truth rep with items)")
    missing = [c for c in (*TARGETS, "group") if c not in table]
    if missing:
        raise InputError(f"training table lacks {', '.join(missing)}")
    pipelines, features, cv = {}, {}, {}
    groups = table["group"].to_numpy()
    for target in TARGETS:
        y = table[target].to_numpy(int)
        if len(set(y)) < 2:
            raise InputError(f"cannot train {target}: every labelled rep has {target} = {y[0]}")
        cv[target] = grouped_cv(table, target, n_splits, c).to_json()
        if progress:
            progress(target)
        features[target] = target_features(target)
        pipelines[target] = _fit(make_pipeline(c), table[features[target]], y, groups)
    training = {"source": source, "n_reps": len(table), "n_athletes": int(len(set(groups))),
                "cv": f"GroupKFold({n_splits}) by athlete", "sklearn": sklearn.__version__}
    return RepClassifier(pipelines, features, cv, training)


def save_model(model: RepClassifier, path: str | os.PathLike[str]) -> Path:
    """Write a model as a skops file, with its format and feature versions and a JSON
    summary beside it.

    Parameters
    ----------
    model : RepClassifier
        The model.
    path : str or os.PathLike
        The ``.skops`` file.

    Returns
    -------
    Path
        The path written.
    """
    import skops.io as sio

    state = {"format": MODEL_FORMAT, "version": MODEL_VERSION,
             "feature_version": model.feature_version,
             "pipelines": model.pipelines, "features": model.features,
             "cv": json.dumps(model.cv), "training": json.dumps(model.training)}
    path = Path(path)
    sio.dump(state, path, compression=8)  # zipfile.ZIP_DEFLATED
    summary = {"format": MODEL_FORMAT, "version": MODEL_VERSION,
               "feature_version": model.feature_version, "training": model.training, "cv": model.cv}
    summary_path(path).write_text(json.dumps(summary, indent=2, allow_nan=True) + "\n")
    return path


_TRUSTED_PREFIXES = ("sklearn.", "numpy.", "builtins.", "scipy.")


def load_model(path: str | os.PathLike[str]) -> RepClassifier:
    """Load a model written by :func:`save_model`.

    Only scikit-learn / numpy / scipy types are trusted; a file naming any other
    type is refused (skops' safety check, never bare unpickling).

    Parameters
    ----------
    path : str or os.PathLike
        The ``.skops`` file.

    Returns
    -------
    RepClassifier
        The model; InputError (one line) for a missing, foreign or other-version file.
    """
    import skops.io as sio

    path = Path(path)
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except FileNotFoundError:
        raise InputError(f"{path}: no such model file") from None
    except Exception as err:  # noqa: BLE001 - any unreadable file is one clear line
        raise InputError(f"{path}: not a skops model file ({type(err).__name__})") from None
    foreign = [t for t in untrusted if not t.startswith(_TRUSTED_PREFIXES)]
    if foreign:
        raise InputError(f"{path}: refuses to load untrusted type {foreign[0]}")
    try:
        state = sio.load(path, trusted=untrusted)
    except Exception as err:  # noqa: BLE001
        raise InputError(f"{path}: cannot load the model ({type(err).__name__}: {err})") from None
    if not isinstance(state, dict) or state.get("format") != MODEL_FORMAT:
        raise ModelVersionError(f"{path}: not a {MODEL_FORMAT} file")
    if state.get("version") != MODEL_VERSION or state.get("feature_version") != FEATURE_VERSION:
        raise ModelVersionError(
            f"{path}: model format v{state.get('version')} with features v"
            f"{state.get('feature_version')}, but this stepdown needs format v{MODEL_VERSION} with "
            f"features v{FEATURE_VERSION}; retrain it with `stepdown train`")
    unknown = sorted({c for cols in state["features"].values() for c in cols} - set(FEATURES))
    if unknown:
        raise ModelVersionError(f"{path}: model uses unknown feature {unknown[0]}; retrain it")
    return RepClassifier(dict(state["pipelines"]), {k: list(v) for k, v in state["features"].items()},
                         json.loads(state["cv"]), json.loads(state["training"]),
                         state["feature_version"])


@lru_cache(maxsize=1)
def shipped_model() -> RepClassifier | None:
    """The model shipped in data/ (loaded once).

    Returns
    -------
    RepClassifier or None
        The model; None when the file is absent.
    """
    path = model_info.shipped_model_path()
    if not path.exists():
        return None
    return load_model(path)


# -- use in the pipeline -----------------------------------------------------------------------

def usable_items(model: RepClassifier, min_kappa: float = MIN_KAPPA) -> dict[str, str]:
    """Which items a model may decide.

    Parameters
    ----------
    model : RepClassifier
        The model.
    min_kappa : float
        Lowest grouped-CV kappa of an item it may decide.

    Returns
    -------
    dict of str to str
        Per item target, "" when the model may decide it, else why not (its CV kappa).
    """
    return usable_items_from_cv(model.cv, min_kappa)


def classify_reps(
    features: pd.DataFrame, reps: Sequence[MeasuredRep], model: RepClassifier,
    config: RuleConfig | None = None, min_kappa: float = MIN_KAPPA,
) -> tuple[list[dict[str, int]], list[dict[str, float]]]:
    """Per rep, classifier items and probabilities for ``score_test``.

    Items are given only where the rules cannot assess them (source ``not_assessed``) and
    the target's grouped-CV kappa is >= min_kappa, thresholded at 0.5, with the
    probability of the value given; every rep also gets ``quality``: the probability that
    its movement total is >= :data:`QUALITY_MIN_TOTAL`.

    Parameters
    ----------
    features : pandas.DataFrame
        :func:`analysis.features.rep_features` rows, one per rep, in the order of ``reps``.
    reps : Sequence of MeasuredRep
        The reps, with their measures.
    model : RepClassifier
        The model.
    config : RuleConfig, optional
        The rule thresholds, to know what the rules assess.
    min_kappa : float
        Lowest grouped-CV kappa of an item the model may decide.

    Returns
    -------
    tuple of (list of dict, list of dict)
        Per rep, the classifier's items and its probabilities.
    """
    config = config or RuleConfig()
    if len(features) != len(reps):
        raise ValueError(f"{len(features)} feature rows for {len(reps)} reps")
    usable = [item for item, why in usable_items(model, min_kappa).items() if not why]
    proba = {t: model.predict_proba(features, t) for t in ("quality", *usable)}
    items_out: list[dict[str, int]] = []
    proba_out: list[dict[str, float]] = []
    for k, rep in enumerate(reps):
        sources = score_rep(rep.measures.to_json(), config).sources
        items: dict[str, int] = {}
        probs: dict[str, float] = {"quality": round(float(proba["quality"][k]), 3)}
        for item in usable:
            if sources[item] == "not_assessed":
                p1 = float(proba[item][k])
                items[item] = int(p1 >= 0.5)
                probs[item] = round(p1 if items[item] else 1.0 - p1, 3)
        items_out.append(items)
        proba_out.append(probs)
    return items_out, proba_out


def classifier_inputs(
    reps: Sequence[MeasuredRep], series: MeasureSeries, motion: Motion, test_leg: str,
    config: RuleConfig | None = None,
) -> tuple[list[dict[str, int]] | None, list[dict[str, float]] | None, JSONDoc]:
    """The shipped model's items and probabilities per rep for ``score_test``, and a note.

    Parameters
    ----------
    reps : Sequence of MeasuredRep
        The reps found, with their times (s) and measures.
    series : MeasureSeries
        The measure series on the motion's grid.
    motion : Motion
        The segments' motion.
    test_leg : str
        ``left`` or ``right``.
    config : RuleConfig, optional
        The rule thresholds.

    Returns
    -------
    tuple
        (classifier_items, classifier_proba, info). Without a usable model file both are
        None (items stay ``not_assessed``) and info says why.
    """
    where = f"data/{model_info.shipped_model_path().name}"
    try:
        model = shipped_model()
    except InputError as err:
        return None, None, {"status": f"model not used: {err}"}
    if model is None:
        return None, None, {"status": f"no model file ({where}): items the sensors cannot "
                                      "measure stay not_assessed"}
    table = features_table(reps, series, motion, test_leg)
    items, proba = classify_reps(table, reps, model, config)
    withheld = {item: why for item, why in usable_items(model).items() if why}
    return items, proba, {
        "status": "used", "model": where, "trained_on": model.training.get("source", ""),
        "withheld": withheld,
        "quality": f"probability that the rep's movement total is >= {QUALITY_MIN_TOTAL}",
        "quality_proba": [p["quality"] for p in proba]}

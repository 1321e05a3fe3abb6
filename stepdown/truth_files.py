"""Simulated tests as files: the ground-truth document and its figure.

A simulated recording is written with its truth beside it, never inside it:
``walk.parquet`` (or ``walk.csv`` + ``walk.json``) and ``walk.truth.json``.

The truth document is the simulator's truth (:attr:`Simulation.truth`: rep
times in s, true measures per rep in deg / cm relative to standing, sensor
mounting and errors) plus the checklist the default rules give on the true
measures, so an analysis can be scored against it item by item:

- ``reps[i].items``: knee, pelvis, trunk by :func:`analysis.rules.score_rep`
  on the true measures (source ``rule``); pain from the simulated NRS
  (``reported``); arm from ``hand_off_waist`` and descent from
  ``uncontrolled``, the simulated events themselves (source ``truth``).
- ``reps[i].total`` and ``piva_total``; ``test``: the test-level items,
  totals and category by :mod:`analysis.checklist` (default rule ``majority``).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from analysis.checklist import aggregate_items, category, piva_total, rep_total
from analysis.rules import ITEMS, RuleConfig, score_rep
from sensor_io.errors import InputError, read_problem
from sensor_io.json_doc import JSONDoc, JSONProblem, parse_json

if TYPE_CHECKING:  # types only: the simulator imports scipy, which readers of a truth file need not
    from sensor_io.recording import Recording
    from simulator.single_test import SimConfig, Simulation

TRUTH_SUFFIX = ".truth.json"
TRUTH_FORMAT = "stepdown-truth"
SCORED_BY_RULE = ("knee", "pelvis", "trunk", "pain")


def truth_path(recording_path: str | os.PathLike[str]) -> Path:
    """``<name>.truth.json`` beside a recording ``<name>.parquet`` / ``<name>.csv``.

    Parameters
    ----------
    recording_path : str or os.PathLike
        The recording's path.

    Returns
    -------
    pathlib.Path
        The truth file's path (it may not exist).
    """
    path = Path(recording_path)
    return path.with_name(path.stem + TRUTH_SUFFIX)


def jsonable(obj: Any) -> Any:
    """``obj`` with numpy scalars/arrays and tuples turned into plain JSON types.

    Parameters
    ----------
    obj : Any
        Nested dicts, lists, tuples, numpy arrays and scalars.

    Returns
    -------
    Any
        The same values as dicts (str keys), lists, bool, int and float.
    """
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    return obj


def rep_items(rep: JSONDoc, pain_nrs: float | None,
              config: RuleConfig | None = None) -> tuple[dict[str, int], dict[str, str]]:
    """Checklist items and their sources for one truth rep.

    Parameters
    ----------
    rep : dict of str to Any
        A truth rep (``measures`` in deg / cm, ``hand_off_waist``, ``uncontrolled``).
    pain_nrs : float or None
        The rep's simulated pain, 0-10.
    config : RuleConfig or None
        Rule thresholds; None: the defaults.

    Returns
    -------
    items : dict of str to int
        Item -> 0 or 1, for every item of :data:`analysis.rules.ITEMS`.
    sources : dict of str to str
        Item -> where it came from (``rule``, ``reported`` or ``truth``).
    """
    scored = score_rep(rep["measures"], config or RuleConfig(), pain_nrs)
    items: dict[str, int] = {}
    sources: dict[str, str] = {}
    for item in ITEMS:
        if item in SCORED_BY_RULE:
            items[item], sources[item] = int(scored.items[item]), scored.sources[item]
        elif item == "arm":
            items[item], sources[item] = int(bool(rep["hand_off_waist"])), "truth"
        else:  # descent
            items[item], sources[item] = int(bool(rep["uncontrolled"])), "truth"
    return items, sources


def truth_document(sim: Simulation, options: SimConfig | None = None,
                   config: RuleConfig | None = None) -> JSONDoc:
    """The simulator's truth plus per-rep and test-level checklist items (JSON-ready).

    Parameters
    ----------
    sim : Simulation
        The simulated test.
    options : SimConfig or None
        The SimConfig that made ``sim``, recorded under ``options`` so the file says how to
        make it again.
    config : RuleConfig or None
        Rules (default: the defaults).

    Returns
    -------
    dict of str to Any
        The truth (times s, measures deg / cm) with ``reps[i].items``, ``sources``,
        ``total``, ``piva_total``, ``test``, ``rules`` and ``simulated``.
    """
    config = config or RuleConfig()
    doc = jsonable(sim.truth)
    pains = doc.get("pain_nrs") or [0.0] * len(doc["reps"])
    for rep, pain in zip(doc["reps"], pains, strict=True):
        rep["items"], rep["sources"] = rep_items(rep, pain, config)
        rep["total"] = rep_total(rep["items"])
        rep["piva_total"] = piva_total(rep["items"])
    t_items = aggregate_items([r["items"] for r in doc["reps"]], config.test_rule)
    total = rep_total(t_items)
    doc["test"] = {"rule": config.test_rule, "items": t_items, "total": total,
                   "piva_total": piva_total(t_items), "category": category(total)}
    doc["rules"] = {"note": "default heuristic thresholds (DESIGN.md, Default rules)",
                    **{k: v for k, v in asdict(config).items() if k != "origins"}}
    if options is not None:
        doc["options"] = jsonable(asdict(options))
    doc["simulated"] = True
    return doc


def write_truth(doc: JSONDoc, recording_path: str | os.PathLike[str]) -> Path:
    """Write the truth document beside the recording; returns its path.

    Parameters
    ----------
    doc : dict of str to Any
        The truth document (JSON-ready, no NaN).
    recording_path : str or os.PathLike
        The recording it belongs to.

    Returns
    -------
    pathlib.Path
        The ``<name>.truth.json`` written.
    """
    path = truth_path(recording_path)
    path.write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    return path


def read_truth(path: str | os.PathLike[str]) -> JSONDoc:
    """Load a truth document (``<name>.truth.json``, or give the recording's path).

    Parameters
    ----------
    path : str or os.PathLike
        The truth file, or the recording beside it.

    Returns
    -------
    dict of str to Any
        The document (format ``stepdown-truth``).

    Raises
    ------
    InputError
        No such file, not JSON, or not a truth document.
    """
    path = Path(path)
    if not path.name.endswith(TRUTH_SUFFIX):
        path = truth_path(path)
    try:
        doc = parse_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such truth file") from None
    except JSONProblem as err:
        raise InputError(f"{path}: {err}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: {read_problem(err)}") from None
    if not isinstance(doc, dict) or doc.get("format") != TRUTH_FORMAT:
        raise InputError(f"{path}: not a {TRUTH_FORMAT} document")
    reps = doc.get("reps")
    if not isinstance(reps, list):
        raise InputError(f"{path}: 'reps' must be a list of reps, got {reps!r}")
    for i, rep in enumerate(reps, start=1):
        if not isinstance(rep, dict):
            raise InputError(f"{path}: rep {i} must be a JSON object, got {rep!r}")
        bottom = rep.get("bottom_s")
        if isinstance(bottom, bool) or not isinstance(bottom, int | float):
            raise InputError(f"{path}: rep {i}: bottom_s must be a number (s), got {bottom!r}")
        if not isinstance(rep.get("items", {}), dict):
            raise InputError(f"{path}: rep {i}: items must be a JSON object, "
                             f"got {rep['items']!r}")
    return doc


def plot_recording(rec: Recording, truth: JSONDoc | None,
                   path: str | os.PathLike[str]) -> Path:
    """PNG of a recording with its truth.

    Per sensor, accelerometer (m/s²) and gyroscope (rad/s) traces in the sensor frame over
    time (s); the reps of ``truth`` shaded, their bottoms marked, the standing window
    tinted.

    Parameters
    ----------
    rec : Recording
        The recording to draw.
    truth : dict of str to Any or None
        Its truth document (times in s); None draws the traces only.
    path : str or os.PathLike
        The PNG to write.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = rec.placements
    fig, axes = plt.subplots(len(names), 2, figsize=(14, 2.3 * len(names) + 0.9),
                             sharex=True, squeeze=False)
    colors = ("tab:red", "tab:green", "tab:blue")
    for row, name in enumerate(names):
        s = rec.streams[name]
        for col, (data, what, unit) in enumerate(((s.acc, "accelerometer", "m/s²"),
                                                 (s.gyr, "gyroscope", "rad/s"))):
            ax = axes[row, col]
            for k, axis in enumerate("xyz"):
                ax.plot(s.t, data[:, k], lw=0.6, color=colors[k], label=axis)
            ax.set_title(f"{name}: {what} ({unit}, sensor frame, {s.rate_hz:.0f} Hz)",
                         fontsize=9, loc="left")
            ax.set_ylabel(unit, fontsize=8)
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.25, lw=0.5)
            _shade_truth(ax, truth)
    axes[0, 1].legend(loc="upper right", fontsize=7, ncol=3, frameon=False)
    for ax in axes[-1]:
        ax.set_xlabel("time (s)", fontsize=8)
    fig.suptitle(_plot_title(rec, truth), fontsize=11)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _shade_truth(ax: Any, truth: JSONDoc | None) -> None:
    if not truth:
        return
    t0, t1 = truth.get("standing_s", [0.0, 0.0])
    ax.axvspan(t0, t1, color="0.85", alpha=0.5, lw=0)
    for rep in truth.get("reps", []):
        ax.axvspan(rep["start_s"], rep["end_s"], color="gold", alpha=0.22, lw=0)
        ax.axvline(rep["bottom_s"], color="0.4", lw=0.6, ls=":")
    for rep in truth.get("partial_reps", []):
        ax.axvspan(rep["start_s"], rep["end_s"], color="tab:purple", alpha=0.12, lw=0)


def _plot_title(rec: Recording, truth: JSONDoc | None) -> str:
    title = f"simulated lateral step-down, {rec.test_leg} test leg"
    if truth:
        title += (f", profile {truth.get('profile')}, seed {truth.get('seed')}; "
                  "grey: standing window, yellow: reps (dotted: bottom)")
        if truth.get("test"):
            title += f"; truth: {truth['test']['category']} (total {truth['test']['total']})"
    return title

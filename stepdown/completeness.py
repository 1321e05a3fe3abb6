"""What a recording and its analysis lack: sensors that vanished or never started, items
no sensor could measure, and what that does to the result a user is shown.

A result is only called good, medium or poor when nothing it rests on is missing: a
test whose thigh stopped halfway, or whose reps could not measure the knee, says what
is missing and how high the total could be instead of "good".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from analysis import registry
from analysis.result import AnalysisResult, Rep
from sensor_io.json_doc import JSONDoc
from sensor_io.recorder import gap_samples
from sensor_io.recording import Recording

if TYPE_CHECKING:  # annotations only: the analyze path need not load the BLE stack
    from sensor_io.ble_client import SensorStatus

NOT_MEASURED_SKIP = ("pain",)  # reported by the athlete, not measured: not a sensor's fault
MISSING_MIN_S = 1.0  # a sensor silent this long (s) during the test leaves reps unscored


def sensor_quality(status: SensorStatus, gaps: list[JSONDoc]) -> dict[str, int]:
    """The per-sensor quality summary kept in the recording's sensor metadata.

    Samples kept, gaps and the samples they miss, packets the decoder refused,
    notifications taken as delivered twice, reconnections.

    Parameters
    ----------
    status : SensorStatus
        The sensor's counters at the end of the recording.
    gaps : list of dict of str to Any
        The recording's gap markers (``sensor``, ``start_s``, ``end_s`` in s, ...).

    Returns
    -------
    dict of str to int
        ``samples``, ``gaps``, ``lost_samples``, ``bad_packets``, ``duplicates``,
        ``reconnects``.
    """
    return {"samples": status.samples,
            "gaps": sum(1 for g in gaps if g["sensor"] == status.placement),
            "lost_samples": gap_samples(gaps, status.placement, status.rate_hz),
            "bad_packets": status.bad_packets,
            "duplicates": getattr(status, "duplicates", 0),
            "reconnects": status.reconnects}


def missing_minimum(rec: Recording) -> list[str]:
    """The sensors of the minimum set (pelvis, the test thigh) with no samples at all.

    Parameters
    ----------
    rec : Recording
        The recording.

    Returns
    -------
    list of str
        Placement names, e.g. ``thigh_left``; empty when both have samples.
    """
    return [s for s in ("pelvis", f"thigh_{rec.test_leg}") if s not in rec.streams]


def silent_spans(rec: Recording, min_s: float = MISSING_MIN_S) -> list[JSONDoc]:
    """The long gap markers of the minimum set (pelvis, the test thigh).

    Gaps of at least ``min_s`` (s), whose silence can hide whole reps: sensors that dropped
    out, vanished or never sent data, damaged journal stretches.  (An optional sensor's
    silence only leaves its items unmeasured, which the analysis reports.)

    Parameters
    ----------
    rec : Recording
        The recording and its gap markers (``extra["gaps"]``).
    min_s : float
        Shortest silence that counts, s.

    Returns
    -------
    list of dict of str to Any
        The gap markers (``sensor``, ``start_s``, ``end_s`` in s, ``reason``).
    """
    needed = ("pelvis", f"thigh_{rec.test_leg}")
    return [g for g in rec.extra.get("gaps", [])
            if g["sensor"] in needed and g["end_s"] - g["start_s"] >= min_s]


SENSOR_FOR_ITEM = registry.sensor_for_item()
"""Items only their own sensor measures (the minimum set measures the others)."""


def worn(rec: Recording) -> set[str]:
    """The segments that wore a sensor: those with samples and those marked silent.

    Parameters
    ----------
    rec : Recording
        The recording.

    Returns
    -------
    set of str
        Segment names (``pelvis``, ``thigh``, ...; no side).
    """
    names = set(rec.streams) | {g["sensor"] for g in rec.extra.get("gaps", [])}
    return {n.split("_")[0] for n in names}


def unmeasured_items(items: Mapping[str, int | None], rec: Recording | None = None) -> list[str]:
    """The items of one scored rep that no sensor could decide.

    With ``rec``, only those its sensors should have measured (not arm without a wrist
    sensor, nor trunk without a trunk sensor: the sensor set's limits).

    Parameters
    ----------
    items : Mapping of str to int or None
        Item -> points (None: not measured).
    rec : Recording or None
        The recording, to leave out the sensor set's limits.

    Returns
    -------
    list of str
        Item names; pain (reported, not measured) is never among them.
    """
    limits = set() if rec is None else {k for k, seg in SENSOR_FOR_ITEM.items()
                                        if seg not in worn(rec)}
    return [k for k, v in items.items()
            if v is None and k not in NOT_MEASURED_SKIP and k not in limits]


def items_lost_in_reps(reps: Sequence[Rep]) -> dict[str, list[int]]:
    """Items measured in some reps but not in others (a sensor dropped out during them).

    Items no rep measured are the sensor set's limit, reported by the analysis'
    ``completeness``, not a loss.

    Parameters
    ----------
    reps : Sequence of Rep
        The scored reps.

    Returns
    -------
    dict of str to list of int
        Item -> the rep indices lacking it, items sorted.
    """
    lacking: dict[str, list[int]] = {}
    for item in {k for rep in reps for k in unmeasured_items(rep.item_values())}:
        without = [rep.index for rep in reps if rep.items[item].value is None]
        if len(without) < len(reps):
            lacking[item] = without
    return dict(sorted(lacking.items()))


def withheld_because(rec: Recording, result: AnalysisResult) -> list[str]:
    """Why the category of the analysis ``result`` of ``rec`` must not be given.

    No rep found at all, items lost in some reps, and silences of the minimum set during
    the test (reps there could not be found at all).

    Parameters
    ----------
    rec : Recording
        The recording analysed.
    result : AnalysisResult
        Its analysis.

    Returns
    -------
    list of str
        One reason a line (at most three silences named); empty: the category may be given.
    """
    lost = items_lost_in_reps(result.reps)
    spans = silent_spans(rec)
    # no rep: every item reads 0, which would say "good" about a test nobody did
    why = [] if result.reps else ["no complete rep found"]
    why += [f"{item} not measured in rep{'s' if len(reps) > 1 else ''} "
           f"{', '.join(map(str, reps))}" for item, reps in lost.items()]
    why += [f"no {g['sensor']} data {g['start_s']:.1f}-{g['end_s']:.1f} s ({g['reason']})"
            for g in spans[:3]]
    if len(spans) > 3:
        why.append(f"{len(spans) - 3} more gaps")
    return why


def verdict_line(rec: Recording, result: AnalysisResult) -> str:
    """The test result of an analysis of ``rec`` in one line.

    'total 1 (good), Piva 0-6 subtotal 1, rule majority' when nothing is lost; the
    category is withheld when a sensor of the minimum set was silent during the test
    (reps there could not be found) or when items were lost in some reps; items the
    sensor set cannot measure at all are named with the total they could reach.

    Parameters
    ----------
    rec : Recording
        The recording analysed.
    result : AnalysisResult
        Its analysis.

    Returns
    -------
    str
        The line, without a trailing newline.
    """
    test, completeness = result.test, result.completeness or {}
    tail = f"Piva 0-6 subtotal {test.piva_total}, rule {test.rule}"
    why = withheld_because(rec, result)
    if why:
        return f"total {test.total} (category not decided: {'; '.join(why)}), {tail}"
    unassessed = list(completeness.get("not_assessed", []))
    note = ""
    if unassessed:
        note = (f"; {', '.join(unassessed)} not assessed: a lower bound, at most "
                f"{completeness.get('total_upper_bound')}")
    return f"total {test.total} ({test.category}), {tail}{note}"

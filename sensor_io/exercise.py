"""Which exercise a recording holds, and the set's metadata (band, load, prescription).

The recording contract (DESIGN.md) grows compatibly: an optional metadata key
``exercise`` (format version stays 1)::

    "exercise": {"kind": "heel_taps", "band": true, "load_kg": 5.0,
                 "prescription": {"reps": 10}}

- ``kind``: ``test`` (the lateral step-down test, the default: a file without the key
  reads as a test), ``hold`` (isometric single-leg hold: knee bent, pushed out,
  held) or ``heel_taps`` (step-downs with a light heel touch, the article's
  progression);
- ``band``: the set was done with a band pulling the knee inward (feedback);
- ``load_kg``: added load (kg, 0 = body weight);
- ``prescription``: what the coach asked for in this set: ``holds`` (count) and
  ``hold_s`` ([min, max] s) for holds, ``reps`` for heel taps.

The step height stays the contract's ``step_height_m``. Readers that do not know the
key keep it in ``Recording.extra`` and write it back unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from sensor_io.errors import InputError, RecordingError
from sensor_io.json_doc import JSONDoc
from sensor_io.recording import Recording

EXERCISES: tuple[str, ...] = ("test", "hold", "heel_taps")
METADATA_KEY = "exercise"
LOAD_RANGE_KG = (0.0, 200.0)
HOLD_RANGE_S = (1.0, 600.0)
MAX_COUNT = 100
PRESCRIPTION_KEYS = ("holds", "hold_s", "reps")


@dataclass(frozen=True)
class ExerciseSet:
    """One recorded set: the exercise and how it was done."""

    kind: str = "test"
    """One of EXERCISES."""
    band: bool = False
    """Done with a band pulling the knee inward (feedback)."""
    load_kg: float = 0.0
    """Added load, kg (0 = body weight)."""
    prescription: JSONDoc = field(default_factory=dict)
    """What the coach asked for: {"holds": int, "hold_s": [min_s, max_s], "reps": int},
    each optional."""

    def to_json(self) -> JSONDoc:
        """The ``exercise`` metadata object of the recording contract.

        Returns
        -------
        dict
            ``{"kind", "band", "load_kg"}`` (kg), and ``"prescription"`` when one was given.
        """
        out: JSONDoc = {"kind": self.kind, "band": self.band, "load_kg": self.load_kg}
        if self.prescription:
            out["prescription"] = dict(self.prescription)
        return out


def check_exercise(value: Any, *, path: str | None = None) -> None:
    """Check the ``exercise`` metadata object; RecordingError (one line) when it is wrong.

    Parameters
    ----------
    value : Any
        The parsed ``exercise`` value; None (absent) is a test and passes.
    path : str, optional
        The file, for the message.

    Raises
    ------
    RecordingError
        For an unknown kind, a non-boolean band, a load outside LOAD_RANGE_KG (kg) or a
        malformed prescription.
    """
    if value is None:
        return
    if not isinstance(value, dict):
        raise RecordingError(f"exercise must be a JSON object, got {value!r}", path=path)
    kind = value.get("kind", "test")
    if kind not in EXERCISES:
        raise RecordingError(f"unknown exercise {kind!r} (expected one of {', '.join(EXERCISES)})",
                             path=path)
    if not isinstance(value.get("band", False), bool):
        raise RecordingError(f"exercise.band must be true or false, got {value['band']!r}",
                             path=path)
    _check_range("exercise.load_kg", value.get("load_kg", 0.0), LOAD_RANGE_KG, "kg", path)
    _check_prescription(value.get("prescription") or {}, path)


def _check_prescription(p: Any, path: str | None) -> None:
    if not isinstance(p, dict):
        raise RecordingError(f"exercise.prescription must be a JSON object, got {p!r}", path=path)
    unknown = sorted(set(p) - set(PRESCRIPTION_KEYS))
    if unknown:
        raise RecordingError(f"exercise.prescription: unknown key {unknown[0]!r} "
                             f"(expected {', '.join(PRESCRIPTION_KEYS)})", path=path)
    for key in ("holds", "reps"):
        if key in p and (isinstance(p[key], bool) or not isinstance(p[key], int)
                         or not 1 <= p[key] <= MAX_COUNT):
            raise RecordingError(f"exercise.prescription.{key} must be a whole number "
                                 f"1-{MAX_COUNT}, got {p[key]!r}", path=path)
    if "hold_s" in p:
        hold = p["hold_s"]
        if not (isinstance(hold, list) and len(hold) == 2):
            raise RecordingError(f"exercise.prescription.hold_s must be [min, max] seconds, "
                                 f"got {hold!r}", path=path)
        for v in hold:
            _check_range("exercise.prescription.hold_s", v, HOLD_RANGE_S, "s", path)
        if hold[0] > hold[1]:
            raise RecordingError(f"exercise.prescription.hold_s {hold!r}: min above max", path=path)


def _check_range(name: str, v: Any, bounds: tuple[float, float], unit: str,
                 path: str | None) -> None:
    lo, hi = bounds
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) \
            or not lo <= v <= hi:
        raise RecordingError(f"{name} = {v!r} must be a number from {lo:g} to {hi:g} {unit}",
                             path=path)


def exercise_of(rec: Recording) -> ExerciseSet:
    """The recording's exercise set; a recording without the key is a ``test``.

    Parameters
    ----------
    rec : Recording
        The recording.

    Returns
    -------
    ExerciseSet
        Its exercise, checked.
    """
    return exercise_from_json(rec.extra.get(METADATA_KEY))


def exercise_from_json(value: JSONDoc | None) -> ExerciseSet:
    """The ``exercise`` metadata object as an ExerciseSet (checked; None: a test).

    Parameters
    ----------
    value : dict or None
        The parsed ``exercise`` metadata object.

    Returns
    -------
    ExerciseSet
        The set it describes.
    """
    if value is None:
        return ExerciseSet()
    check_exercise(value)
    return ExerciseSet(kind=value.get("kind", "test"), band=bool(value.get("band", False)),
                       load_kg=float(value.get("load_kg", 0.0)),
                       prescription=dict(value.get("prescription") or {}))


def with_exercise(rec: Recording, ex: ExerciseSet) -> Recording:
    """A copy of ``rec`` whose metadata says ``ex`` (checked first).

    Parameters
    ----------
    rec : Recording
        The recording.
    ex : ExerciseSet
        The exercise to record in its metadata.

    Returns
    -------
    Recording
        ``rec`` with ``extra["exercise"]`` set.
    """
    check_exercise(ex.to_json())
    return replace(rec, extra={**rec.extra, METADATA_KEY: ex.to_json()})


STEP_RANGE_CM = (5.0, 60.0)


def about_s(hold_s: float) -> list[float]:
    """A prescription's ``hold_s`` [min, max] (s) for holds of about ``hold_s`` s: 0.9-1.1 times.

    Parameters
    ----------
    hold_s : float
        About how long each hold lasts, s.

    Returns
    -------
    list of float
        [min, max], s, to 0.1 s.
    """
    return [round(0.9 * hold_s, 1), round(1.1 * hold_s, 1)]


def set_from_options(kind: str, band: bool = False, load_kg: float = 0.0,
                     step_cm: float | None = None,
                     prescription: JSONDoc | None = None
                     ) -> tuple[JSONDoc | None, float | None]:
    """The ``exercise`` metadata object and the step height (m) from command-line options
    (``--exercise --band --load-kg --step-cm``); InputError (one line) when one is wrong.

    A plain test (no band, no load, no prescription) gives None: its metadata stays as
    it always was.

    Parameters
    ----------
    kind : str
        ``--exercise``: one of EXERCISES (any case, ``-`` for ``_``).
    band : bool
        ``--band``: done with a feedback band.
    load_kg : float
        ``--load-kg``: added load, kg.
    step_cm : float, optional
        ``--step-cm``: step height, cm (within STEP_RANGE_CM).
    prescription : dict, optional
        What the coach asked for (see :class:`ExerciseSet`).

    Returns
    -------
    exercise : dict or None
        The ``exercise`` metadata object; None for a plain test.
    step_height_m : float or None
        The step height, m; None when ``step_cm`` was not given.
    """
    kind = kind.strip().lower().replace("-", "_")
    if kind not in EXERCISES:
        raise InputError(f"--exercise: unknown exercise {kind!r} "
                         f"(expected one of {', '.join(EXERCISES)})")
    if not (math.isfinite(load_kg) and LOAD_RANGE_KG[0] <= load_kg <= LOAD_RANGE_KG[1]):
        raise InputError(f"--load-kg {load_kg:g} must be from {LOAD_RANGE_KG[0]:g} "
                         f"to {LOAD_RANGE_KG[1]:g} kg")
    step_m = None
    if step_cm is not None:
        lo, hi = STEP_RANGE_CM
        if not (math.isfinite(step_cm) and lo <= step_cm <= hi):
            raise InputError(f"--step-cm {step_cm:g} must be from {lo:g} to {hi:g} cm")
        step_m = round(step_cm / 100.0, 4)
    ex = ExerciseSet(kind, band, float(load_kg), dict(prescription or {}))
    check_exercise(ex.to_json())
    plain = kind == "test" and not band and not load_kg and not prescription
    return (None if plain else ex.to_json()), step_m

"""The analysis result as types: what ``stepdown analyze --json`` prints and what the
catalog stores.

:meth:`AnalysisResult.to_json` *is* the analysis JSON contract (DESIGN.md, "Analysis
output") with its documented extras (:mod:`analysis.pipeline`), and
:meth:`AnalysisResult.from_json` reads every document of the schema versions in
:data:`READABLE_VERSIONS`, refusing anything else with one :class:`ResultError` line.
A document read and written again is the same document, key for key and in the same
order: a key the document did not carry is not added (``None`` stands for "absent"
where a key is optional, and a measure the document did not carry is not listed in
:attr:`RepMeasures.names`).

``docs/analysis.schema.json`` is generated from these classes (:func:`json_schema`, whose
descriptions are the field docstrings below); ``python -m analysis.result`` rewrites it and
``tests/test_analysis/test_result_model.py`` fails when it is stale.

The blocks that only explain a result (``calibration`` beyond its window, ``body``,
``rules``, ``classifier``, ``completeness``, ``uncertainty``) are kept as the JSON objects
their producers write (:data:`JsonObject`); the schema says so.
"""

from __future__ import annotations

import ast
import inspect
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Any, get_type_hints

from analysis import registry
from analysis.rules import ITEMS, TEST_RULES
from sensor_io.errors import InputError
from sensor_io.json_doc import JSONDoc

FORMAT = "stepdown-analysis"
SCHEMA_VERSION = 1
"""The version this code writes (the document's ``version``)."""
READABLE_VERSIONS = (1,)
SOURCES = ("rule", "classifier", "reported", "not_assessed")
"""How a rep item was decided (DESIGN.md)."""
CATEGORIES = ("good", "medium", "poor")
ITEM_LEVELS = {i.name: tuple(range(i.max_points + 1)) for i in registry.ITEMS}
"""Each item's possible points in one rep."""
SCHEMA_PATH = Path(__file__).resolve().parents[1] / "docs" / "analysis.schema.json"

JsonObject = Mapping[str, Any]
"""A JSON object kept as its producer wrote it (an explanatory block, not yet typed)."""


class ResultError(InputError):
    """An analysis document that breaks the contract; ``str(err)`` is one line."""


# --------------------------------------------------------------------- checks


def _need(cond: bool, what: str) -> None:
    if not cond:
        raise ResultError(f"analysis document: {what}")


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _object(doc: Any, where: str) -> Mapping[str, Any]:
    _need(isinstance(doc, Mapping), f"{where} is not an object")
    return doc


def _known_keys(doc: Mapping[str, Any], allowed: Sequence[str], where: str) -> None:
    unknown = [k for k in doc if k not in allowed]
    _need(not unknown, f"{where}: unknown key(s) {', '.join(map(str, unknown))}; "
                       f"known: {', '.join(allowed)}")


def _optional_number(v: Any, where: str) -> float | None:
    _need(v is None or _is_number(v), f"{where} is not a number or null")
    return v


def _strings(v: Any, where: str) -> tuple[str, ...]:
    _need(isinstance(v, list) and all(isinstance(s, str) for s in v),
          f"{where} is not a list of strings")
    return tuple(v)


# ------------------------------------------------------------------- the model


@dataclass(frozen=True)
class RepMeasures:
    """Each measure's peak over one rep (start to end), relative to the standing pose.

    ``None``: the sensors could not give it (JSON null). Measures listed in
    :data:`analysis.validation.UNVALIDATED` are whole degrees.
    """

    knee_medial_cm: float | None = None
    """Knee joint centre medial to the ankle, cm; > 0 medial."""
    hip_adduction_deg: float | None = None
    """Hip adduction (thigh relative to pelvis, ISB joint coordinate system), degrees."""
    hip_internal_rotation_deg: float | None = None
    """Hip internal rotation (ISB joint coordinate system), degrees."""
    hip_flexion_deg: float | None = None
    """Hip flexion (ISB joint coordinate system), degrees."""
    pelvic_drop_deg: float | None = None
    """Pelvic obliquity, degrees; > 0 when the swing (non-test) side is lower."""
    trunk_lean_deg: float | None = None
    """Magnitude of lateral trunk inclination, degrees."""
    wrist_motion_deg: float | None = None
    """How far the wrist moved away from its hand-on-waist pose, degrees."""
    impact_ms2: float | None = None
    """Peak specific-force jolt at the bottom of the rep, m/s²."""
    descent_drop_ratio: float | None = None
    """Share of the descent's depth lost in its fastest part (0-1, no unit)."""
    names: tuple[str, ...] = ()
    """The measures the document carries, in its order (the JSON lists only these)."""
    extra: Mapping[str, float | None] = field(default_factory=dict)
    """Measures added to the registry at run time (:func:`analysis.registry.registered`)."""

    @classmethod
    def measure_names(cls) -> tuple[str, ...]:
        """The names of the measures this class declares.

        Returns
        -------
        tuple of str
            In the order of the analysis JSON.
        """
        return tuple(f.name for f in fields(cls) if f.name not in ("names", "extra"))

    def get(self, name: str) -> float | None:
        """One measure's value.

        Parameters
        ----------
        name : str
            The measure's name.

        Returns
        -------
        float or None
            The value; None when absent from the document or not measured.
        """
        if name not in self.names:
            return None
        return self.extra.get(name) if name in self.extra else getattr(self, name)

    def to_json(self) -> dict[str, float | None]:
        """The ``measures`` object of a rep.

        Returns
        -------
        dict of str to float or None
            The measures the document carries, in its order.
        """
        return {k: self.get(k) for k in self.names}

    @classmethod
    def from_json(cls, doc: Any, where: str = "measures") -> RepMeasures:
        """Read a rep's ``measures`` object.

        Parameters
        ----------
        doc : Any
            The object.
        where : str
            Where it is, for the error message.

        Returns
        -------
        RepMeasures
            The measures; ResultError (one line) for an unknown measure or a non-number.
        """
        doc = _object(doc, where)
        _known_keys(doc, registry.measure_names(), where)
        values = {k: _optional_number(v, f"{where}.{k}") for k, v in doc.items()}
        own = cls.measure_names()
        return cls(**{k: v for k, v in values.items() if k in own}, names=tuple(doc),
                   extra={k: v for k, v in values.items() if k not in own})


@dataclass(frozen=True)
class ItemScore:
    """One checklist item of one rep: its value and how it was decided."""

    value: int | None
    """Points: 0 or 1 (knee 0, 1 or 2); None when not assessed (counts 0 in totals)."""
    source: str
    """``rule``, ``classifier``, ``reported`` (pain) or ``not_assessed``."""


def _why_unmeasured(not_measured: Mapping[str, str] | None, cut_by_gap: tuple[str, ...] | None
                    ) -> JSONDoc:
    """A rep's optional ``not_measured`` and ``cut_by_gap`` keys, those it carries."""
    out: JSONDoc = {}
    if not_measured is not None:
        out["not_measured"] = dict(not_measured)
    if cut_by_gap is not None:
        out["cut_by_gap"] = list(cut_by_gap)
    return out


@dataclass(frozen=True, slots=True)
class MeasuredRep:
    """One full rep as the pipeline found and measured it, before the checklist scores it:
    what segmentation, the classifier's features and the checklist pass between them."""

    index: int
    """1-based rep number within the test."""
    start_s: float
    """Start of the rep, s on the recording's clock."""
    bottom_s: float | None
    """Deepest point of the rep, s (None: not known)."""
    end_s: float
    """End of the rep, s."""
    measures: RepMeasures
    """The rep's measures (peaks relative to standing)."""
    not_measured: Mapping[str, str] | None = None
    """Measure -> why it is null (None when every measure was measured)."""
    cut_by_gap: tuple[str, ...] | None = None
    """The rep's ends that lie on a data gap (None when none)."""

    def to_json(self) -> JSONDoc:
        """The rep as the JSON of :meth:`Rep.to_json` has it, without items and total.

        Returns
        -------
        dict
            ``index``, times, ``measures`` and the optional ``not_measured`` /
            ``cut_by_gap``.
        """
        return {"index": self.index, "start_s": self.start_s, "bottom_s": self.bottom_s,
                "end_s": self.end_s, "measures": self.measures.to_json(),
                **_why_unmeasured(self.not_measured, self.cut_by_gap)}

    @classmethod
    def from_json(cls, doc: Any, where: str = "rep") -> MeasuredRep:
        """Read a rep's times and measures (the keys of :meth:`to_json`; others are ignored,
        so an analysis document's rep reads too).

        Parameters
        ----------
        doc : Any
            The object: ``index``, ``start_s``, ``end_s`` and ``measures`` required,
            ``bottom_s`` (s), ``not_measured`` and ``cut_by_gap`` optional.
        where : str
            Which rep it is, for the error message.

        Returns
        -------
        MeasuredRep
            The rep; ResultError (one line) when a key is missing or not a number.
        """
        doc = _object(doc, where)
        _need(_is_int(doc.get("index")), f"{where}: index missing")
        for key in ("start_s", "end_s"):
            _need(_is_number(doc.get(key)), f"{where}: {key} missing")
        cut = doc.get("cut_by_gap")
        return cls(doc["index"], doc["start_s"],
                   _optional_number(doc.get("bottom_s"), f"{where}: bottom_s"), doc["end_s"],
                   RepMeasures.from_json(doc.get("measures"), f"{where}: measures"),
                   doc.get("not_measured"),
                   None if cut is None else _strings(cut, f"{where}: cut_by_gap"))


@dataclass(frozen=True)
class Rep:
    """One scored step-down rep."""

    index: int
    """1-based rep number within the test."""
    start_s: float
    """Start of the rep, s on the recording's clock."""
    bottom_s: float | None
    """Deepest point of the rep, s (None: absent from the document)."""
    end_s: float
    """End of the rep, s."""
    measures: RepMeasures
    """The rep's measures (peaks relative to standing)."""
    items: Mapping[str, ItemScore]
    """Checklist item name -> its score, in the document's order."""
    total: int
    """Sum of the assessed items' points, 0-8."""
    not_measured: Mapping[str, str] | None = None
    """Measure -> why it is null (absent when every measure was measured)."""
    cut_by_gap: tuple[str, ...] | None = None
    """The rep's ends that lie on a data gap (absent when none)."""

    def item_values(self) -> dict[str, int | None]:
        """The rep's items without their sources.

        Returns
        -------
        dict of str to int or None
            Item name -> points (None: not assessed).
        """
        return {k: s.value for k, s in self.items.items()}

    def to_json(self) -> JSONDoc:
        """The rep's entry of the analysis contract.

        Returns
        -------
        dict
            ``index``, times, ``measures``, ``items``, ``sources``, ``total`` and the
            optional ``not_measured`` / ``cut_by_gap`` when the rep carries them.
        """
        out: JSONDoc = {"index": self.index, "start_s": self.start_s}
        if self.bottom_s is not None:
            out["bottom_s"] = self.bottom_s
        out |= {"end_s": self.end_s, "measures": self.measures.to_json(),
                "items": self.item_values(),
                "sources": {k: s.source for k, s in self.items.items()}, "total": self.total}
        return out | _why_unmeasured(self.not_measured, self.cut_by_gap)

    @classmethod
    def from_json(cls, doc: Any, where: str) -> Rep:
        """Read one entry of ``reps``.

        Parameters
        ----------
        doc : Any
            The entry.
        where : str
            Which rep it is ("rep 3"), for the error message.

        Returns
        -------
        Rep
            The rep; ResultError (one line) when it breaks the contract.
        """
        doc = _object(doc, where)
        _known_keys(doc, _REP_KEYS, where)
        _need(_is_int(doc.get("index")), f"{where}: index missing")
        where = f"rep {doc['index']}"
        for key in ("start_s", "end_s"):
            _need(_is_number(doc.get(key)), f"{where}: {key} missing")
        for key in ("measures", "items", "sources"):
            _need(isinstance(doc.get(key), Mapping), f"{where}: {key} missing")
        _need(_is_int(doc.get("total")), f"{where}: total missing")
        items, sources = doc["items"], doc["sources"]
        _need(list(items) == list(sources), f"{where}: items and sources name different items")
        not_measured = doc.get("not_measured")
        _need(not_measured is None or (isinstance(not_measured, Mapping) and all(
            isinstance(v, str) for v in not_measured.values())),
            f"{where}: not_measured is not an object of reasons")
        cut = doc.get("cut_by_gap")
        return cls(
            index=doc["index"], start_s=doc["start_s"],
            bottom_s=_optional_number(doc.get("bottom_s"), f"{where}: bottom_s"),
            end_s=doc["end_s"], measures=RepMeasures.from_json(doc["measures"], f"{where}: measures"),
            items={k: _item_score(k, items[k], sources[k], where) for k in items},
            total=doc["total"],
            not_measured=None if not_measured is None else dict(not_measured),
            cut_by_gap=None if cut is None else _strings(cut, f"{where}: cut_by_gap"))


_REP_KEYS = ("index", "start_s", "bottom_s", "end_s", "measures", "items", "sources", "total",
             "not_measured", "cut_by_gap")


def _item_value(item: str, value: Any, where: str) -> int | None:
    known = registry.item_names()
    _need(item in known, f"{where}: unknown item {item!r}; known: {', '.join(known)}")
    levels = tuple(range(registry.item(item).max_points + 1))
    _need(value is None or (_is_int(value) and value in levels),
          f"{where}: item {item} is {value!r}, not one of {levels} or null")
    return value


def _item_score(item: str, value: Any, source: Any, where: str) -> ItemScore:
    _need(source in SOURCES, f"{where}: source of {item} is {source!r}, not one of {SOURCES}")
    return ItemScore(_item_value(item, value, f"{where}: items"), source)


@dataclass(frozen=True)
class TestScore:
    """The test-level checklist, aggregated over the reps."""

    __test__ = False  # not a pytest class

    rule: str
    """How rep items became test items: ``majority``, ``any`` or ``worst``."""
    items: Mapping[str, int | None]
    """Test-level item -> points (None: assessed in no rep)."""
    total: int
    """Sum of the test items, 0-8."""
    piva_total: int
    """arm + trunk + pelvis + knee, 0-6 (Piva et al. 2006 without steady stance)."""
    category: str
    """``good`` (0-1), ``medium`` (2-3) or ``poor`` (4+)."""

    def to_json(self) -> JSONDoc:
        """The ``test`` object of the analysis contract.

        Returns
        -------
        dict
            ``rule``, ``items``, ``total``, ``piva_total``, ``category``.
        """
        return {"rule": self.rule, "items": dict(self.items), "total": self.total,
                "piva_total": self.piva_total, "category": self.category}

    @classmethod
    def from_json(cls, doc: Any) -> TestScore:
        """Read the ``test`` object.

        Parameters
        ----------
        doc : Any
            The object.

        Returns
        -------
        TestScore
            The test score; ResultError (one line) when it breaks the contract.
        """
        _need(isinstance(doc, Mapping), "test missing")
        _known_keys(doc, ("rule", "items", "total", "piva_total", "category"), "test")
        _need(doc.get("category") in CATEGORIES, f"test category not one of {CATEGORIES}")
        for key in ("total", "piva_total"):
            _need(_is_int(doc.get(key)), f"test.{key} is not an integer")
        _need(isinstance(doc.get("items"), Mapping), "test.items missing")
        _need(doc.get("rule", "majority") in TEST_RULES, f"test.rule not one of {TEST_RULES}")
        return cls(rule=doc.get("rule", "majority"),
                   items={k: _item_value(k, v, "test.items") for k, v in doc["items"].items()},
                   total=doc["total"], piva_total=doc["piva_total"], category=doc["category"])


@dataclass(frozen=True)
class RecordingSummary:
    """What was analysed: the test leg, the sensors and how they were calibrated."""

    test_leg: str
    """``left`` or ``right``: the leg standing on the step."""
    sensors_used: tuple[str, ...]
    """Placements whose data the analysis used (DESIGN.md's placement names)."""
    calibration: JsonObject | None = None
    """``window_s`` (start, end of the standing window, s) plus quality figures."""
    body: JsonObject | None = None
    """Body dimensions used (m) and where each came from."""

    @property
    def calibration_window_s(self) -> tuple[float, float] | None:
        """Start and end of the standing (calibration) window, s; None when not given."""
        w = (self.calibration or {}).get("window_s")
        return None if w is None else (float(w[0]), float(w[1]))


@dataclass(frozen=True)
class Skipped:
    """A movement not scored as a rep."""

    start_s: float
    """Start, s."""
    end_s: float
    """End, s."""
    reason: str
    """Why it was not scored (e.g. a partial rep)."""


@dataclass(frozen=True)
class Flag:
    """Rule and classifier judged the same item of a rep differently; the rule's value stands."""

    rep: int
    """Index of the rep."""
    item: str
    """Checklist item."""
    rule: int
    """The rule's points (kept)."""
    classifier: int
    """The classifier's points."""
    probability: float | None
    """The classifier's probability for its value (None when not given)."""


@dataclass(frozen=True)
class AnalysisResult:
    """One analysed step-down test: the document ``stepdown analyze --json`` prints."""

    recording: RecordingSummary
    """What was analysed (``test_leg``, ``sensors_used``, ``calibration``, ``body``)."""
    reps: tuple[Rep, ...]
    """The scored reps, in time order."""
    test: TestScore
    """The test-level checklist."""
    version: int = SCHEMA_VERSION
    """Schema version of the document."""
    skipped: tuple[Skipped, ...] | None = None
    """Movements not scored (partial reps)."""
    flags: tuple[Flag, ...] | None = None
    """Rule/classifier disagreements, for the coach."""
    explanations: tuple[str, ...] | None = None
    """One plain-language line per fault found."""
    rules: JsonObject | None = None
    """A note on the thresholds and the test rule used."""
    config: JsonObject | None = None
    """Every setting the analysis was made with (:class:`analysis.config.AnalysisConfig`);
    absent from analyses made before settings were saved."""
    classifier: JsonObject | None = None
    """Whether the shipped rep classifier was used, what it withheld, its probabilities."""
    completeness: JsonObject | None = None
    """Items not assessed and the highest total then possible."""
    uncertainty: JsonObject | None = None
    """Each measure's 90 % uncertainty, borderline items, the range of totals."""
    warnings: tuple[str, ...] | None = None
    """Plain-language doubts about the recording as a whole."""

    def to_json(self) -> JSONDoc:
        """The analysis contract (DESIGN.md) with the extras this result carries.

        Returns
        -------
        dict
            The document, keys in the order ``stepdown analyze --json`` prints them.
        """
        rec = self.recording
        out: JSONDoc = {"format": FORMAT, "version": self.version,
                               "test_leg": rec.test_leg, "sensors_used": list(rec.sensors_used)}
        for key in ("calibration", "body"):
            if (block := getattr(rec, key)) is not None:
                out[key] = block
        out["reps"] = [r.to_json() for r in self.reps]
        out["test"] = self.test.to_json()
        if self.skipped is not None:
            out["skipped"] = [_plain(s) for s in self.skipped]
        if self.flags is not None:
            out["flags"] = [_plain(f) for f in self.flags]
        for key in _TAIL_KEYS:
            if (value := getattr(self, key)) is not None:
                out[key] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_json(cls, doc: Any) -> AnalysisResult:
        """Read an analysis document.

        Parameters
        ----------
        doc : Any
            The parsed JSON document.

        Returns
        -------
        AnalysisResult
            The typed result; ResultError (one line) when the document breaks the contract
            or is of a schema version this code cannot read.
        """
        _need(isinstance(doc, Mapping), "not a JSON object")
        _need(doc.get("format") == FORMAT, f"format is not {FORMAT!r}")
        _need(_is_int(doc.get("version")), "version missing")
        _need(doc["version"] in READABLE_VERSIONS,
              f"version {doc['version']} cannot be read by this stepdown (it reads "
              f"{', '.join(map(str, READABLE_VERSIONS))}); update stepdown")
        _known_keys(doc, _TOP_KEYS, "analysis document")
        _need(doc.get("test_leg") in ("left", "right"), "test_leg is not 'left' or 'right'")
        _need(isinstance(doc.get("reps"), list), "reps is not a list")
        reps = tuple(Rep.from_json(r, f"rep {i}") for i, r in enumerate(doc["reps"], 1))
        indices = [r.index for r in reps]
        _need(len(set(indices)) == len(indices), "rep index repeated")
        for key in ("calibration", "body", "rules", "config", "classifier", "completeness",
                    "uncertainty"):
            _need(doc.get(key) is None or isinstance(doc[key], Mapping), f"{key} is not an object")
        recording = RecordingSummary(
            test_leg=doc["test_leg"],
            sensors_used=_strings(doc.get("sensors_used", []), "sensors_used"),
            calibration=doc.get("calibration"), body=doc.get("body"))
        return cls(
            recording=recording, reps=reps, test=TestScore.from_json(doc.get("test")),
            version=doc["version"],
            skipped=_records(doc, "skipped", Skipped), flags=_records(doc, "flags", Flag),
            explanations=_optional_strings(doc, "explanations"),
            rules=doc.get("rules"), config=doc.get("config"), classifier=doc.get("classifier"),
            completeness=doc.get("completeness"), uncertainty=doc.get("uncertainty"),
            warnings=_optional_strings(doc, "warnings"))


_TAIL_KEYS = ("explanations", "rules", "config", "classifier", "completeness", "uncertainty",
              "warnings")
_TOP_KEYS = ("format", "version", "test_leg", "sensors_used", "calibration", "body", "reps",
             "test", "skipped", "flags", *_TAIL_KEYS)


def _plain(obj: Any) -> JSONDoc:
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


def _records(doc: Mapping[str, Any], key: str, cls: type) -> tuple | None:
    """A list of flat records (Skipped, Flag) read field by field."""
    if doc.get(key) is None:
        return None
    rows = doc[key]
    _need(isinstance(rows, list), f"{key} is not a list")
    kinds = _record_kinds(cls)
    out = []
    for i, row in enumerate(rows, 1):
        _need(isinstance(row, Mapping) and list(row) == list(kinds),
              f"{key} entry {i}: expected keys {', '.join(kinds)}")
        for name, (base, optional) in kinds.items():
            ok = (row[name] is None and optional) or (
                _is_number(row[name]) if base is float else
                _is_int(row[name]) if base is int else isinstance(row[name], base))
            _need(ok, f"{key} entry {i}: {name} is {row[name]!r}, not {base.__name__}")
        out.append(cls(**row))
    return tuple(out)


def _record_kinds(cls: type) -> dict[str, tuple[type, bool]]:
    """Field name -> (its type among int/float/str, whether None is allowed)."""
    out = {}
    for name, hint in get_type_hints(cls).items():
        args = getattr(hint, "__args__", (hint,))
        out[name] = ([t for t in args if t is not type(None)][0], type(None) in args)
    return out


def _optional_strings(doc: Mapping[str, Any], key: str) -> tuple[str, ...] | None:
    return None if doc.get(key) is None else _strings(doc[key], key)


# ------------------------------------------------------------------ the schema


@cache
def field_docs(cls: type) -> dict[str, str]:
    """The docstring written under each field of a dataclass (its unit and meaning).

    Parameters
    ----------
    cls : type
        A dataclass defined in a source file.

    Returns
    -------
    dict of str to str
        Field name -> its docstring, whitespace collapsed.
    """
    tree = ast.parse(inspect.getsource(cls))
    body = tree.body[0].body  # type: ignore[attr-defined]
    out = {}
    for stmt, nxt in zip(body, body[1:], strict=False):
        if (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
                and isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant)
                and isinstance(nxt.value.value, str)):
            out[stmt.target.id] = " ".join(nxt.value.value.split())
    return out


def _described(schema: JSONDoc, cls: type, name: str) -> JSONDoc:
    return {"description": field_docs(cls)[name], **schema}


_NUMBER = {"type": "number"}
_STRINGS = {"type": "array", "items": {"type": "string"}}
_OBJECT = {"type": "object"}


def _flat_record_schema(cls: type) -> JSONDoc:
    types = {int: "integer", float: "number", str: "string"}
    props = {}
    for name, (base, optional) in _record_kinds(cls).items():
        kind = [types[base], "null"] if optional else types[base]
        props[name] = _described({"type": kind}, cls, name)
    return {"type": "object", "description": inspect.getdoc(cls), "properties": props,
            "required": list(props), "additionalProperties": False}


def _rep_schema() -> JSONDoc:
    measures = {"type": "object", "description": inspect.getdoc(RepMeasures),
                "properties": {m: _described({"type": ["number", "null"]}, RepMeasures, m)
                               for m in RepMeasures.measure_names()},
                "additionalProperties": False}
    levels = {k: list(ITEM_LEVELS[k]) for k in ITEMS}
    items = {"type": "object", "description": field_docs(ItemScore)["value"],
             "properties": {k: {"enum": [*levels[k], None]} for k in ITEMS},
             "additionalProperties": False}
    sources = {"type": "object", "description": field_docs(ItemScore)["source"],
               "properties": {k: {"enum": list(SOURCES)} for k in ITEMS},
               "additionalProperties": False}
    props = {
        "index": _described({"type": "integer"}, Rep, "index"),
        "start_s": _described(_NUMBER, Rep, "start_s"),
        "bottom_s": _described(_NUMBER, Rep, "bottom_s"),
        "end_s": _described(_NUMBER, Rep, "end_s"),
        "measures": measures, "items": items, "sources": sources,
        "total": _described({"type": "integer", "minimum": 0, "maximum": 8}, Rep, "total"),
        "not_measured": _described({"type": "object", "additionalProperties": {"type": "string"}},
                                   Rep, "not_measured"),
        "cut_by_gap": _described(_STRINGS, Rep, "cut_by_gap"),
    }
    return {"type": "object", "description": inspect.getdoc(Rep), "properties": props,
            "required": ["index", "start_s", "end_s", "measures", "items", "sources", "total"],
            "additionalProperties": False}


def _test_schema() -> JSONDoc:
    levels = {k: list(ITEM_LEVELS[k]) for k in ITEMS}
    props = {
        "rule": _described({"enum": list(TEST_RULES)}, TestScore, "rule"),
        "items": _described({"type": "object", "additionalProperties": False,
                             "properties": {k: {"enum": [*levels[k], None]} for k in ITEMS}},
                            TestScore, "items"),
        "total": _described({"type": "integer", "minimum": 0, "maximum": 8}, TestScore, "total"),
        "piva_total": _described({"type": "integer", "minimum": 0, "maximum": 6},
                                 TestScore, "piva_total"),
        "category": _described({"enum": list(CATEGORIES)}, TestScore, "category"),
    }
    return {"type": "object", "description": inspect.getdoc(TestScore), "properties": props,
            "required": ["items", "total", "piva_total", "category"],
            "additionalProperties": False}


def _config_schema() -> JSONDoc:
    """The ``config`` block: :class:`analysis.config.AnalysisConfig`'s fields."""
    from analysis.config import NESTED, ORIENTATION_MODES, TABLES, AnalysisConfig

    kinds = {"float": _NUMBER, "bool": {"type": "boolean"}, "str": {"type": "string"}}
    props: JSONDoc = {
        "rules": {"type": "object", "description": field_docs(AnalysisConfig)["rules"],
                  "properties": {"test_rule": {"enum": list(TEST_RULES)},
                                 "origins": {"type": "object",
                                             "additionalProperties": {"type": "string"}}},
                  "additionalProperties": _NUMBER},
        **{name: {"type": "object", "description": field_docs(AnalysisConfig)[name],
                  "properties": {f.name: _described(_NUMBER, kind, f.name) for f in fields(kind)},
                  "additionalProperties": False} for name, kind in NESTED.items()}}
    for name in TABLES:
        props[name] = _described(
            {"type": "object", "additionalProperties": {
                "type": "object", "additionalProperties": {"type": "number", "minimum": 0}}},
            AnalysisConfig, name)
    for f in fields(AnalysisConfig):
        if f.name not in props:
            props[f.name] = _described(kinds[str(f.type)], AnalysisConfig, f.name)
    props["orientation_mode"] = {**props["orientation_mode"], "enum": list(ORIENTATION_MODES)}
    return {"type": "object", "properties": props, "additionalProperties": False}


def json_schema() -> JSONDoc:
    """The JSON Schema (draft 2020-12) of the analysis document, from the classes above.

    Returns
    -------
    dict
        The schema; its descriptions are the field docstrings.
    """
    rec, top = RecordingSummary, AnalysisResult
    props = {
        "format": {"const": FORMAT},
        "version": _described({"enum": list(READABLE_VERSIONS)}, top, "version"),
        "test_leg": _described({"enum": ["left", "right"]}, rec, "test_leg"),
        "sensors_used": _described(_STRINGS, rec, "sensors_used"),
        "calibration": _described({"type": "object", "properties": {"window_s": {
            "type": "array", "items": _NUMBER, "minItems": 2, "maxItems": 2}}}, rec, "calibration"),
        "body": _described(_OBJECT, rec, "body"),
        "reps": _described({"type": "array", "items": {"$ref": "#/$defs/rep"}}, top, "reps"),
        "test": {"$ref": "#/$defs/test"},
        "skipped": _described({"type": "array", "items": {"$ref": "#/$defs/skipped"}},
                              top, "skipped"),
        "flags": _described({"type": "array", "items": {"$ref": "#/$defs/flag"}}, top, "flags"),
        "explanations": _described(_STRINGS, top, "explanations"),
        "rules": _described(_OBJECT, top, "rules"),
        "config": _described(_config_schema(), top, "config"),
        **{k: _described(_OBJECT, top, k) for k in ("classifier", "completeness", "uncertainty")},
        "warnings": _described(_STRINGS, top, "warnings"),
    }
    assert list(props) == list(_TOP_KEYS)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://stepdown.invalid/analysis.schema.json",
        "title": "stepdown analysis document",
        "description": inspect.getdoc(top) + " Generated by `python -m analysis.result` "
                       "from analysis/result.py; do not edit by hand.",
        "type": "object", "properties": props,
        "required": ["format", "version", "test_leg", "reps", "test"],
        "additionalProperties": False,
        "$defs": {"rep": _rep_schema(), "test": _test_schema(),
                  "skipped": _flat_record_schema(Skipped), "flag": _flat_record_schema(Flag)},
    }


def schema_text() -> str:
    """The schema file's exact text.

    Returns
    -------
    str
        :func:`json_schema` as indented JSON with a final newline.
    """
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    SCHEMA_PATH.write_text(schema_text(), encoding="utf-8")
    print(f"wrote {SCHEMA_PATH}")

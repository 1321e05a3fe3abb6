"""The checklist: per-rep items and totals, the test result, flags and plain explanations.

Combines the rule scorer (:mod:`analysis.rules`), optional classifier items and
reported pain into the ``reps`` and ``test`` parts of the analysis JSON
contract (DESIGN.md, Analysis output).

Per rep: an item measured by a rule keeps the rule's value (source ``rule``);
pain is ``reported``; an item the rules could not assess takes the
classifier's value when given (source ``classifier``), else stays ``None``
(JSON null, source ``not_assessed``) and counts 0 in totals. Where both the rule
and the classifier judged an item and they differ, the rule's value stands and
a :class:`Disagreement` flag is raised for the coach, never silently.

Test level, by rule (:data:`analysis.rules.TEST_RULES`):

- ``majority`` (default): an item is present when present in more than half
  of the reps that assessed it (3 of 5, 2 of 3, 4 of 6); for the 3-level knee
  item, the highest level reached or exceeded in more than half of the reps.
- ``any``: per item, the highest value of any rep.
- ``worst``: the items of the single worst rep (highest total; the first of
  equals).

Totals: ``total`` = sum of the six items (0-8), ``piva_total`` =
arm + trunk + pelvis + knee (0-6, the published scale without steady stance);
category 0-1 good, 2-3 medium, 4+ poor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from analysis import registry
from analysis.result import ItemScore, MeasuredRep, Rep, RepMeasures, TestScore
from analysis.rules import TEST_RULES, RepItems, RuleConfig, score_rep
from sensor_io.errors import InputError
from sensor_io.json_doc import JSONDoc

__all__ = [
    "PIVA_ITEMS", "Checklist", "Disagreement", "RepResult", "aggregate_items",
    "category", "combine_rep", "compress_reps", "explain", "piva_total", "rep_total", "score_test",
]

PIVA_ITEMS = tuple(i.name for i in registry.ITEMS if i.piva)

Items = Mapping[str, int | None]


@dataclass(frozen=True)
class Disagreement:
    """Rule and classifier judged the same item of a rep differently (the rule's value stands)."""

    rep_index: int
    """The rep's 1-based index."""
    item: str
    """The checklist item."""
    rule: int
    """The rule's points (kept)."""
    classifier: int
    """The classifier's points."""
    probability: float | None
    """The classifier's probability for its value (None when not given)."""

    def to_json(self) -> JSONDoc:
        """The entry of the analysis document's ``flags``.

        Returns
        -------
        dict
            ``rep``, ``item``, ``rule``, ``classifier``, ``probability``.
        """
        return {"rep": self.rep_index, "item": self.item, "rule": self.rule,
                "classifier": self.classifier, "probability": self.probability}

    def text(self) -> str:
        """The disagreement in one line for the report.

        Returns
        -------
        str
            'rep 2: rule and classifier disagree on arm (rule 0, classifier 1, ...)'.
        """
        p = "" if self.probability is None else f", probability {self.probability:.2f}"
        return (f"rep {self.rep_index}: rule and classifier disagree on {self.item} "
                f"(rule {self.rule}, classifier {self.classifier}{p}); the rule's value is kept")


@dataclass(frozen=True)
class RepResult:
    """One scored rep: the contract fields plus reasons and classifier probabilities."""

    index: int
    """1-based rep number."""
    start_s: float | None
    """Start, s on the recording's clock (None when not given)."""
    bottom_s: float | None
    """Deepest point, s."""
    end_s: float | None
    """End, s."""
    measures: RepMeasures
    """The rep's peaks (units in the names), None where not measured."""
    items: dict[str, int | None]
    """Item -> points (None: not assessed)."""
    sources: dict[str, str]
    """Item -> ``rule``, ``classifier``, ``reported`` or ``not_assessed``."""
    reasons: dict[str, tuple]
    """Item -> the rule reasons (:class:`analysis.rules.Reason`)."""
    probabilities: dict[str, float]
    """Item -> the classifier's probability, for the items it decided."""
    total: int
    """Sum of the assessed items' points."""
    not_measured: Mapping[str, str] | None = None
    """Measure -> why it is null (None when every measure was measured)."""
    cut_by_gap: tuple[str, ...] | None = None
    """The rep's ends that lie on a data gap (None when none)."""

    def to_json(self) -> JSONDoc:
        """The rep entry of the analysis contract, without its optional keys.

        Returns
        -------
        dict
            ``index``, times, ``measures``, ``items``, ``sources``, ``total``.
        """
        return {"index": self.index, "start_s": self.start_s, "bottom_s": self.bottom_s,
                "end_s": self.end_s, "measures": self.measures.to_json(),
                "items": dict(self.items), "sources": dict(self.sources), "total": self.total}

    def rep(self) -> Rep:
        """The typed rep of the analysis result.

        Returns
        -------
        Rep
            This rep with each item's points and source together, and the optional
            ``not_measured`` / ``cut_by_gap``.
        """
        return Rep(index=self.index, start_s=self.start_s, bottom_s=self.bottom_s,
                   end_s=self.end_s, measures=self.measures,
                   items={k: ItemScore(v, self.sources[k]) for k, v in self.items.items()},
                   total=self.total, not_measured=self.not_measured, cut_by_gap=self.cut_by_gap)

    def reasons_json(self) -> dict[str, list[JSONDoc]]:
        """The reasons as the coach review shows them.

        Returns
        -------
        dict
            Item -> per rule its measure, value, thresholds, fired, origin.
        """
        return {item: [r.to_json() for r in reasons] for item, reasons in self.reasons.items()}


def rep_total(items: Items) -> int:
    """Sum of the assessed items.

    Parameters
    ----------
    items : Mapping
        Item -> points; None (not assessed) counts 0.

    Returns
    -------
    int
        The total.
    """
    return int(sum(v for v in items.values() if v is not None))


def piva_total(items: Items) -> int:
    """The published Piva subtotal: arm + trunk + pelvis + knee.

    Parameters
    ----------
    items : Mapping
        Item -> points; None (not assessed) counts 0.

    Returns
    -------
    int
        0-6.
    """
    return rep_total({k: items.get(k) for k in PIVA_ITEMS})


def category(total: int) -> str:
    """The category of a checklist total.

    Parameters
    ----------
    total : int
        The total, >= 0.

    Returns
    -------
    str
        ``good`` (0-1), ``medium`` (2-3) or ``poor`` (4+).
    """
    if total < 0:
        raise ValueError(f"a checklist total cannot be negative: {total}")
    return "good" if total <= 1 else "medium" if total <= 3 else "poor"


def combine_rep(
    rule: RepItems, rep_index: int, classifier_items: Items | None = None,
    classifier_proba: Mapping[str, float] | None = None,
) -> tuple[dict[str, int | None], dict[str, str], dict[str, float], list[Disagreement]]:
    """Merge rule items with classifier items for one rep.

    Parameters
    ----------
    rule : RepItems
        The rep scored by the rules.
    rep_index : int
        The rep's index, for the flags.
    classifier_items : Mapping, optional
        Item -> the classifier's points (None: it gave none).
    classifier_proba : Mapping, optional
        Item -> the classifier's probability for the value it gave.

    Returns
    -------
    tuple
        (items, sources, probabilities of the classifier-decided items, disagreement
        flags): the classifier decides only the items the rules could not assess.
    """
    items, sources = dict(rule.items), dict(rule.sources)
    probs: dict[str, float] = {}
    flags: list[Disagreement] = []
    for item, value in (classifier_items or {}).items():
        if item not in registry.item_names():
            raise InputError(f"classifier gave an unknown item {item!r}")
        if value is None or item == "pain":
            continue
        p = None if classifier_proba is None else classifier_proba.get(item)
        if sources[item] == "not_assessed":
            items[item], sources[item] = int(value), "classifier"
            if p is not None:
                probs[item] = float(p)
        elif int(value) != items[item]:
            flags.append(Disagreement(rep_index, item, int(items[item]), int(value), p))
    return items, sources, probs, flags


def aggregate_items(reps: Sequence[Items], rule: str = "majority") -> dict[str, int | None]:
    """Test-level items from per-rep items.

    Parameters
    ----------
    reps : Sequence of Mapping
        Per rep, item -> points (None: not assessed).
    rule : str
        ``majority`` (present in more than half of the reps; the knee at the highest
        level reached or exceeded in more than half), ``any`` or ``worst`` (the items of
        the rep with the highest total).

    Returns
    -------
    dict
        Item -> test-level points; None for an item assessed in no rep.
    """
    if rule not in TEST_RULES:
        raise InputError(f"test rule must be one of {', '.join(TEST_RULES)}, got {rule!r}")
    if not reps:
        return dict.fromkeys(registry.item_names())
    if rule == "worst":
        worst = max(range(len(reps)), key=lambda i: (rep_total(reps[i]), -i))
        return {item: reps[worst].get(item) for item in registry.item_names()}
    out: dict[str, int | None] = {}
    for item in registry.item_names():
        values = [int(r[item]) for r in reps if r.get(item) is not None]
        if not values:
            out[item] = None
        elif rule == "any":
            out[item] = max(values)
        else:
            levels = [lv for lv in (2, 1) if sum(v >= lv for v in values) * 2 > len(values)]
            out[item] = levels[0] if levels else 0
    return out


def _pain_per_rep(pain_nrs: float | Sequence[float] | None, n_reps: int) -> list[float | None]:
    if pain_nrs is None:
        return [None] * n_reps
    if isinstance(pain_nrs, int | float):
        return [float(pain_nrs)] * n_reps
    values = list(pain_nrs)
    if len(values) != n_reps:
        raise InputError(f"pain_nrs has {len(values)} values for {n_reps} reps; "
                         "give one per rep or one for the whole test")
    return values


def _per_rep(seq: Sequence[Any] | None, n_reps: int, what: str) -> list[Any]:
    if seq is None:
        return [None] * n_reps
    if len(seq) != n_reps:
        raise InputError(f"{what} has {len(seq)} entries for {n_reps} reps")
    return list(seq)


@dataclass(frozen=True)
class Checklist:
    """A scored test: reps, test result, disagreement flags, and the rules used."""

    reps: tuple[RepResult, ...]
    """The scored reps."""
    test: TestScore
    """The test-level result."""
    flags: tuple[Disagreement, ...]
    """Rule/classifier disagreements."""
    config: RuleConfig
    """The thresholds and test rule used."""

    def to_json(self) -> JSONDoc:
        """The ``reps`` and ``test`` parts of the analysis contract, exactly.

        Returns
        -------
        dict
            ``reps`` and ``test``.
        """
        return {"reps": [r.to_json() for r in self.reps], "test": self.test.to_json()}

    def flags_json(self) -> list[JSONDoc]:
        """The analysis document's ``flags``.

        Returns
        -------
        list of dict
            One :meth:`Disagreement.to_json` per flag.
        """
        return [f.to_json() for f in self.flags]

    def explanations(self, test_leg: str | None = None) -> list[str]:
        """One plain-language line per fault found (see :func:`explain`).

        Parameters
        ----------
        test_leg : str, optional
            ``left`` or ``right``, to name the swing side.

        Returns
        -------
        list of str
            The lines, in item order.
        """
        return explain(self, test_leg)


def score_test(
    reps: Sequence[MeasuredRep], config: RuleConfig | None = None,
    pain_nrs: float | Sequence[float] | None = None, rule: str | None = None,
    classifier_items: Sequence[Items | None] | None = None,
    classifier_proba: Sequence[Mapping[str, float] | None] | None = None,
) -> Checklist:
    """Score every rep and the test.

    Parameters
    ----------
    reps : Sequence of MeasuredRep
        The reps found, with their times (s) and measures.
    config : RuleConfig, optional
        The thresholds (default: the defaults).
    pain_nrs : float or Sequence of float, optional
        The athlete's 0-10 pain: one value per rep or one for the whole test.
    rule : str, optional
        The test rule (default: ``config.test_rule``).
    classifier_items : Sequence, optional
        Per rep, the classifier's items (or None).
    classifier_proba : Sequence, optional
        Per rep, the classifier's probabilities (or None).

    Returns
    -------
    Checklist
        The scored reps, the test result and the disagreement flags.
    """
    config = config or RuleConfig()
    rule = rule or config.test_rule
    n = len(reps)
    pains = _pain_per_rep(pain_nrs, n)
    cls_items = _per_rep(classifier_items, n, "classifier_items")
    cls_proba = _per_rep(classifier_proba, n, "classifier_proba")
    results: list[RepResult] = []
    flags: list[Disagreement] = []
    for pos, rep in enumerate(reps):
        scored = score_rep(rep.measures.to_json(), config, pains[pos])
        items, sources, probs, rep_flags = combine_rep(scored, rep.index, cls_items[pos],
                                                       cls_proba[pos])
        flags.extend(rep_flags)
        results.append(RepResult(rep.index, rep.start_s, rep.bottom_s, rep.end_s, rep.measures,
                                 items, sources, scored.reasons, probs, rep_total(items),
                                 rep.not_measured, rep.cut_by_gap))
    t_items = aggregate_items([r.items for r in results], rule)
    total = rep_total(t_items)
    test = TestScore(rule, t_items, total, piva_total(t_items), category(total))
    return Checklist(tuple(results), test, tuple(flags), config)


# -- explanations ------------------------------------------------------------------------------

def compress_reps(indices: Sequence[int]) -> str:
    """Rep indices in words.

    Parameters
    ----------
    indices : Sequence of int
        1-based rep indices, at least one.

    Returns
    -------
    str
        ``[2, 3, 4, 5]`` -> "reps 2–5"; ``[1, 3, 4]`` -> "reps 1, 3–4"; ``[2]`` -> "rep 2".
    """
    idx = sorted(set(indices))
    runs: list[str] = []
    start = prev = idx[0]
    for i in [*idx[1:], None]:
        if i is not None and i == prev + 1:
            prev = i
            continue
        runs.append(str(start) if start == prev else f"{start}–{prev}")
        if i is not None:
            start = prev = i
    return ("rep " if len(idx) == 1 else "reps ") + ", ".join(runs)


def _span(values: Sequence[float], digits: int = 1) -> str:
    lo, hi = min(values), max(values)
    a, b = f"{lo:.{digits}f}", f"{hi:.{digits}f}"
    return a if a == b else f"{a}–{b}"


def _num(x: float) -> str:
    return f"{x:g}"


_SWING = {"left": "right", "right": "left"}


def _threshold(cfg: RuleConfig, name: str, unit: str) -> str:
    """"threshold 5° (default heuristic)": a RuleConfig threshold with its unit and origin."""
    return f"threshold {_num(cfg.threshold(name))}{unit} ({cfg.origin_of(name)})"


def _grouped(reasons: list, keep: Callable[[Any], bool]) -> list[tuple[list[float], str]]:
    """The values and "reps 2–5" text of the (rep_index, Reason) pairs that ``keep``
    selects: one entry, or none when it selects nothing."""
    at = [(i, r) for i, r in reasons if keep(r)]
    return [([r.value for _, r in at], compress_reps([i for i, _ in at]))] if at else []


def _rule_line(item: str, reasons: list, cfg: RuleConfig, test_leg: str | None) -> list[str]:
    """Lines for an item fired by rules, from its template (:mod:`analysis.registry`):
    one per measure and level that fired, highest level first. reasons: (rep_index,
    Reason) pairs that fired."""
    spec = registry.item(item)
    if not spec.rules:  # pain, reported
        return [spec.explain.format(
            values=_span([r.value for _, r in reasons], 0),
            reps=compress_reps([i for i, _ in reasons]),
            threshold=f"counted from NRS {_num(cfg.pain_nrs_min)}")]
    side = f"on the {_SWING[test_leg]}" if test_leg in _SWING else "on the swing side"
    lines = []
    for rule in spec.rules:
        unit = registry.unit_after_number(rule.measure)
        for level in reversed(rule.levels):
            fired = _grouped(reasons, lambda r, m=rule.measure, lv=level.points:
                             r.measure == m and r.level == lv)
            lines += [spec.explain.format(values=_span(vals, rule.digits), reps=where,
                                          threshold=_threshold(cfg, level.setting, unit),
                                          what=level.what, side=side, unit=unit)
                      for vals, where in fired]
    return lines


def explain(checklist: Checklist, test_leg: str | None = None) -> list[str]:
    """Plain-language lines, one per fault (and cause) found, in item order.

    E.g. "pelvis dropped 6.2–7.4° on the right in reps 2–5; threshold 5° (default
    heuristic)". Classifier-decided faults say so, with the probability range.

    Parameters
    ----------
    checklist : Checklist
        The scored test.
    test_leg : str, optional
        ``left`` or ``right``: names the swing side for the pelvis.

    Returns
    -------
    list of str
        The lines (empty when no fault was found).
    """
    lines: list[str] = []
    cfg = checklist.config
    for item in registry.item_names():
        fired_rule = [(rep.index, reason) for rep in checklist.reps
                      if rep.sources[item] in ("rule", "reported") and rep.items[item]
                      for reason in rep.reasons[item] if reason.fired]
        if fired_rule:
            lines.extend(_rule_line(item, fired_rule, cfg, test_leg))
        by_cls = [rep for rep in checklist.reps
                  if rep.sources[item] == "classifier" and rep.items[item]]
        if by_cls:
            probs = [rep.probabilities[item] for rep in by_cls if item in rep.probabilities]
            p = f", probability {_span(probs, 2)}" if probs else ""
            where = compress_reps([r.index for r in by_cls])
            lines.append(f"{registry.item(item).classifier_label} in {where} "
                         f"(classifier{p}; not measured by the sensors worn)")
    return lines

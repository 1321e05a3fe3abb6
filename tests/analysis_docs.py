"""Hand-made analysis documents for the tests of every layer that reads them (the catalog,
the web app, the result model)."""

from __future__ import annotations

from analysis.result import AnalysisResult


def contract_doc(total_by_rep=(2, 2, 1, 3, 2), category="medium", leg="left") -> dict:
    """A hand-made analysis document following DESIGN.md's analysis JSON contract.

    Every rep has pelvis 1 and knee 1; ``total_by_rep`` above 2 adds pain in that rep.
    """
    reps = []
    for i, total in enumerate(total_by_rep, start=1):
        reps.append({
            "index": i, "start_s": 3.0 + 3 * i, "bottom_s": 4.2 + 3 * i, "end_s": 5.5 + 3 * i,
            "measures": {"knee_medial_cm": 1.0 + 0.5 * i, "hip_adduction_deg": 9.5,
                         "hip_internal_rotation_deg": 4.0, "hip_flexion_deg": 38.0,
                         "pelvic_drop_deg": 4.0 + i, "trunk_lean_deg": None},
            "items": {"arm": 0, "trunk": 0, "pelvis": 1, "knee": 1, "descent": 0,
                      "pain": int(total > 2)},
            "sources": {"arm": "classifier", "trunk": "not_assessed", "pelvis": "rule",
                        "knee": "rule", "descent": "rule", "pain": "reported"},
        })
        reps[-1]["total"] = sum(v for v in reps[-1]["items"].values() if v is not None)
    return {
        "format": "stepdown-analysis", "version": 1, "test_leg": leg,
        "sensors_used": ["pelvis", f"thigh_{leg}"], "calibration": {"window_s": [0.4, 3.1]},
        "reps": reps,
        "test": {"rule": "majority", "items": {"arm": 0, "trunk": 0, "pelvis": 1, "knee": 1,
                                               "descent": 0, "pain": 0},
                 "total": 2, "piva_total": 2, "category": category},
    }


def contract_result(**kwargs) -> AnalysisResult:
    """:func:`contract_doc` read as the typed result the catalog stores."""
    return AnalysisResult.from_json(contract_doc(**kwargs))

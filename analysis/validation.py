"""Which measures have been validated against a reference on real people, and which not.

A measure listed in :data:`UNVALIDATED` is shown, marked as unvalidated, in whole
degrees, without a stated uncertainty, and feeds no checklist item: nothing yet shows
that it tracks the real movement.
"""

from __future__ import annotations

UNVALIDATED: dict[str, str] = {
    "hip_internal_rotation_deg": (
        "unvalidated: on real recordings (CMU-MBL SUB22, Xsens) its rep peaks do not follow "
        "the lab reference's hip rotation (see docs/real_data.md); shown for review only"),
}
"""Measure -> why it is unvalidated (one sentence for reports)."""


def mark_unvalidated(measures: dict) -> dict:
    """The measures with every unvalidated one rounded to whole units (no unearned precision)."""
    return {k: (round(v) if k in UNVALIDATED and v is not None else v) for k, v in measures.items()}

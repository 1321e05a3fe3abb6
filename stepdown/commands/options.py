"""Command-line values that more than one command takes, parsed one way."""

from __future__ import annotations

import math

from sensor_io.errors import InputError

PAIN_RANGE = (0.0, 10.0)
"""Pain NRS: 0 (none) to 10 (worst imaginable)."""


def parse_pain(text: str | None) -> float | list[float] | None:
    """``"2"`` -> 2.0 (whole test); ``"0,0,2,1,0"`` -> one 0-10 NRS per rep; None -> None.

    Parameters
    ----------
    text : str or None
        The ``--pain`` value: one number, or comma-separated numbers (one per rep).

    Returns
    -------
    float or list of float or None
        Pain NRS (0-10) of the whole test, or one per rep; None when none was given.

    Raises
    ------
    InputError
        A value that is not a number, or outside 0-10 (NaN included).
    """
    if text is None:
        return None
    parts = [p.strip() for p in text.split(",")]
    values = []
    for p in parts:
        try:
            v = float(p)
        except ValueError:
            raise InputError(f"--pain must be a 0-10 number or a comma-separated list of them "
                             f"(one per rep), got {text!r}") from None
        if not (math.isfinite(v) and PAIN_RANGE[0] <= v <= PAIN_RANGE[1]):
            raise InputError(f"--pain values are pain NRS from 0 to 10, got {p!r}")
        values.append(v)
    return values[0] if len(values) == 1 else values

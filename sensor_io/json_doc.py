"""The type of a JSON document at the I/O edge, for every layer (sensor_io is the lowest),
and the one way a file's JSON text is parsed."""

from __future__ import annotations

import json
from typing import Any

from sensor_io.errors import first_line

JSONDoc = dict[str, Any]
"""A JSON document at the I/O edge, as ``json.dumps`` writes it: what a ``to_json`` returns,
a web payload the browser reads, free-form metadata the recording contract allows, a truth
document. Domain data passed between modules is a typed object instead."""


class JSONProblem(ValueError):
    """Text that is not JSON; its message is one line ("not valid JSON: ...")."""


def parse_json(text: str | bytes) -> Any:
    """``json.loads``, with every way the text can fail as one :class:`JSONProblem`.

    Parameters
    ----------
    text : str or bytes
        The JSON text of a file.

    Returns
    -------
    Any
        The parsed value.

    Raises
    ------
    JSONProblem
        "not valid JSON: <what> at line L column C", or "not readable JSON: ..." for text
        Python's parser refuses outside its syntax (a number of 4300+ digits: ValueError;
        nesting too deep: RecursionError).
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise JSONProblem(f"not valid JSON: {err.msg} at line {err.lineno} column {err.colno}"
                          ) from None
    except (ValueError, RecursionError) as err:
        raise JSONProblem(f"not readable JSON: {first_line(err)}") from None

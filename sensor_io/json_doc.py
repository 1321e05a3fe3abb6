"""The type of a JSON document at the I/O edge, for every layer (sensor_io is the lowest)."""

from __future__ import annotations

from typing import Any

JSONDoc = dict[str, Any]
"""A JSON document at the I/O edge, as ``json.dumps`` writes it: what a ``to_json`` returns,
a web payload the browser reads, free-form metadata the recording contract allows, a truth
document. Domain data passed between modules is a typed object instead."""

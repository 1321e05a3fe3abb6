"""The coach's desk suite (Today, find, acknowledgements, notes, accounts) again, on a real
PostgreSQL server: every catalog it opens goes there, as in :mod:`test_catalog_postgres`."""

from __future__ import annotations

from test_catalog_postgres import (  # noqa: F401  (its fixtures and marks, used here)
    _catalogs_on_postgres,
    _not_sqlite_only,
    postgres,
    pytestmark,
)
from test_web_desk import *  # noqa: F403  (the tests and their fixtures, collected again here)

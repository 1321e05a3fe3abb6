"""The programme's catalog and review page again, on a real PostgreSQL server (as
tests/test_catalog_postgres.py does for the catalog and the web app): every catalog the
programme web tests open becomes a PostgreSQL database. Skips where the binaries are missing."""

from __future__ import annotations

import pytest
from postgres_server import why_unavailable
from test_catalog_postgres import _catalogs_on_postgres, postgres  # noqa: F401  (fixtures)
from test_web_programme import (  # noqa: F401  (collected again here)
    catalog,
    test_an_athlete_without_programme_sets,
    test_another_coach_cannot_see_the_programme,
    test_programme_page_shows_prescription_sessions_volume_and_suggestions,
)

from stepdown.catalog import db

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(why_unavailable() is not None, reason=str(why_unavailable()))]


def test_programme_tables_are_on_postgresql(tmp_path):
    conn = db.connect(tmp_path / "c.sqlite3")
    assert conn.dialect == "postgresql"
    tables = {r[0] for r in conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")}
    assert {"programme_sets", "programme_prescriptions"} <= tables

"""`stepdown catalog migrate-to URL`: move the catalog into another database (PostgreSQL)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from stepdown.cli import app

catalog_app = typer.Typer(help="The catalog database itself.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")


@catalog_app.command("migrate-to")
def migrate_to(
    url: Annotated[str, typer.Argument(
        help="Target database, e.g. postgresql://user@host/dbname (must be empty).")],
    source: Annotated[str | None, typer.Option(
        "--from", help="Catalog to copy: an SQLite file or URL (default: the current one, "
        "$STEPDOWN_DATABASE_URL or the data home's catalog.sqlite3).")] = None,
) -> None:
    """Copy every athlete, test, label, note, account and log entry into URL, then verify
    the row counts of every table; point STEPDOWN_DATABASE_URL at URL afterwards.\f

    Parameters
    ----------
    url : str
        Target database, e.g. ``postgresql://user@host/dbname`` (must be empty).
    source : str or None
        ``--from``: the catalog to copy, an SQLite file or URL (default: the current one,
        ``$STEPDOWN_DATABASE_URL`` or the data home's catalog.sqlite3).
    """
    from stepdown.catalog.db import database_url, shown_url
    from stepdown.catalog.transfer import copy_catalog

    counts = copy_catalog(source, url)
    console = Console()
    for c in counts:
        console.print(f"{c.table:<20} {c.target_rows:>8} rows", highlight=False)
    total = sum(c.target_rows for c in counts)
    console.print(f"copied {total} rows in {len(counts)} tables to "
                  f"{shown_url(database_url(url))}; every table's count verified", highlight=False,
                  soft_wrap=True)

"""The session catalog: SQLite under the data home (see :mod:`stepdown.catalog.db`).

:mod:`.repo` reads and writes athletes, tests, reps, items, coach labels and
notes; :mod:`.accounts` the web app's users and sessions; :mod:`.importer`
turns recording files into stored tests.  No SQL lives outside this package.
"""

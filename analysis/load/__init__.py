"""Training-volume tracker: daily load, load-change metrics and flags per athlete.

Modules, in the order data flows through them:

- :mod:`analysis.load.entries`    the training-log entry and its validation
- :mod:`analysis.load.csv_import` the documented CSV layout (all-or-nothing import)
- :mod:`analysis.load.metrics`    daily load per athlete and the metrics (sums, ACWR, ...)
- :mod:`analysis.load.flags`      load-change flags with their reasons, clinic-editable rules
- :mod:`analysis.load.panel`      the data series of the coach web app's load panel

Pure computations: nothing here reads the catalog or the clock unless told to.
docs/load.md documents each metric and how it treats a missing day.
"""

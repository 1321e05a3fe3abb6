"""Training-volume tracker: daily load, load-change metrics and flags per athlete.

Modules, in the order data flows through them:

- :mod:`analysis.training_load.entries`    the training-log entry and its validation
- :mod:`analysis.training_load.csv_import` the documented CSV layout (all-or-nothing import)
- :mod:`analysis.training_load.metrics`    daily load per athlete and the metrics (sums, ACWR, ...)
- :mod:`analysis.training_load.flags`      load-change flags with their reasons, clinic-editable rules
- :mod:`analysis.training_load.panel`      the data series of the coach web app's load panel

Pure computations: nothing here reads the catalog or the clock unless told to.
docs/load.md documents each metric and how it treats a missing day.
"""

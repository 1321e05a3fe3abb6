"""The rehab programme around the test (issue 15): exercise sets from the command line,
prescriptions and progression rules, practice-then-retest, and the coach's programme view.
"""

"""The programme's exercises besides the test (issue 15): isometric holds and heel taps.

Each module analyses one exercise from the same front end as the test
(:func:`analysis.pipeline.analyze`: calibration, segment motion, measure series)
and returns a frozen result with ``to_json``; :func:`analysis.exercises.dispatch.analyze_set`
picks the module from the recording's ``exercise`` metadata (:mod:`sensor_io.exercise`).
"""

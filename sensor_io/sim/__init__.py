"""The step-down simulator: a forward-kinematic body model and virtual IMUs.

See :mod:`sensor_io.simulator` for the public API.
"""

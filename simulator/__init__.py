"""The step-down simulator: a forward-kinematic body model and virtual IMUs.

See :mod:`simulator.single_test` for the public API.
"""

"""Benchmarks: `make bench` prints speed and memory figures."""

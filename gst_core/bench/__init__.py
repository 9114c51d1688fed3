"""Benchmark cases and tables behind `gst bench` (the suites themselves live in benchmarks/)."""

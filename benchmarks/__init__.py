"""Benchmarks of the service and its pipeline (docs/benchmark.md)."""

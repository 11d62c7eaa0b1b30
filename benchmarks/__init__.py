"""Benchmarks for the matcher: instance generator, peer methods and the runner behind docs/benchmarks.md."""

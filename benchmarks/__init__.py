"""Benchmarks for the matcher: instance generator, peer methods, runner (docs/benchmarks.md)."""

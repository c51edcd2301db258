"""Benchmarks and the evaluation corpus; each benchmark runs as a script."""

"""Performance benchmarks of comma-bench (pytest-benchmark); not part of the default `pytest` run.

Run them with `make bench` (writes `benchmarks/results.json` and `benchmarks/RESULTS.md`); see `benchmarks/README.md`.
"""

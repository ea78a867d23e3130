"""Each protocol's table builders (pandas): its main table and its part of the ablation, per-seed and seed-statistics
tables. A protocol object names its module (`Protocol.tables_module`); the generic tables live in
`comma_bench.report.tables` and the shared cell arithmetic in `comma_bench.report.cells`."""

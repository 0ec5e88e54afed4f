"""`meterit bench ingest|edge|edge-poll|query|fleet`: benchmarks that print their figures beside a baseline."""

import importlib

# Each bench module has register(subparsers) adding one benchmark with its own `handler`.
BENCH_MODULES: list[str] = [
    "bench.ingest",
    "bench.query",
    "bench.edge",
    "bench.edge_poll",
    "bench.live",
    "bench.fleet",
]


def register(subparsers) -> None:
    """Add the `bench` command and every benchmark listed in BENCH_MODULES."""
    parser = subparsers.add_parser("bench", help="run a benchmark (prints figures and its baseline)")
    benches = parser.add_subparsers(dest="bench", metavar="BENCHMARK", required=True)
    for name in BENCH_MODULES:
        importlib.import_module(name).register(benches)

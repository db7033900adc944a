"""Benchmark of the vectorised engine: ``python benchmarks/bench_engine.py [--scale X]``.

Same as ``yichun-abm bench``; kept here so the benchmarks folder holds every benchmark.
"""

import sys

from model.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))

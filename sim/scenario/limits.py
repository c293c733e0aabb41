"""The largest experiments the tool accepts, in one place for every entry point.

The command line, the Python API and scenario files all check against these numbers, so a
size refused in one is refused in all, before anything is allocated or planned.
"""

from __future__ import annotations

#: replications per sweep point (and so the largest replication index plus one)
MAX_REPLICATIONS = 10_000_000
#: master seeds are 63-bit, so they fit every integer column and JSON reader
MAX_SEED = 2**63 - 1
#: sweep points of one experiment (grid cells, sample points, times the scenarios compared)
MAX_POINTS = 100_000
#: replications times sweep points: the runs one batch may ask for
MAX_TOTAL_RUNS = 1_000_000_000
#: worker processes of one batch
MAX_WORKERS = 1024

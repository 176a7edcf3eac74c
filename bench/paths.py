"""Where the benchmark reads and writes."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"  # git-ignored: logs, JSON, EXPLAIN plans, profiles
SEED_RECORD = RESULTS / "seed.json"
WRK_SCRIPT = BENCH / "report.lua"
DOC = ROOT / "docs" / "performance.md"

"""Shared test setup: tests/ on sys.path for the strategies; a reproducible hypothesis profile for CI."""

import os
import sys
from pathlib import Path

from hypothesis import settings

sys.path.insert(0, str(Path(__file__).resolve().parent))

# CI must not go red on a new random example found that day: there the
# examples are derived from each test (derandomize) and no database is kept.
# Locally each run explores new examples and remembers failures.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

"""`fieldapp demo`: CPU seconds of the full build (the issue's budget: 30 s on this 2-core
machine), as a figure and as a ratio against a baseline measured in the same run: the
command's own start-up plus `db upgrade` on an empty SQLite file, i.e. what any fieldapp
command costs before it does anything.

The build runs in a child process (as a user runs it); CPU is the child's user + system
time, which a busy machine inflates far less than wall time.
Run: .venv/bin/python -m pytest bench/test_bench_demo.py -q -s -p no:cacheprovider
"""
from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

FIELDAPP = Path(sys.executable).with_name("fieldapp")


def _child_cpu(args: list[str], env: dict[str, str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([str(FIELDAPP), *args], env=env, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def test_demo_build_cpu(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}"}
    baseline = _child_cpu(["db", "upgrade", "heads"], env)
    demo = _child_cpu(["demo"], env)
    city_env = {**env, "DATABASE_URL": f"sqlite:///{tmp_path / 'city.db'}"}
    _child_cpu(["db", "upgrade", "heads"], city_env)
    city = _child_cpu(["demo", "--no-activity"], city_env)
    print(f"\nfieldapp demo: {demo:.1f} s CPU (budget 30 s); start-up + migrate {baseline:.1f} s "
          f"(baseline 1.0): demo x{demo / baseline:.1f}, city without activity "
          f"x{city / baseline:.1f}")

"""Figures printed at the end of `make bench` (bench/conftest.py), each beside its goal and
a baseline measured in the same run. Record a run in bench/RESULTS.md."""
from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Figure:
    name: str
    value: str
    goal: str = ""
    met: bool | None = None
    baseline: str = ""


FIGURES: list[Figure] = []
META: dict[str, str] = {}


def figure(name: str, value: str, goal: str = "", met: bool | None = None,
           baseline: str = "") -> None:
    FIGURES.append(Figure(name, value, goal, met, baseline))


def machine() -> str:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def commit() -> str:
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                             capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=ROOT, text=True, capture_output=True).stdout.strip()
        return f"{sha}{' (with local changes)' if dirty else ''}"
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def markdown() -> str:
    lines = [
        f"### {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC · commit {commit()}",
        "",
        f"Machine: {machine()}" + "".join(f"; {k}: {v}" for k, v in META.items()),
        "",
        "| figure | measured | goal | | baseline (same run) |",
        "|---|---|---|---|---|",
    ]
    for f in FIGURES:
        mark = "" if f.met is None else ("met" if f.met else "**missed**")
        lines.append(f"| {f.name} | {f.value} | {f.goal} | {mark} | {f.baseline} |")
    return "\n".join(lines)

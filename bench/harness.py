"""The figure registry and what a figure gets to work with.

A figure is one function `fn(ctx) -> Measurement`: it measures fieldapp and its baseline
in the same run (this machine is shared and noisy, so only the ratio means something)
and says what the goal is. Register it with `@figure(...)` in a module of
bench/figures/; `python -m bench.run` runs every registered figure for a scale and prints
them side by side. Adding a figure later (sync ingest, set-based scoring, roster import)
is one such function.
"""
from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Measurement:
    value: float  # fieldapp
    baseline: float  # measured in the same run
    unit: str  # e.g. "check-ins/s", "s", "rows/s"
    # "share": fieldapp / baseline of a throughput (1.0 = as fast as the baseline);
    # "times": fieldapp time / baseline time (1.0 = as fast, 3.0 = three times slower).
    ratio_kind: str
    goal: str  # in words, as in the issue
    met: bool | None  # None: the goal cannot be judged at this scale
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.value / self.baseline if self.baseline else float("nan")


@dataclass(frozen=True)
class Context:
    scale: str
    dialect: str  # "postgresql" | "sqlite"
    url: str
    summary: dict[str, Any]  # what bench.generate wrote (row counts, ...)
    quick: bool = False  # the CI smoke run: seconds instead of minutes, tiny data
    log: Callable[[str], None] = print

    def seconds(self, full: float, quick: float = 2.0) -> float:
        return quick if self.quick else full

    def app(self):
        """fieldapp on the bench database, in this process."""
        from fieldapp import create_app

        return create_app({"SQLALCHEMY_DATABASE_URI": self.url, "SECRET_KEY": secrets.token_hex(32)})


@dataclass(frozen=True)
class Figure:
    key: str
    title: str
    dialects: tuple[str, ...]
    fn: Callable[[Context], Measurement]


REGISTRY: dict[str, Figure] = {}
FIGURE_MODULES = ("checkin_burst", "exports", "draws", "sync_ingest", "scoring", "roster_import")


def figure(key: str, title: str, dialects: tuple[str, ...] = ("postgresql", "sqlite")):
    def register(fn: Callable[[Context], Measurement]) -> Callable[[Context], Measurement]:
        REGISTRY[key] = Figure(key, title, dialects, fn)
        return fn
    return register


def load_figures() -> dict[str, Figure]:
    from importlib import import_module

    for name in FIGURE_MODULES:
        import_module(f"bench.figures.{name}")
    return REGISTRY


# --- serving an app the way production does ------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    port: int
    process: subprocess.Popen

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(p) for p in children.read_text().split()] if children.exists() else []


@contextmanager
def gunicorn(app_spec: str, url: str, workers: int, *, threads: int = 1,
             timeout: int = 120) -> Iterator[Server]:
    """`gunicorn -w N app_spec` on a free loopback port with DATABASE_URL=url; stopped (by
    its own pid) when the block ends."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": secrets.token_hex(32),
           "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
           "--timeout", str(timeout), "--log-level", "warning", "--backlog", "2048"]
    if threads > 1:
        cmd += ["-k", "gthread", "--threads", str(threads)]
    process = subprocess.Popen(cmd + [app_spec], env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn {app_spec} exited with {process.returncode}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        server = Server(port, process)
        _wait_for_workers(server, workers)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_workers(server: Server, workers: int) -> None:
    deadline = time.monotonic() + 30
    while len(server.worker_pids()) < workers and time.monotonic() < deadline:
        time.sleep(0.1)


def rss_mb(pid: int, field_name: str = "VmRSS") -> float:
    """A process's resident memory (VmRSS) or its peak (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")

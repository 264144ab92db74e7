"""Run every registered figure at one scale and print it beside its baseline.

    python -m bench.run --scale city                 # PostgreSQL (if reachable) and SQLite
    python -m bench.run --scale nation --dialect postgresql --only visits_export
    make bench SCALE=city

The data is generated once per scale and database (bench/generate.py) and reused while the
generator is unchanged (a fingerprint is kept beside it in instance/bench/). PostgreSQL:
database fieldapp_bench_<scale> on BENCH_PG (default postgres@127.0.0.1:5432).
`--record` rewrites bench/RESULTS.md with this run's table, date, machine and commit.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench import generate
from bench.harness import ROOT, Context, Measurement, load_figures

DATA_DIR = ROOT / "instance" / "bench"
PG = os.environ.get("BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")


def url_for(scale: str, dialect: str, data_dir: Path = DATA_DIR) -> str:
    if dialect == "postgresql":
        return f"{PG}/{os.environ.get('BENCH_DB_PREFIX', 'fieldapp_bench_')}{scale}"
    return f"sqlite:///{data_dir / f'{scale}.db'}"


def fingerprint(scale: str) -> str:
    """Changes when the generator, the migrations or the scale change: data is rebuilt."""
    h = hashlib.sha256(scale.encode())
    for path in [ROOT / "bench" / "generate.py", *sorted((ROOT / "migrations" / "versions").glob("*.py"))]:
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def ensure_data(scale: str, dialect: str, *, regenerate: bool = False, budget_s: float = 1800,
                data_dir: Path = DATA_DIR, log=print) -> tuple[str, dict[str, Any]]:
    url = url_for(scale, dialect, data_dir)
    marker = data_dir / f"{scale}-{dialect}.json"
    if not regenerate and marker.exists():
        summary = json.loads(marker.read_text())
        if summary.get("fingerprint") == fingerprint(scale):
            return url, summary
    log(f"generating {scale} on {dialect} ...")
    summary = generate.generate(generate.SCALES[scale], url, budget_s, log=log)
    summary["fingerprint"] = fingerprint(scale)
    data_dir.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps(summary, ensure_ascii=False, indent=1))
    return url, summary


def pg_reachable() -> bool:
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(f"{PG}/postgres", connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001  (no server: SQLite only)
        return False


def run_figures(scale: str, dialects: list[str], *, only: list[str] | None = None,
                quick: bool = False, data_dir: Path = DATA_DIR, regenerate: bool = False,
                log=print) -> list[tuple[str, str, str, Measurement | None, str | None]]:
    """[(key, title, dialect, measurement or None, error text or None)]."""
    figures = load_figures()
    out = []
    for dialect in dialects:
        url, summary = ensure_data(scale, dialect, regenerate=regenerate, data_dir=data_dir,
                                   log=log)
        ctx = Context(scale, dialect, url, summary, quick=quick, log=log)
        for key, fig in figures.items():
            if dialect not in fig.dialects or (only and key not in only):
                continue
            log(f"-- {fig.title} [{dialect}]")
            started = time.monotonic()
            try:
                m = fig.fn(ctx)
                out.append((key, fig.title, dialect, m, None))
                log(f"   {_line(m)}  ({time.monotonic() - started:.0f} s)")
            except Exception:  # noqa: BLE001  (one broken figure must not hide the others)
                err = traceback.format_exc()
                log(err)
                out.append((key, fig.title, dialect, None, err.strip().splitlines()[-1]))
    return out


def _num(x: float) -> str:
    if x != x:  # NaN
        return "-"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}" if abs(x) >= 1 else f"{x:.3f}"


def _line(m: Measurement) -> str:
    ratio = f"{m.ratio:.2f}" if m.ratio_kind == "share" else f"x{m.ratio:.1f}"
    return f"{_num(m.value)} vs {_num(m.baseline)} {m.unit}: ratio {ratio}"


def table(results) -> str:
    lines = ["| figure | db | fieldapp | baseline, same run | ratio | goal | met |",
             "|---|---|---|---|---|---|---|"]
    for _key, title, dialect, m, err in results:
        if m is None:
            lines.append(f"| {title} | {dialect} | failed: {err} | | | | no |")
            continue
        ratio = f"{m.ratio:.2f}" if m.ratio_kind == "share" else f"×{m.ratio:.1f}"
        met = "-" if m.met is None else ("yes" if m.met else "no")
        lines.append(f"| {title} | {dialect} | {_num(m.value)} {m.unit} | "
                     f"{_num(m.baseline)} {m.unit} | {ratio} | {m.goal} | {met} |")
    return "\n".join(lines)


def details(results) -> str:
    out = []
    for key, _title, dialect, m, _err in results:
        if m is not None and m.details:
            out.append(f"- `{key}` [{dialect}]: " + json.dumps(m.details, ensure_ascii=False))
    return "\n".join(out)


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor())
    mem = next((int(line.split()[1]) // 1024 // 1024 for line in
                Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")), 0)
    return f"{os.cpu_count()} cores ({cpu}), {mem} GB, {platform.system()} {platform.release()}"


def commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                              capture_output=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def report(scale: str, results, summaries: dict[str, Any] | None = None) -> str:
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (f"### Scale `{scale}` — {when}, commit {commit()}\n\nMachine: {machine()}.\n\n"
            f"{table(results)}\n\nDetails:\n\n{details(results)}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(generate.SCALES), default="city")
    parser.add_argument("--dialect", choices=("postgresql", "sqlite", "both"), default="both")
    parser.add_argument("--only", help="comma-separated figure keys")
    parser.add_argument("--quick", action="store_true", help="seconds instead of minutes")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--record", action="store_true", help="write bench/RESULTS.md")
    args = parser.parse_args(argv)
    dialects = ["postgresql", "sqlite"] if args.dialect == "both" else [args.dialect]
    if "postgresql" in dialects and not pg_reachable():
        print("PostgreSQL not reachable: SQLite only", file=sys.stderr)
        dialects.remove("postgresql")
    results = run_figures(args.scale, dialects, only=args.only.split(",") if args.only else None,
                          quick=args.quick, regenerate=args.regenerate)
    text = report(args.scale, results)
    print("\n" + text)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    (DATA_DIR / f"latest-{args.scale}.md").write_text(text)
    if args.record:
        record(args.scale, text)
    return 0 if all(m is not None for _k, _t, _d, m, _e in results) else 1


RESULTS = ROOT / "bench" / "RESULTS.md"
MARK = "<!-- scale:{scale} -->"


def record(scale: str, text: str) -> None:
    """Replace this scale's section of bench/RESULTS.md (between its markers)."""
    body = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    start, end = MARK.format(scale=scale), MARK.format(scale=scale + ":end")
    section = f"{start}\n{text}\n{end}"
    if start in body and end in body:
        before, rest = body.split(start, 1)
        body = before + section + rest.split(end, 1)[1]
    else:
        body = body.rstrip() + "\n\n" + section + "\n"
    RESULTS.write_text(body)


if __name__ == "__main__":
    raise SystemExit(main())

"""A check-in burst: N secretaries, each logged in with its own session, posting check-ins
through POST /api/sync as fast as the server answers, for a fixed time.

Plain asyncio streams and HTTP/1.1 (keep-alive when the server allows it, a new connection
when it says `Connection: close`), so the generator itself costs little CPU on a machine
it shares with the server. It only ever connects to 127.0.0.1.

    python -m bench.loadgen --port 8000 --phones 17000000001,17000000002 --seconds 30
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
import uuid as uuidlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any



@dataclass(frozen=True)
class Secretary:
    phone: str
    lat: float
    lon: float
    ids: str = ""  # "secretary:village:user", for the baseline app (it has no sessions)


@dataclass
class BurstResult:
    seconds: float
    ok: int = 0
    errors: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        xs = sorted(self.latencies)
        return xs[min(len(xs) - 1, int(p / 100 * len(xs)))]

    def summary(self) -> dict[str, Any]:
        return {"per_second": round(self.per_second, 1), "ok": self.ok, "errors": self.errors,
                "p50_ms": round(self.percentile(50) * 1e3, 1),
                "p99_ms": round(self.percentile(99) * 1e3, 1), "statuses": self.statuses}


class Http:
    """One HTTP/1.1 connection with a cookie jar; reconnects when the server closes."""

    def __init__(self, host: str, port: int, timeout: float):
        self.host, self.port, self.timeout = host, port, timeout
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.cookies: dict[str, str] = {}

    async def request(self, method: str, path: str, body: Any = None,
                      headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        return await asyncio.wait_for(self._request(method, path, body, headers or {}),
                                      self.timeout)

    async def _request(self, method, path, body, headers):
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        data = b"" if body is None else json.dumps(body).encode()
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                 f"Content-Length: {len(data)}", "Accept: application/json"]
        if body is not None:
            lines.append("Content-Type: application/json")
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        lines += [f"{k}: {v}" for k, v in headers.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + data)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split()[1])
        got: dict[str, str] = {}
        for line in header_lines:
            if ":" in line:
                k, v = line.split(":", 1)
                k = k.strip().lower()
                if k == "set-cookie":
                    name, _, rest = v.strip().partition("=")
                    self.cookies[name] = rest.split(";", 1)[0]
                got[k] = v.strip()
        if got.get("transfer-encoding") == "chunked":
            payload = b""
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                payload += chunk[:-2]
        else:
            payload = await self.reader.readexactly(int(got.get("content-length", "0")))
        if got.get("connection", "").lower() == "close":
            await self.close()
        return status, got, payload

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None


def checkin_body(s: Secretary, rng: random.Random) -> dict[str, Any]:
    now = datetime.now(timezone.utc)
    at = (now - timedelta(seconds=rng.randrange(1, 60))).isoformat()
    return {"device_sent_at": now.isoformat(), "records": [{
        "uuid": str(uuidlib.UUID(int=rng.getrandbits(128), version=4)), "type": "checkin",
        "payload": {"at": at, "geo": {"lat": s.lat + rng.uniform(-0.002, 0.002),
                                      "lon": s.lon + rng.uniform(-0.002, 0.002),
                                      "accuracy": round(rng.uniform(5, 30), 1), "at": at},
                    "geo_error": None, "village_token": None}}]}


async def login(http: Http, s: Secretary, password: str) -> str:
    status, _h, body = await http.request("GET", "/api/auth/csrf")
    if status != 200:
        raise RuntimeError(f"csrf: {status}")
    token = json.loads(body)["csrf_token"]
    status, _h, body = await http.request("POST", "/api/auth/login",
                                          {"phone": s.phone, "password": password},
                                          {"X-CSRFToken": token})
    if status != 200:
        raise RuntimeError(f"login {s.phone}: {status} {body[:200]!r}")
    return json.loads(body)["csrf_token"]


async def _client(s: Secretary, n: int, http: Http, headers: dict[str, str], stop_at: float,
                  measure_from: float, result: BurstResult) -> None:
    rng = random.Random(f"{s.phone}-{n}-{time.time_ns()}")  # new UUIDs every run
    while time.monotonic() < stop_at:
        body = checkin_body(s, rng)
        start = time.monotonic()
        try:
            status, _h, payload = await http.request("POST", "/api/sync", body, headers)
        except (asyncio.TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
            status, payload = type(exc).__name__, b""
            await http.close()
        end = time.monotonic()
        if start < measure_from:
            continue  # warm-up
        key = str(status)
        result.statuses[key] = result.statuses.get(key, 0) + 1
        if status == 200 and b'"stored"' in payload:
            result.ok += 1
            result.latencies.append(end - start)
        else:
            result.errors += 1
    await http.close()


async def _session(s: Secretary, port: int, password: str | None,
                   timeout: float) -> tuple[Http, dict[str, str]]:
    http = Http("127.0.0.1", port, 120.0)  # workers may still be starting: be patient here
    headers = {"X-Bench-Secretary": s.ids}
    if password is not None:
        headers["X-CSRFToken"] = await login(http, s, password)
    http.timeout = timeout
    return http, headers


async def burst(port: int, secretaries: list[Secretary], seconds: float, *,
                password: str | None, warmup: float = 2.0, timeout: float = 10.0) -> BurstResult:
    """Log every secretary in (password None: no login, the baseline app), then post for
    `warmup` + `seconds`; only the last `seconds` are counted."""
    sessions = [await _session(s, port, password, timeout) for s in secretaries]
    result = BurstResult(seconds=seconds)
    measure_from = time.monotonic() + warmup
    stop_at = measure_from + seconds
    await asyncio.gather(*(_client(s, n, http, headers, stop_at, measure_from, result)
                           for n, (s, (http, headers)) in enumerate(zip(secretaries, sessions))))
    return result


def run_burst(port: int, secretaries: list[Secretary], seconds: float, *,
              password: str | None, warmup: float = 2.0) -> BurstResult:
    return asyncio.run(burst(port, secretaries, seconds, password=password, warmup=warmup))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="check-in burst against a local server")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--phones", required=True, help="comma-separated secretary phones")
    parser.add_argument("--password", default="bench-pass-1")
    parser.add_argument("--lat", type=float, default=34.36)
    parser.add_argument("--lon", type=float, default=107.24)
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args(argv)
    people = [Secretary(p, args.lat, args.lon) for p in args.phones.split(",")]
    print(json.dumps(run_burst(args.port, people, args.seconds, password=args.password)
                     .summary(), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Latency of the interactive loop: a cold `tint colorize`, a recolor click through the API, and their floors.

    python bench/latency.py                 # embedded default, plus Redis + PostgreSQL when they answer
    python bench/latency.py --runs 10 --clicks 20
    python bench/latency.py --no-services   # embedded default only

Rows, each the median and p95 over repeated runs, with the ratio each goal is stated in:
- `tint --help`: the process-start floor of any command (Python, imports, typer);
- cold `tint colorize` of a 512x512 OpenMoji test drawing in a new process, no worker running, on a used
  embedded home: with a hint on every true region (the model does not run) and with none (it does);
- a recolor click through the API (`POST /api/revisions/{id}/recolor`), from sending the request to
  seeing its job `done` (polled every 5 ms), with a warm worker: `tint serve` on the embedded default
  (its in-process worker), and `tint serve` + `tint worker` on Redis + PostgreSQL;
- the same recolor called directly: `pipeline.recolor` on the revision's decoded arrays (the floor).

Goals: cold colorize <= 2.5x `tint --help`; API recolor <= 0.4 s on the embedded default and <= 4x the
direct call on Redis + PostgreSQL. The drawing comes from tests/data (committed), so no data set is needed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.openmoji import SUBSET, find_item, true_prompt  # noqa: E402
from bench.real_services import fresh_schema  # noqa: E402
from pipeline import decode_image, decode_label_map, recolor  # noqa: E402

DATA = SUBSET
NAME = "E093"  # 512x512; hinted at its 12 true regions, all 8 found regions are hinted (no model)
POSTGRES = os.environ.get("TINT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("TINT_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


def _tint() -> list[str]:
    script = Path(sys.executable).parent / "tint"
    return [str(script)] if script.exists() else [sys.executable, "-m", "studio.cli"]


def _env(home: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TINT_")}
    return {**env, "TINT_HOME": str(home), **extra}


def _run(args: list[str], env: dict) -> float:
    t0 = time.perf_counter()
    done = subprocess.run([*_tint(), *args], env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"`tint {' '.join(args)}` failed: {done.stderr.strip()}")
    return seconds


def _stats(values: list[float]) -> tuple[float, float]:
    return float(np.median(values)), float(np.percentile(values, 95))


def _item() -> dict:
    return find_item(DATA, NAME)


def _hints_file(folder: Path) -> Path:
    path = folder / "hints.json"
    path.write_text(json.dumps(true_prompt(_item())))
    return path


def cold_start(runs: int, work: Path) -> dict[str, list[float]]:
    """Seconds of `tint --help` and of cold colorizes, interleaved so load drifts hit all rows alike."""
    home = work / "cold-home"
    env = _env(home)
    line = str(DATA / "test" / f"{NAME}_line.png")
    hints = str(_hints_file(work))
    _run(["colorize", line, "-o", str(work / "warmup")], env)  # the home exists and is migrated
    rows: dict[str, list[float]] = {"help": [], "hinted": [], "model": []}
    for n in range(runs):
        rows["help"].append(_run(["--help"], env))
        rows["hinted"].append(_run(["colorize", line, "--hints", hints, "-o", str(work / f"h{n}")], env))
        rows["model"].append(_run(["colorize", line, "-o", str(work / f"m{n}")], env))
    return rows


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _process(args: list[str], env: dict) -> Iterator[subprocess.Popen]:
    proc = subprocess.Popen(
        [*_tint(), *args], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _token(env: dict) -> str:
    done = subprocess.run(
        [*_tint(), "token", "create", "--role", "lead", "bench"], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"`tint token create` failed: {done.stderr.strip()}")
    return done.stdout.strip().splitlines()[-1]


def clicks(env: dict, *, work: Path, count: int, worker: bool) -> tuple[list[float], int, Path]:
    """Seconds from a recolor request to its job `done`, `count` times; also the parent revision and home."""
    import httpx

    line = str(DATA / "test" / f"{NAME}_line.png")
    port = _free_port()
    stack = contextlib.ExitStack()
    with stack:
        if worker:
            stack.enter_context(_process(["worker", "--pool", "solo", "--loglevel", "WARNING"], env))
        out = work / f"parent-{uuid.uuid4().hex[:6]}"
        _run(["colorize", line, "--hints", str(_hints_file(work)), "-o", str(out)], env)
        parent = json.loads((out / "result.json").read_text())["revision_id"]
        token = _token(env)
        stack.enter_context(_process(["serve", "--port", str(port)], env))
        client = stack.enter_context(
            httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"})
        )
        for _ in range(300):
            with contextlib.suppress(httpx.HTTPError):
                if client.get("/api/jobs", params={"limit": 1}).status_code == 200:
                    break
            time.sleep(0.1)
        else:
            raise SystemExit("`tint serve` did not answer within 30 s")
        time.sleep(1.0)  # let the in-process worker (embedded) finish starting
        rng = np.random.default_rng(0)
        x, y = _item()["regions"][-1]["point"]
        seconds = []
        for n in range(count + 1):
            color = "#" + "".join(f"{int(v):02x}" for v in rng.integers(0, 256, 3))
            t0 = time.perf_counter()
            made = client.post(
                f"/api/revisions/{parent}/recolor", json={"at": [{"x": x, "y": y, "color": color}]}
            )
            made.raise_for_status()
            job_id = made.json()["id"]
            while True:
                state = client.get(f"/api/jobs/{job_id}").json()["state"]
                if state in ("done", "failed", "cancelled"):
                    break
                time.sleep(0.005)
            if state != "done":
                raise SystemExit(f"recolor job {job_id} ended {state}")
            if n:  # the first click warms the model and the API's block cache
                seconds.append(time.perf_counter() - t0)
    return seconds, parent, out


def direct(out: Path, *, count: int) -> list[float]:
    """Seconds of `pipeline.recolor` on the parent revision's arrays (one block edited each time)."""
    drawing = decode_image((DATA / "test" / f"{NAME}_line.png").read_bytes())
    colored = decode_image((out / "colored.png").read_bytes())[..., :3]
    regions = decode_label_map((out / "regions.png").read_bytes()).astype(np.int32)
    x, y = _item()["regions"][-1]["point"]
    bid = int(regions[y, x])
    rng = np.random.default_rng(0)
    seconds = []
    for _ in range(count):
        color = tuple(int(v) for v in rng.integers(0, 256, 3))
        t0 = time.perf_counter()
        recolor(drawing, colored=colored, regions=regions, by_id={bid: color})
        seconds.append(time.perf_counter() - t0)
    return seconds


def _services_up() -> bool:
    for port in (5432, 6379):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            return False
    return True


@contextlib.contextmanager
def _service_env(work: Path) -> Iterator[dict]:
    """Settings for a fresh PostgreSQL schema and Redis database, assets in a folder."""
    import redis

    redis.Redis.from_url(REDIS).flushdb()
    with fresh_schema(POSTGRES) as database_url:
        env = _env(
            work / "svc-home",
            TINT_DATABASE_URL=database_url,
            TINT_BROKER_URL=REDIS,
            TINT_STORAGE_URL=str(work / "svc-assets"),
        )
        try:
            _run(["db", "upgrade"], env)
            yield env
        finally:
            redis.Redis.from_url(REDIS).flushdb()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="cold-start runs per row (default 5)")
    parser.add_argument("--clicks", type=int, default=10, help="recolor clicks per setup (default 10)")
    parser.add_argument("--no-services", action="store_true", help="skip the Redis + PostgreSQL rows")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tint-latency-"))
    rows: list[tuple[str, list[float], str]] = []
    try:
        cold = cold_start(args.runs, work)
        help_median = _stats(cold["help"])[0]
        rows.append(("`tint --help` (process-start floor)", cold["help"], "1.00 (floor)"))
        for key, label in (("hinted", "every region hinted"), ("model", "no hints, the model runs")):
            ratio = _stats(cold[key])[0] / help_median
            rows.append(
                (f"cold `tint colorize` 512², {label}", cold[key], f"{ratio:.2f}x help (goal <= 2.5)")
            )
        embedded, _, out = clicks(_env(work / "api-home"), work=work, count=args.clicks, worker=False)
        floor = direct(out, count=max(args.clicks, 20))
        floor_median = _stats(floor)[0]
        rows.append(("`pipeline.recolor` called directly (floor)", floor, "1.00 (floor)"))
        emb = _stats(embedded)[0]
        rows.append(
            (
                "API recolor click → job done, embedded default",
                embedded,
                f"{emb / floor_median:.2f}x direct; {emb:.3f} s (goal <= 0.4 s)",
            )
        )
        if not args.no_services and _services_up():
            with _service_env(work) as env:
                served, _, _ = clicks(env, work=work, count=args.clicks, worker=True)
            ratio = _stats(served)[0] / floor_median
            rows.append(
                (
                    "API recolor click → job done, Redis + PostgreSQL",
                    served,
                    f"{ratio:.2f}x direct (goal <= 4)",
                )
            )
        elif not args.no_services:
            print(
                "PostgreSQL or Redis is not answering on 127.0.0.1; their row is left out.", file=sys.stderr
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    load = os.getloadavg()[0]
    print(f"Latency, {args.runs} cold runs and {args.clicks} clicks per row (load average {load:.2f}).\n")
    print("| what | median s | p95 s | ratio |")
    print("|---|---:|---:|---|")
    for label, values, ratio in rows:
        median, p95 = _stats(values)
        print(f"| {label} | {median:.3f} | {p95:.3f} | {ratio} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

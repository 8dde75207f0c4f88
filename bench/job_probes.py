"""Probes around a worker's claim (`jobs.start`) and record (`jobs.finish`), for bench/throughput.py.

    python bench/job_probes.py PROBE_DIR -- worker --queues gpu,cpu ...   # `tint ARGS`, probed

Each probed call appends one JSON line (job id, ms, wall-clock time) to PROBE_DIR/<pid>.jsonl, in the
process that made it, forked pool children included; `read_probes` merges them by job id.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

__all__ = ["install_probes", "read_probes", "worker_shim"]


def install_probes(out_dir: Path) -> Callable[[], None]:
    """Time `jobs.start` (claim) and `jobs.finish` (record) here and in forks; returns the undo."""
    from workers import jobs

    start, finish = jobs.start, jobs.finish

    def write(entry: dict) -> None:
        with open(out_dir / f"{os.getpid()}.jsonl", "a") as out:
            out.write(json.dumps(entry) + "\n")

    def timed_start(ctx: Any, job_id: int, *, worker: str) -> Any:
        t0 = time.time()
        job = start(ctx, job_id, worker=worker)
        write({"job": job_id, "claim": (time.time() - t0) * 1000, "t_claim": t0})
        return job

    def timed_finish(ctx: Any, job_id: int, **kwargs: Any) -> Any:
        t0 = time.time()
        out = finish(ctx, job_id, **kwargs)
        t1 = time.time()
        write({"job": job_id, "record": (t1 - t0) * 1000, "t_done": t1})
        return out

    jobs.start, jobs.finish = timed_start, timed_finish

    def uninstall() -> None:
        jobs.start, jobs.finish = start, finish

    return uninstall


def read_probes(out_dir: Path) -> dict[int, dict]:
    """job id -> {claim, record, t_claim, t_done} from the probe files."""
    merged: dict[int, dict] = {}
    for path in out_dir.glob("*.jsonl"):
        for line in path.read_text().splitlines():
            entry = json.loads(line)
            merged.setdefault(entry.pop("job"), {}).update(entry)
    return merged


def worker_shim(argv: list[str]) -> None:
    """`tint ARGS` with claim/record probes installed first (run by the bench as a worker process)."""
    install_probes(Path(argv[0]))
    from studio.cli import app

    app(args=argv[argv.index("--") + 1 :], prog_name="tint")


if __name__ == "__main__":
    worker_shim(sys.argv[1:])

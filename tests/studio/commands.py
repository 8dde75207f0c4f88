"""Running `tint` as a user does, in a subprocess on its own home, for the CLI tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

__all__ = ["tint_env", "run_tint", "start_tint", "sample_batch"]

SAMPLES = Path(__file__).resolve().parents[2] / "studio" / "samples"


def tint_env(home: Path, **extra: str) -> dict:
    """This environment without any TINT_* setting, with TINT_HOME=home and `extra` added."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TINT_")}
    return {**env, "TINT_HOME": str(home), **extra}


def run_tint(
    *args: str, env: dict, cwd: Path | None = None, timeout: float = 180
) -> subprocess.CompletedProcess:
    """`tint ARGS…` to the end, its output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "studio.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_tint(*args: str, env: dict) -> subprocess.Popen:
    """`tint ARGS…` started in the background, its output piped as text."""
    return subprocess.Popen(
        [sys.executable, "-m", "studio.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def sample_batch(
    root: Path,
    manifest: str,
    *,
    files: tuple[str, ...] = ("bearded_man_line.png", "baby_line.png", "baby_hints.json"),
) -> Iterator[int]:
    """Submit `manifest` (naming the sample `files`, copied beside it) on a fresh embedded home under root
    and run its jobs in-process; yields the batch id with the context current, then restores the process."""
    from db import queries
    from workers import tasks
    from workers.celery_app import retarget
    from workers.context import make_context, set_context
    from workers.settings import Settings, get_settings
    from workers.submit import submit_manifest

    for name in files:
        shutil.copy(SAMPLES / name, root / name)
    (root / "batch.yaml").write_text(manifest)
    settings = Settings(home=root / "home")
    retarget(settings)
    ctx = make_context(settings)
    set_context(ctx)
    batch_id = submit_manifest(ctx, root / "batch.yaml")
    with ctx.sessions() as session:
        job_ids = [job.id for job in queries.batch_jobs(session, batch_id)]
    for job_id in job_ids:
        tasks.colorize.apply(args=[job_id])
    yield batch_id
    set_context(None)
    ctx.engine.dispose()
    retarget(get_settings())

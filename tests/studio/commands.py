"""Running `tint` as a user does, in a subprocess on its own home, for the CLI tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

__all__ = ["tint_env", "run_tint", "start_tint"]


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

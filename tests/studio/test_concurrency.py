"""Many `tint` commands at once on one embedded home, fresh and used: each succeeds, every job runs once.

Each round starts 8 processes together (colorize, blockify, recolor, submit and status). TINT_RACE_ROUNDS
sets how many rounds run (3 by default: one on a fresh home, two on the used one); 20 were run when this
was written (docs/operations.md).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
from pathlib import Path

import pytest
from commands import start_tint, tint_env

from db.session import SCHEMA_HEAD

ROUNDS = int(os.environ.get("TINT_RACE_ROUNDS", "3"))
PROCESSES = 8
TEST_NAMES = ("E008", "E010", "E011", "E08C", "E093", "E094", "E0A0", "1F301")


def _start(*args: str, home: Path) -> subprocess.Popen:
    return start_tint(*args, env=tint_env(home))


def _manifest(data_dir: Path, folder: Path, names: tuple[str, ...]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(data_dir / "test" / f"{name}_line.png", folder / f"{name}.png")
    doc = {"name": folder.name, "drawings": [{"line": f"{n}.png", "character": n} for n in names]}
    (folder / "batch.json").write_text(json.dumps(doc))
    return folder / "batch.json"


def _commands(data_dir: Path, work: Path, *, round_: int, revision: int | None) -> list[tuple[str, ...]]:
    """Eight commands for one round: the used-home rounds also recolor and blockify a revision."""
    line = [str(data_dir / "test" / f"{n}_line.png") for n in TEST_NAMES]
    out = work / f"round{round_}"
    commands: list[tuple[str, ...]] = [
        ("colorize", line[0], "-o", str(out / "c0")),
        ("colorize", line[1], "-o", str(out / "c1")),
        ("colorize", line[2], "-o", str(out / "c2")),
        ("blockify", line[3], "-o", str(out / "b0")),
        ("submit", str(_manifest(data_dir, out / "batch", TEST_NAMES[4:6])), "--wait"),
        ("status",),
    ]
    if revision is None:
        commands += [
            ("colorize", line[4], "-o", str(out / "c3")),
            ("blockify", line[5], "-o", str(out / "b1")),
        ]
    else:
        commands += [
            ("recolor", str(revision), "--at", "256,256=#aa3300", "-o", str(out / "r0")),
            ("blockify", "--revision", str(revision), "-o", str(out / "b1")),
        ]
    assert len(commands) == PROCESSES
    return commands


def _jobs(home: Path) -> list[tuple]:
    with sqlite3.connect(home / "tint.db") as db:
        return db.execute(
            "SELECT j.id, j.kind, j.state, j.attempts, count(r.id) FROM job j "
            "LEFT JOIN revision r ON r.job_id = j.id GROUP BY j.id ORDER BY j.id"
        ).fetchall()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_eight_commands_at_once_each_succeed_and_every_job_runs_once(data_dir, tmp_path):
    home = tmp_path / "home"
    revision = None
    for round_ in range(ROUNDS):
        commands = _commands(data_dir, tmp_path, round_=round_, revision=revision)
        # on the fresh home a worker and the API start in the same instant as the file commands
        servers = []
        if round_ == 0:
            servers = [
                _start("worker", "--pool", "solo", home=home),
                _start("serve", "--port", str(_free_port()), home=home),
            ]
        procs = [_start(*cmd, home=home) for cmd in commands]
        for proc in procs:
            stdout, stderr = proc.communicate(timeout=240)
            assert proc.returncode == 0, f"round {round_}: {proc.args[3:]} exited {proc.returncode}: {stderr}"
            assert "Traceback" not in stderr and "Traceback" not in stdout
        for server in servers:
            assert server.poll() is None, f"{server.args[3:]} exited early: {server.communicate()[1]}"
            server.send_signal(signal.SIGTERM)
            _, stderr = server.communicate(timeout=60)
            assert "Traceback" not in stderr, stderr
        jobs = _jobs(home)
        assert jobs and all(state == "done" for _, _, state, _, _ in jobs), jobs
        for job_id, kind, _, attempts, revisions in jobs:
            assert attempts == 1, f"job {job_id} ran {attempts} times"
            assert revisions == (kind != "blockify"), f"job {job_id} ({kind}) has {revisions} revisions"
        revision = 1
    assert len(_jobs(home)) == ROUNDS * (PROCESSES - 1 + 1)  # 7 single jobs + a 2-drawing batch, per round


@pytest.mark.parametrize("fresh", [True, False])
def test_commands_starting_together_migrate_the_home_once(data_dir, tmp_path, fresh):
    home = tmp_path / "home"
    if not fresh:
        assert _start("status", home=home).wait(timeout=120) == 0
    procs = [_start("status", home=home) for _ in range(PROCESSES)]
    for proc in procs:
        _, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0 and not stderr, stderr
    with sqlite3.connect(home / "tint.db") as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [(SCHEMA_HEAD,)]

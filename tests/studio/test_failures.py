"""Every command against broken input and broken environments: one `tint: error:` line, never a traceback.

Exit statuses (studio/failures.py): 1 bad input, 2 usage, 3 a service or the environment, 4 a bug.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from commands import run_tint, tint_env

LINE = "E093"


def _files(data_dir: Path, folder: Path) -> dict[str, Path]:
    """A drawing, a manifest naming it, and a hints file, in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    line = folder / "hero.png"
    shutil.copy(data_dir / "test" / f"{LINE}_line.png", line)
    (folder / "batch.json").write_text(json.dumps({"name": "b", "drawings": [{"line": "hero.png"}]}))
    (folder / "hints.json").write_text(json.dumps({"points": [{"x": 10, "y": 10, "color": "#ff0000"}]}))
    return {"line": line, "manifest": folder / "batch.json", "hints": folder / "hints.json"}


def _commands(files: dict[str, Path], out: Path) -> list[tuple[str, ...]]:
    line, manifest = str(files["line"]), str(files["manifest"])
    return [
        ("colorize", line, "--hints", str(files["hints"]), "-o", str(out / "c")),
        ("blockify", line, "-o", str(out / "b")),
        ("recolor", "1", "--set", "1=#000000", "-o", str(out / "r")),
        ("rerun", "1"),
        ("submit", manifest),
        ("status",),
        ("status", "1"),
        ("history", "1"),
        ("report", "1"),
        ("reconcile",),
        ("retry", "1"),
        ("db", "upgrade"),
        ("token", "create", "someone"),
    ]


def _assert_one_line(run: subprocess.CompletedProcess, what: str) -> None:
    assert "Traceback" not in run.stderr + run.stdout, f"{what}: {run.stderr}"
    if run.returncode == 0:
        return
    errors = [line for line in run.stderr.splitlines() if line.strip()]
    assert errors and errors[-1].startswith("tint: error:"), f"{what}: {run.stderr!r}"
    assert sum("error:" in line for line in errors) == 1, f"{what}: {run.stderr!r}"
    assert all(line.startswith("tint: ") for line in errors), f"{what}: {run.stderr!r}"
    assert run.returncode in (1, 2, 3), f"{what} exited {run.returncode}: {run.stderr!r}"


def _sweep(env: dict, files: dict[str, Path], out: Path, *, must_fail: bool) -> list[int]:
    commands = _commands(files, out)
    with ThreadPoolExecutor(4) as pool:
        runs = list(pool.map(lambda cmd: run_tint(*cmd, env=env), commands))
    for cmd, run in zip(commands, runs, strict=True):
        _assert_one_line(run, " ".join(cmd[:2]))
        if must_fail:
            assert run.returncode == 3, f"{' '.join(cmd[:2])} exited {run.returncode}: {run.stderr!r}"
    return [run.returncode for run in runs]


def _used_home(data_dir: Path, root: Path) -> tuple[Path, dict[str, Path]]:
    files = _files(data_dir, root / "in")
    home = root / "home"
    run = run_tint("colorize", str(files["line"]), "-o", str(root / "first"), env=tint_env(home))
    assert run.returncode == 0, run.stderr
    return home, files


@pytest.fixture
def used_home(data_dir, tmp_path) -> tuple[Path, dict[str, Path]]:
    """A home with one colorized revision and its files."""
    return _used_home(data_dir, tmp_path)


@pytest.fixture(scope="module")
def shared_home(data_dir, tmp_path_factory) -> tuple[Path, dict[str, Path]]:
    """One such home for the bad-input cases, which leave it as it was."""
    return _used_home(data_dir, tmp_path_factory.mktemp("bad-input"))


def test_database_server_down(data_dir, tmp_path):
    files = _files(data_dir, tmp_path / "in")
    env = tint_env(tmp_path / "home", TINT_DATABASE_URL="postgresql+psycopg://tint@127.0.0.1:1/tint")
    _sweep(env, files, tmp_path / "out", must_fail=True)


def test_database_file_read_only(used_home, tmp_path):
    home, files = used_home
    url = f"sqlite:///file:{home / 'tint.db'}?mode=ro&uri=true"
    codes = _sweep(tint_env(home, TINT_DATABASE_URL=url), files, tmp_path / "out", must_fail=False)
    assert codes[0] == 3 and codes[4] == 3  # colorize and submit must write
    assert codes[5] == 0  # status only reads


def test_s3_endpoint_refusing(used_home, tmp_path):
    home, files = used_home
    env = tint_env(
        home,
        TINT_STORAGE_URL="s3://tint",
        TINT_S3_ENDPOINT="http://127.0.0.1:1",
        AWS_ACCESS_KEY_ID="x",
        AWS_SECRET_ACCESS_KEY="y",
        AWS_DEFAULT_REGION="us-east-1",
    )
    codes = _sweep(env, files, tmp_path / "out", must_fail=False)
    assert codes[0] == 3 and codes[1] == 3  # colorize and blockify store their inputs


def _mount_tmpfs(path: Path, size_kb: int) -> None:
    path.mkdir(parents=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(path)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.decode().strip()}); needs root")


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB tmpfs, unmounted after the test."""
    disk = tmp_path / "disk"
    _mount_tmpfs(disk, 1024)
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def test_home_on_a_full_disk(data_dir, small_disk, tmp_path):
    files = _files(data_dir, tmp_path / "in")
    home = small_disk / "home"
    assert run_tint("status", env=tint_env(home)).returncode == 0
    filler = small_disk / "filler"
    with open(filler, "wb") as f, pytest.raises(OSError):
        while True:
            f.write(b"\0" * 65536)
            f.flush()
    codes = _sweep(tint_env(home), files, tmp_path / "out", must_fail=False)
    assert codes[0] == 3 and codes[4] == 3


def test_home_on_a_read_only_disk(data_dir, small_disk, tmp_path):
    files = _files(data_dir, tmp_path / "in")
    home = small_disk / "home"
    assert run_tint("status", env=tint_env(home)).returncode == 0
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    codes = _sweep(tint_env(home), files, tmp_path / "out", must_fail=False)
    assert codes[0] == 3 and codes[4] == 3


def test_broker_file_locked_by_another_process(used_home, tmp_path):
    home, files = used_home
    broker = sqlite3.connect(home / "broker.db", timeout=30, isolation_level=None, check_same_thread=False)
    broker.execute("BEGIN EXCLUSIVE")
    release = threading.Timer(4.0, lambda: broker.execute("COMMIT"))
    release.start()
    t0 = time.monotonic()
    try:
        run = run_tint("colorize", str(files["line"]), "-o", str(tmp_path / "c"), env=tint_env(home))
    finally:
        release.join()
        broker.close()
    _assert_one_line(run, "colorize with the broker locked")
    assert run.returncode == 0, run.stderr  # it waits for the lock, then goes on
    assert time.monotonic() - t0 >= 4.0


BAD_INPUTS = {
    "not an image": (["colorize", "{bad}", "-o", "{out}"], 1, "not an image"),
    "missing drawing": (["colorize", "{missing}", "-o", "{out}"], 1, "does not exist"),
    "hints not JSON": (["colorize", "{line}", "--hints", "{bad_json}", "-o", "{out}"], 1, "JSON"),
    "hint outside": (["colorize", "{line}", "--hints", "{outside}", "-o", "{out}"], 1, "outside"),
    "unknown part": (["colorize", "{line}", "--palette", "{tail}", "-o", "{out}"], 1, "tail"),
    "bad style": (["colorize", "{line}", "--style", "oil", "-o", "{out}"], 1, "style"),
    "shaded style": (["colorize", "{line}", "--style", "shaded", "-o", "{out}"], 1, "shaded style was"),
    "unknown revision": (["recolor", "999", "--set", "1=#000000", "-o", "{out}"], 1, "999"),
    "bad --set": (["recolor", "1", "--set", "red", "-o", "{out}"], 1, "KEY=#RRGGBB"),
    "unknown block": (["recolor", "1", "--set", "999=#000000", "-o", "{out}"], 1, "999"),
    "manifest escapes": (["submit", "{escape}"], 1, "relative"),
    "unknown batch": (["status", "77"], 1, "77"),
    "bad setting": (["status"], 3, "TINT_DEVICE"),
    "usage": (["colorize"], 2, "Missing argument"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_ends_in_one_line(case, shared_home, tmp_path):
    home, files = shared_home
    args, code, words = BAD_INPUTS[case]
    (tmp_path / "bad.png").write_text("GIF89a? no")
    (tmp_path / "bad.json").write_text("{points")
    (tmp_path / "outside.json").write_text(json.dumps({"points": [{"x": 9000, "y": 1, "color": "#ff0000"}]}))
    (tmp_path / "tail.json").write_text(json.dumps({"tail": "#ff0000"}))
    (tmp_path / "escape.json").write_text(json.dumps({"drawings": [{"line": "/etc/passwd"}]}))
    names = {
        "bad": tmp_path / "bad.png",
        "missing": tmp_path / "nope.png",
        "line": files["line"],
        "bad_json": tmp_path / "bad.json",
        "outside": tmp_path / "outside.json",
        "tail": tmp_path / "tail.json",
        "escape": tmp_path / "escape.json",
        "out": tmp_path / "out",
    }
    env = tint_env(home, **({"TINT_DEVICE": "tpu"} if case == "bad setting" else {}))
    run = run_tint(*[a.format(**names) for a in args], env=env)
    assert run.returncode == code, run.stderr
    assert words in run.stderr
    if code != 2:  # click prints its own usage block
        _assert_one_line(run, case)

"""The `tint` command on the embedded default: real Celery worker in-process, SQLite, local assets."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from commands import run_tint, tint_env
from PIL import Image

from bench.openmoji import find_item, true_prompt

NAME = "1F476"  # baby, a train drawing with 5 regions


def tint(*args: str, home: Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return run_tint(*args, env=tint_env(home), cwd=cwd)


def _colorize(root: Path, data_dir: Path) -> tuple[Path, Path, dict, Path]:
    """`tint colorize` of the baby drawing hinted at every true region: (home, out dir, hints, line path)."""
    hints = true_prompt(find_item(data_dir, NAME))
    (root / "hints.json").write_text(json.dumps(hints))
    line = data_dir / "train" / f"{NAME}_line.png"
    run = tint(
        "colorize",
        str(line),
        "--hints",
        str(root / "hints.json"),
        "-o",
        str(root / "out"),
        home=root / "home",
    )
    assert run.returncode == 0, run.stderr
    return root / "home", root / "out", hints, line


@pytest.fixture(scope="module")
def colorized(tmp_path_factory, data_dir):
    """One colorize shared by the tests that only read it or add revisions of their own."""
    return _colorize(tmp_path_factory.mktemp("cli"), data_dir)


@pytest.fixture
def own_colorized(tmp_path, data_dir):
    """A colorize on a home of its own, for a test that changes the revision's rows."""
    return _colorize(tmp_path, data_dir)


def test_colorize_writes_the_five_outputs(colorized):
    _, out, _, line = colorized
    for name in ("colored.png", "flats.png", "lines.png", "regions.png", "result.json"):
        assert (out / name).is_file(), name
    size = Image.open(line).size
    assert Image.open(out / "colored.png").size == size
    assert Image.open(out / "lines.png").mode == "RGBA"
    assert Image.open(out / "regions.png").mode.startswith("I")
    result = json.loads((out / "result.json").read_text())
    assert result["revision_id"] >= 1
    assert result["region_count"] >= 3
    assert {"fetch", "decode", "regions", "encode", "store"} <= set(result["timings"])


def test_colorize_gives_hinted_regions_their_exact_color(colorized):
    _, out, hints, _ = colorized
    flats = np.asarray(Image.open(out / "flats.png").convert("RGB"))
    regions = np.asarray(Image.open(out / "regions.png")).astype(np.int64)
    result = json.loads((out / "result.json").read_text())
    assert result["proof"]["hint_adherence"] == 1.0
    conflicted = {c["region"] for c in result["conflicts"]}
    for p in hints["points"]:
        region = regions[p["y"], p["x"]]
        if region == 0 or region in conflicted:
            continue
        want = tuple(int(p["color"][i : i + 2], 16) for i in (1, 3, 5))
        assert (flats[regions == region] == want).all()


def test_blockify_and_recolor_make_a_child_revision_changing_only_the_edit(colorized, tmp_path):
    home, out, _, _ = colorized
    run = tint("blockify", str(out / "colored.png"), "-o", str(tmp_path / "blocks"), home=home)
    assert run.returncode == 0, run.stderr
    table = json.loads((tmp_path / "blocks" / "blocks.json").read_text())
    assert table and {"id", "color", "area", "bbox", "point"} <= set(table[0])

    parent = json.loads((out / "result.json").read_text())["revision_id"]
    regions = np.asarray(Image.open(out / "regions.png")).astype(np.int64)
    target = int(np.bincount(regions[regions > 1].ravel()).argmax())
    run = tint("recolor", str(parent), "--set", f"{target}=#123456", "-o", str(tmp_path / "r2"), home=home)
    assert run.returncode == 0, run.stderr
    result = json.loads((tmp_path / "r2" / "result.json").read_text())
    assert result["parent_revision_id"] == parent
    assert result["locality"]["unchanged_outside"] == 1.0
    before = np.asarray(Image.open(out / "flats.png").convert("RGB"))
    after = np.asarray(Image.open(tmp_path / "r2" / "flats.png").convert("RGB"))
    assert (after[regions == target] == (0x12, 0x34, 0x56)).all()

    history = tint("history", "1", home=home)
    assert history.returncode == 0, history.stderr
    assert f"parent={parent}" in history.stdout
    assert not np.array_equal(before, after)


def test_colorize_of_a_non_image_fails_with_one_line(tmp_path):
    bad = tmp_path / "hero.png"
    bad.write_text("not a picture")
    run = tint("colorize", str(bad), "-o", str(tmp_path / "out"), home=tmp_path / "home")
    assert run.returncode == 1
    assert "error:" in run.stderr and "hero.png" in run.stderr
    assert "Traceback" not in run.stderr


def test_recolor_of_a_missing_revision_fails_clearly(tmp_path):
    run = tint("recolor", "999", "--set", "1=#000000", "-o", str(tmp_path / "o"), home=tmp_path / "home")
    assert run.returncode == 1
    assert "revision 999 does not exist" in run.stderr


def test_demo_writes_a_contact_sheet(tmp_path):
    run = tint("demo", "-o", str(tmp_path / "demo"), home=tmp_path / "home")
    assert run.returncode == 0, run.stderr
    sheet = tmp_path / "demo" / "index.html"
    assert sheet.is_file() and str(sheet) in run.stdout.replace("\n", "")
    summary = json.loads((tmp_path / "demo" / "summary.json").read_text())
    assert len(summary["rows"]) == 5
    assert "100.00%" in summary["rows"][-1]["note"]


def test_rerun_of_a_revision_is_bit_identical(colorized):
    home, out, _, _ = colorized
    parent = json.loads((out / "result.json").read_text())["revision_id"]
    run = tint("rerun", str(parent), home=home)
    assert run.returncode == 0, run.stderr
    assert "bit-identical" in run.stdout


def test_rerun_of_a_revision_written_by_another_png_encoder_reports_the_same_pixels(own_colorized):
    import io

    from db.models import Revision
    from workers.context import make_context
    from workers.settings import Settings

    home, out, _, _ = own_colorized
    parent = json.loads((out / "result.json").read_text())["revision_id"]
    ctx = make_context(Settings(home=home))

    def set_colored(make) -> None:
        with ctx.sessions() as session, session.begin():
            revision = session.get(Revision, parent)
            revision.assets = {**revision.assets, "colored": make(revision.assets["colored"])}

    def pillow_png(sha: str) -> str:  # Pillow's encoder: other bytes, the same pixels
        buf = io.BytesIO()
        Image.open(io.BytesIO(ctx.storage.get(sha))).save(buf, "PNG", optimize=True)
        return ctx.storage.put(buf.getvalue())

    set_colored(pillow_png)
    run = tint("rerun", str(parent), home=home)
    ctx.engine.dispose()
    assert run.returncode == 0, run.stdout + run.stderr
    assert "same pixels" in run.stdout and "colored" in run.stdout


def test_parts_writes_the_part_pictures_and_table(colorized, tmp_path):
    home, _, _, line = colorized
    run = tint("parts", str(line), "-o", str(tmp_path / "parts"), home=home)
    assert run.returncode == 0, run.stderr
    rows = json.loads((tmp_path / "parts" / "parts.json").read_text())["parts"]
    assert rows and all({"part", "regions", "pixels"} <= set(r) for r in rows)
    assert Image.open(tmp_path / "parts" / "parts.png").size == Image.open(line).size
    again = tint("parts", str(line), "-o", str(tmp_path / "again"), home=home)  # the same job, read back
    assert again.returncode == 0 and (tmp_path / "again" / "parts.json").read_text() == json.dumps(
        {"parts": rows}, sort_keys=True
    )

"""`tint recolor --part`, `tint recolor --batch B --character NAME --part` and `tint blockify --by parts` on
the embedded default: a batch of sample drawings with character palettes, its jobs run in-process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from commands import sample_batch
from PIL import Image
from typer.testing import CliRunner

from studio.cli import app

SAMPLES = Path(__file__).resolve().parents[2] / "studio" / "samples"
BROWN, GREEN, PEACH, RED = "#5a3825", "#2e7d32", "#f2c9a5", "#aa2222"
MANIFEST = f"""
name: hair
characters:
  man: {{palette: {{hair: "{BROWN}", skin: "{PEACH}"}}}}
drawings:
  - {{line: bearded_man_line.png, name: man_front, character: man}}
  - line: bearded_man_line.png
    name: man_back
    character: man
    palette: {{hair: "{GREEN}", skin: "{PEACH}"}}
  - {{line: baby_line.png, name: baby, character: baby, hints: baby_hints.json}}
"""


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The batch above submitted on a fresh embedded home and colorized in-process; its id."""
    yield from sample_batch(tmp_path_factory.mktemp("part-recolor"), MANIFEST)


def _tint(*args: str):
    return CliRunner().invoke(app, list(args))


def _hair(batch: int) -> dict[str, str]:
    run = _tint("report", str(batch), "--json")
    assert run.exit_code == 0, run.output
    rows = json.loads(run.stdout)["rows"]
    return {r["drawing"]: r["color"] for r in rows if r["part"] == "hair" and r["character"] == "man"}


def test_recolor_by_part_writes_a_revision_with_the_part_recolored(batch: int, tmp_path: Path) -> None:
    run = _tint("recolor", "1", "--part", f"hair={RED}", "-o", str(tmp_path))
    assert run.exit_code == 0, run.output
    result = json.loads((tmp_path / "result.json").read_text())
    hair = result["parts"]["parts"]["hair"]["regions"]
    assert result["parent_revision_id"] == 1 and hair
    assert result["edits"] == {str(r): RED for r in hair}
    assert result["locality"]["unchanged_outside"] == 1.0
    regions = np.asarray(Image.open(tmp_path / "regions.png")).astype(np.int64)
    flats = np.asarray(Image.open(tmp_path / "flats.png"))[..., :3]
    assert (flats[np.isin(regions, hair)] == (0xAA, 0x22, 0x22)).all()


def test_recolor_with_an_unknown_part_fails_with_one_line_listing_the_parts(
    batch: int, tmp_path: Path
) -> None:
    run = _tint("recolor", "1", "--part", "tail=#000000", "-o", str(tmp_path))
    assert run.exit_code == 1
    assert (
        "unknown part name 'tail'" in run.output and "known parts: background, skin, hair, eyes" in run.output
    )
    assert "Traceback" not in run.output


def test_recolor_of_a_part_the_drawing_lacks_fails_naming_the_parts_it_has(
    batch: int, tmp_path: Path
) -> None:
    run = _tint("recolor", "1", "--part", "shoes=#000000", "-o", str(tmp_path))
    assert run.exit_code == 1
    assert "no region of this drawing is predicted as shoes" in run.output and "hair" in run.output


def test_recolor_a_character_makes_its_hair_consistent(batch: int, tmp_path: Path) -> None:
    assert _hair(batch)["man_back"] == GREEN and _hair(batch)["man_front"] in (BROWN, RED)  # RED: test above
    run = _tint(
        "recolor", "--batch", str(batch), "--character", "man", "--part", f"hair={BROWN}", "-o", str(tmp_path)
    )
    assert run.exit_code == 0, run.output
    assert "2 new revision(s) of man" in run.output
    assert _hair(batch) == {"man_front": BROWN, "man_back": BROWN}
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == ["1-man_front", "2-man_back"]
    result = json.loads((tmp_path / "2-man_back" / "result.json").read_text())
    assert result["parent_revision_id"] == 2 and result["locality"]["unchanged_outside"] == 1.0


def test_recolor_a_character_the_batch_lacks_lists_its_characters(batch: int) -> None:
    run = _tint("recolor", "--batch", str(batch), "--character", "hero", "--part", f"hair={BROWN}")
    assert run.exit_code == 1
    assert f"batch {batch} has no drawing of character 'hero'; its characters: baby, man." in run.output
    run = _tint("recolor", "--batch", str(batch), "--character", "man", "--set", "2=#000000")
    assert run.exit_code == 1 and "--part" in run.output


def test_blockify_by_parts_writes_one_named_block_per_part(batch: int, tmp_path: Path) -> None:
    run = _tint("blockify", "--revision", "1", "--by", "parts", "-o", str(tmp_path))
    assert run.exit_code == 0, run.output
    table = json.loads((tmp_path / "blocks.json").read_text())
    assert {"background", "skin", "hair"} <= {row["part"] for row in table}
    assert [row["id"] for row in table] == list(range(1, len(table) + 1))
    labels = np.asarray(Image.open(tmp_path / "block_labels.png"))
    blocks = np.asarray(Image.open(tmp_path / "blocks.png"))
    for row in table:
        color = tuple(int(row["color"][i : i + 2], 16) for i in (1, 3, 5))
        assert (blocks[labels == row["id"]] == color).all()
    run = _tint("blockify", str(SAMPLES / "baby_line.png"), "--by", "parts")
    assert run.exit_code == 1 and "--by parts needs --revision" in run.output

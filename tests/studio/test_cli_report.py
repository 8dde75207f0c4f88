"""`tint report BATCH` on the embedded default: a batch of sample drawings with character palettes, its
jobs run in-process, then the report as a table, as JSON and as CSV."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from commands import sample_batch
from typer.testing import CliRunner

from studio.cli import app

BROWN, GREEN, PEACH = "#5a3825", "#2e7d32", "#f2c9a5"
MANIFEST = f"""
name: consistency
characters:
  man: {{palette: {{hair: "{BROWN}", skin: "{PEACH}"}}}}
drawings:
  - {{line: bearded_man_line.png, name: man_front, character: man}}
  - {{line: bearded_man_line.png, name: man_side, character: man}}
  - line: bearded_man_line.png
    name: man_back
    character: man
    palette: {{hair: "{GREEN}", skin: "{PEACH}"}}
  - {{line: baby_line.png, name: baby, hints: baby_hints.json}}
  - {{line: baby_line.png, name: broken, character: man, palette: {{tail: "#ff0000"}}}}
"""


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The batch above submitted on a fresh embedded home and run in-process; its id."""
    yield from sample_batch(tmp_path_factory.mktemp("report"), MANIFEST)


def test_report_json_flags_the_drawing_whose_hair_differs(batch: int) -> None:
    run = CliRunner().invoke(app, ["report", str(batch), "--json"])
    assert run.exit_code == 0, run.output
    report = json.loads(run.stdout)
    assert [(r["part"], r["drawing"]) for r in report["rows"] if r["flagged"]] == [("hair", "man_back")]
    hair = {r["drawing"]: r["color"] for r in report["rows"] if r["part"] == "hair"}
    assert hair == {"man_front": BROWN, "man_side": BROWN, "man_back": GREEN}
    assert {r["character"] for r in report["rows"]} == {"man", "(no character)"}
    assert [d["drawing"] for d in report["uncolored"]] == ["broken"]  # its job failed: unknown part


def test_report_prints_a_table_and_writes_csv(batch: int, tmp_path: Path) -> None:
    run = CliRunner().invoke(app, ["report", str(batch), "-o", str(tmp_path / "report.csv")])
    assert run.exit_code == 0, run.output
    assert "differs" in run.stdout
    assert f"man_back (drawing 3, revision 3): hair {GREEN} is ΔE2000" in run.stdout
    assert f"from man's median {BROWN}" in run.stdout
    assert "not colored yet: broken" in run.stdout
    assert "1 part color(s) differ by more than ΔE2000 10" in run.stdout
    with (tmp_path / "report.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    flagged = [(r["character"], r["part"], r["drawing"], r["color"]) for r in rows if r["flagged"] == "True"]
    assert flagged == [("man", "hair", "man_back", GREEN)]


def test_report_threshold_changes_what_is_flagged(batch: int) -> None:
    run = CliRunner().invoke(app, ["report", str(batch), "--json", "--threshold", "100"])
    assert run.exit_code == 0, run.output
    assert json.loads(run.stdout)["flagged"] == 0


def test_report_of_an_unknown_batch_fails_with_one_line(batch: int) -> None:
    run = CliRunner().invoke(app, ["report", "999"])
    assert run.exit_code == 1
    assert "batch 999 does not exist" in run.output and "Traceback" not in run.output

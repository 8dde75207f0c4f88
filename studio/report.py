"""A batch's color consistency report (`tint report`, GET /api/batches/{id}/report): per character and
part, the color each drawing got in its latest colorize or recolor revision, with the drawings whose part
came out differently from the rest of that character's drawings flagged.

The drawings and revisions come from `db.queries`, the revision's flats and region map from storage, each
line drawing's part map from a `parts` job (one per drawing's content, made when missing and reused after);
the arithmetic is `pipeline.report`'s. `report_json`, `report_csv`, `report_table` and `summary_lines`
present a report.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import numpy as np
from rich.table import Table

from db import queries
from pipeline.errors import NotFound
from pipeline.hints import format_color
from pipeline.images import decode_image, decode_label_map
from pipeline.report import DEFAULT_THRESHOLD, ConsistencyRow, DrawingColors, check_consistency, part_colors
from studio.runner import raise_if_failed
from workers.context import Context

__all__ = [
    "CSV_COLUMNS",
    "BatchReport",
    "batch_report",
    "report_json",
    "report_csv",
    "report_table",
    "summary_lines",
]

CSV_COLUMNS = (
    "character",
    "part",
    "drawing_id",
    "drawing",
    "revision_id",
    "color",
    "median",
    "delta_e",
    "flagged",
    "pixels",
)


@dataclass
class BatchReport:
    """A batch's consistency report: its rows, the revision each drawing's colors come from, and the
    drawings that have no colored revision yet (still queued, or failed)."""

    batch_id: int
    batch: str
    threshold: float
    rows: list[ConsistencyRow] = field(default_factory=list)
    revisions: dict[int, int] = field(default_factory=dict)  # drawing id -> revision id
    uncolored: list[dict] = field(default_factory=list)  # {"drawing_id", "drawing", "character"}

    @property
    def flagged(self) -> list[ConsistencyRow]:
        """The rows whose color is over the threshold from their character's median."""
        return [row for row in self.rows if row.flagged]


def _part_maps(ctx: Context, lines: dict[str, str]) -> dict[str, np.ndarray]:
    """line sha -> part map, from the drawings' `parts` jobs (queued when missing, then followed)."""
    from workers.runs import see_jobs_through
    from workers.submit import submit_parts

    job_ids = {sha: submit_parts(ctx, line_sha=sha, name=name) for sha, name in lines.items()}
    jobs = see_jobs_through(ctx, list(job_ids.values()), timeout_s=ctx.settings.result_timeout_s)
    maps = {}
    for (sha, name), job in zip(lines.items(), jobs, strict=True):
        raise_if_failed(job, what=f"the part map of {name!r}")
        maps[sha] = decode_label_map(
            ctx.storage.get(job.result["assets"]["part_map"]), name=f"parts of {name}"
        )
    return maps


@dataclass(frozen=True)
class _Colored:
    """What reading one drawing's colors needs, copied out of the session."""

    drawing_id: int
    name: str
    character: str
    line_sha: str
    revision_id: int
    flats_sha: str
    regions_sha: str


def _colored_drawings(ctx: Context, report: BatchReport) -> list[_Colored]:
    with ctx.sessions() as session:
        batch = queries.get_batch(session, report.batch_id)
        if batch is None:
            raise NotFound(f"batch {report.batch_id} does not exist; `tint status` lists batches.")
        report.batch = batch.name
        found = []
        for drawing, revision in queries.latest_colored_revisions(session, report.batch_id):
            assets = revision.assets if revision is not None else {}
            flats = assets.get("flats") or assets.get("colored")  # flats: the fills without the lines
            if flats is None or "regions" not in assets:
                report.uncolored.append(
                    {"drawing_id": drawing.id, "drawing": drawing.name, "character": drawing.character}
                )
                continue
            report.revisions[drawing.id] = revision.id
            found.append(
                _Colored(
                    drawing_id=drawing.id,
                    name=drawing.name,
                    character=drawing.character,
                    line_sha=drawing.line_sha,
                    revision_id=revision.id,
                    flats_sha=flats,
                    regions_sha=assets["regions"],
                )
            )
        return found


def batch_report(ctx: Context, batch_id: int, *, threshold: float = DEFAULT_THRESHOLD) -> BatchReport:
    """The report of batch `batch_id`; NotFound when there is no such batch."""
    report = BatchReport(batch_id=batch_id, batch="", threshold=threshold)
    colored = _colored_drawings(ctx, report)
    # the same line drawing twice in a batch is segmented once
    part_maps = _part_maps(ctx, {item.line_sha: item.name for item in colored})
    colors = []
    for item in colored:
        what = f"revision {item.revision_id}"
        flats = decode_image(
            ctx.storage.get(item.flats_sha), name=f"flats of {what}", max_pixels=ctx.settings.max_pixels
        )
        regions = decode_label_map(ctx.storage.get(item.regions_sha), name=f"regions of {what}")
        parts = part_colors(flats[..., :3], regions=regions, part_map=part_maps[item.line_sha])
        colors.append(
            DrawingColors(drawing_id=item.drawing_id, name=item.name, character=item.character, parts=parts)
        )
    report.rows = check_consistency(colors, threshold=threshold)
    return report


def _row_json(report: BatchReport, row: ConsistencyRow) -> dict:
    return {
        "character": row.character,
        "part": row.part,
        "drawing_id": row.drawing_id,
        "drawing": row.drawing,
        "revision_id": report.revisions[row.drawing_id],
        "color": format_color(row.color),
        "median": format_color(row.median),
        "delta_e": row.delta_e,
        "flagged": row.flagged,
        "pixels": row.pixels,
    }


def report_json(report: BatchReport) -> dict:
    """The report as JSON-ready data (the API's answer and `tint report --json`)."""
    return {
        "batch_id": report.batch_id,
        "batch": report.batch,
        "threshold": report.threshold,
        "flagged": len(report.flagged),
        "rows": [_row_json(report, row) for row in report.rows],
        "uncolored": report.uncolored,
    }


def report_csv(report: BatchReport) -> str:
    """The report's rows as CSV with a header, one row per drawing and part."""
    from studio.api.export import csv_cell  # formula-safe cells, as the review export writes them

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in report.rows:
        writer.writerow({k: csv_cell(v) for k, v in _row_json(report, row).items()})
    return out.getvalue()


def report_table(report: BatchReport) -> Table:
    """A table for people: character and part once per group, a swatch of each color, flagged rows red."""
    table = Table(
        "character",
        "part",
        "drawing",
        "color",
        "ΔE",
        "flag",
        title=f"batch {report.batch_id} ({report.batch})",
    )
    previous: tuple[str, str] | None = None
    for row in report.rows:
        key = (row.character, row.part)
        new_character = previous is None or key[0] != previous[0]
        if previous is not None and new_character:
            table.add_section()
        color = format_color(row.color)
        table.add_row(
            row.character if new_character else "",
            row.part if key != previous else "",
            row.drawing,
            f"[on {color}]  [/] {color}",
            f"{row.delta_e:.1f}",
            "[red]differs[/red]" if row.flagged else "",
        )
        previous = key
    return table


def summary_lines(report: BatchReport) -> list[str]:
    """What to read under the table: drawings not colored yet, one sentence per flagged part, a count."""
    lines = [f"not colored yet: {d['drawing']} (drawing {d['drawing_id']})" for d in report.uncolored]
    lines += [
        f"{row.drawing} (drawing {row.drawing_id}, revision {report.revisions[row.drawing_id]}): "
        f"{row.part} {format_color(row.color)} is ΔE2000 {row.delta_e:.1f} from {row.character}'s "
        f"median {format_color(row.median)}"
        for row in report.flagged
    ]
    lines.append(
        f"{len(report.flagged)} part color(s) differ by more than ΔE2000 {report.threshold:g} from their "
        "character's median"
    )
    return lines

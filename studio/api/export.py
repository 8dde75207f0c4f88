"""Review state of a batch as rows a production tracker (Kitsu, ShotGrid) can import: one row per drawing
with its latest revision, review status, retake count and comments; as CSV or JSON.
"""

from __future__ import annotations

import csv
import io

from sqlalchemy.orm import Session

from db import api_queries
from db.models import Batch

__all__ = ["CSV_COLUMNS", "csv_cell", "review_rows", "rows_to_csv"]

CSV_COLUMNS = (
    "batch",
    "drawing_id",
    "drawing",
    "character",
    "view",
    "revision_id",
    "revision_count",
    "status",
    "retakes",
    "comments",
)
_PAGE = 500


def _comment(review) -> dict:
    return {
        "revision_id": review.revision_id,
        "author": review.author,
        "verdict": review.verdict,
        "comment": review.comment,
        "blocks": list(review.blocks or []),
        "created_at": review.created_at.isoformat(),
    }


def review_rows(session: Session, batch: Batch) -> list[dict]:
    """One dict per drawing of the batch, in drawing order; `comments` is a list of dicts."""
    rows: list[dict] = []
    offset = 0
    while True:
        page = api_queries.page_drawings(session, owner=None, batch_id=batch.id, limit=_PAGE, offset=offset)
        reviews = api_queries.reviews_of_drawings(session, [s.drawing.id for s in page.items])
        for s in page.items:
            rows.append(
                {
                    "batch": batch.name,
                    "drawing_id": s.drawing.id,
                    "drawing": s.drawing.name,
                    "character": s.drawing.character,
                    "view": s.drawing.view,
                    "revision_id": s.latest_revision.id if s.latest_revision else None,
                    "revision_count": s.revision_count,
                    "status": s.latest_revision.review_status if s.latest_revision else "not_ready",
                    "retakes": s.retakes,
                    "comments": [_comment(r) for r in reviews[s.drawing.id]],
                }
            )
        offset += _PAGE
        if offset >= page.total:
            return rows


def _comments_cell(comments: list[dict]) -> str:
    parts = []
    for c in comments:
        where = f" [blocks {', '.join(map(str, c['blocks']))}]" if c["blocks"] else ""
        verdict = f" ({c['verdict']})" if c["verdict"] else ""
        parts.append(f"r{c['revision_id']} {c['author']}{verdict}{where}: {c['comment']}".strip())
    return " | ".join(parts)


def csv_cell(value: object) -> object:
    """The value, quoted when it starts like a formula (it would run in the spreadsheet that opens it)."""
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")):
        return "'" + value
    return value


def rows_to_csv(rows: list[dict]) -> str:
    """The rows as CSV with a header; comments joined into one cell ("r3 ana (approved): ok | ...")."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        flat = {**row, "comments": _comments_cell(row["comments"])}
        writer.writerow({k: csv_cell(v) for k, v in flat.items()})
    return out.getvalue()

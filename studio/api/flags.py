"""Why a drawing needs a lead's eye (the review page's "flagged" marks): its latest revision's hint adherence
under 100%, trace lines not all filled by their rule, or reference matches of low confidence, read from the
revision's proof and its job's result. One sentence per reason.
"""

from __future__ import annotations

from typing import Any

from db.models import Revision
from pipeline.reference import LOW_CONFIDENCE, flagged_matches

__all__ = ["revision_flags"]


def _share(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def revision_flags(revision: Revision | None, job_result: dict | None) -> list[str]:
    """The reasons to review `revision` ([] when none); `job_result` is its job's result, if any."""
    if revision is None:
        return []
    proof = revision.proof or {}
    flags = []
    adherence = _share(proof.get("hint_adherence"))
    if adherence is not None and adherence < 1.0:
        failed = len(proof.get("failed_regions") or [])
        flags.append(f"hint adherence {adherence:.1%} ({failed} region(s) off their hint)")
    trace = _share(proof.get("trace_filled_by_rule"))
    if trace is not None and trace < 1.0:
        flags.append(f"trace lines filled by their rule: {trace:.1%}")
    matches = (job_result or {}).get("reference_matches") or []
    low = (job_result or {}).get("reference_flagged")  # the job's own list; older results lack it
    if low is None:
        low = flagged_matches([m for m in matches if isinstance(m, dict) and "region" in m])
    if low:
        flags.append(
            f"{len(low)} of {len(matches)} reference match(es) under {LOW_CONFIDENCE:.0%} confidence "
            f"(regions {', '.join(str(r) for r in low[:8])}{'…' if len(low) > 8 else ''})"
        )
    if revision.flagged and not flags:
        flags.append("flagged for review by its job")
    return flags

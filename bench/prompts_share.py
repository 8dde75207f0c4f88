"""The benches' hint prompt: an evenly spread share of a drawing's index.json regions, hinted at their point
(imports nothing, so the service-free benches can use it on a bare GPU machine)."""

from __future__ import annotations

__all__ = ["hinted_points"]


def hinted_points(item: dict, fraction: float) -> dict:
    """{"points": [...]} for an evenly spread `fraction` of the item's regions (index.json order)."""
    chosen = [r for i, r in enumerate(item["regions"]) if int((i + 1) * fraction) > int(i * fraction)]
    return {"points": [{"x": r["point"][0], "y": r["point"][1], "color": r["color"]} for r in chosen]}

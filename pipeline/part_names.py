"""The part vocabulary: the names a palette prompt may use, in the part model's class order.

Its own module so that the part model (pipeline.models) and the character generator (pipeline.train) share
one list without the model importing training code.
"""

from __future__ import annotations

__all__ = ["PART_NAMES"]

PART_NAMES: tuple[str, ...] = (
    "background",
    "skin",
    "hair",
    "eyes",
    "eye_whites",
    "mouth",
    "top",
    "bottom",
    "shoes",
    "accessory",
)

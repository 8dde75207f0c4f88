"""Tint's image pipeline: arrays in, arrays out, no I/O (no files, network, queue, database or env vars).

The three jobs are `colorize`, `blockify` and the recolor helpers (`target_prompt`, `edits_at_points`,
`recolor_locality`); `decode_image` / `encode_png` convert between bytes and arrays.
"""

import importlib
from typing import Any

# Names are loaded on first use (PEP 562), so `from pipeline.errors import ...` in a CLI that only queries
# the database does not pay for OpenCV and the models' imports.
_HOME = {
    "AssetCorrupt": "pipeline.errors",
    "BadColor": "pipeline.errors",
    "BadInput": "pipeline.errors",
    "BadManifest": "pipeline.errors",
    "BadPrompt": "pipeline.errors",
    "Block": "pipeline.blockify",
    "BlockifyResult": "pipeline.blockify",
    "ColorizeResult": "pipeline.colorize",
    "HintOutOfBounds": "pipeline.errors",
    "Hints": "pipeline.hints",
    "ImageTooLarge": "pipeline.errors",
    "Lines": "pipeline.lines",
    "NotAnImage": "pipeline.errors",
    "NotFound": "pipeline.errors",
    "TintError": "pipeline.errors",
    "Transient": "pipeline.errors",
    "UnknownBlock": "pipeline.errors",
    "assign_line_pixels": "pipeline.regions",
    "block_table_json": "pipeline.blockify",
    "blockify": "pipeline.blockify",
    "colorize": "pipeline.colorize",
    "decode_image": "pipeline.images",
    "decode_label_map": "pipeline.images",
    "edits_at_points": "pipeline.recolor",
    "empty_hints": "pipeline.hints",
    "encode_png": "pipeline.images",
    "extract_lines": "pipeline.lines",
    "find_regions": "pipeline.regions",
    "format_color": "pipeline.hints",
    "hints_from_image": "pipeline.hints",
    "hints_from_json": "pipeline.hints",
    "merge_hints": "pipeline.hints",
    "parse_color": "pipeline.hints",
    "recolor_locality": "pipeline.recolor",
    "target_prompt": "pipeline.recolor",
}

__all__ = [
    "AssetCorrupt",
    "BadColor",
    "BadInput",
    "BadManifest",
    "BadPrompt",
    "Block",
    "BlockifyResult",
    "ColorizeResult",
    "HintOutOfBounds",
    "Hints",
    "ImageTooLarge",
    "Lines",
    "NotAnImage",
    "NotFound",
    "TintError",
    "Transient",
    "UnknownBlock",
    "assign_line_pixels",
    "block_table_json",
    "blockify",
    "colorize",
    "decode_image",
    "decode_label_map",
    "edits_at_points",
    "empty_hints",
    "encode_png",
    "extract_lines",
    "find_regions",
    "format_color",
    "hints_from_image",
    "hints_from_json",
    "merge_hints",
    "parse_color",
    "recolor_locality",
    "target_prompt",
]


def __getattr__(name: str) -> Any:
    """Load a public name from its module on first access."""
    if name not in _HOME:
        raise AttributeError(f"module 'pipeline' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOME[name]), name)
    globals()[name] = value
    return value

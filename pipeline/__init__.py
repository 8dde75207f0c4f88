"""Tint's image pipeline: arrays in, arrays out, no I/O (no files, network, queue, database or env vars).

The three jobs are `colorize`, `blockify` and the recolor helpers (`target_prompt`, `edits_at_points`,
`recolor_locality`); `decode_image` / `encode_png` convert between bytes and arrays.
"""

from pipeline.blockify import Block, BlockifyResult, block_table_json, blockify
from pipeline.colorize import ColorizeResult, colorize
from pipeline.errors import (
    AssetCorrupt,
    BadColor,
    BadInput,
    BadManifest,
    BadPrompt,
    HintOutOfBounds,
    ImageTooLarge,
    NotAnImage,
    NotFound,
    TintError,
    Transient,
    UnknownBlock,
)
from pipeline.hints import (
    Hints,
    empty_hints,
    format_color,
    hints_from_image,
    hints_from_json,
    merge_hints,
    parse_color,
)
from pipeline.images import decode_image, decode_label_map, encode_png
from pipeline.lines import Lines, extract_lines
from pipeline.recolor import edits_at_points, recolor_locality, target_prompt
from pipeline.regions import assign_line_pixels, find_regions

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

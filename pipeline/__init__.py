"""Tint's image pipeline: arrays in, arrays out, no I/O (no files, network, queue, database or env vars).

The three jobs are `colorize`, `blockify` and the recolor helpers (`target_prompt`, `edits_at_points`,
`recolor_locality`); `decode_image` / `encode_png` convert between bytes and arrays.
"""

import importlib
import sys
import types
from typing import Any

# Public names load on first use, so a command that only needs `pipeline.errors` (e.g. `tint status`)
# does not import OpenCV, NumPy and Pillow. name -> module that defines it.
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
    "over_white": "pipeline.lines",
    "find_regions": "pipeline.regions",
    "format_color": "pipeline.hints",
    "hints_from_image": "pipeline.hints",
    "hints_from_json": "pipeline.hints",
    "merge_hints": "pipeline.hints",
    "parse_color": "pipeline.hints",
    "PromptHints": "pipeline.prompt_hints",
    "prompt_to_hints": "pipeline.prompt_hints",
    "Found": "pipeline.colorize",
    "find_lines_and_regions": "pipeline.colorize",
    "RecolorResult": "pipeline.recolor",
    "recolor": "pipeline.recolor",
    "recolor_locality": "pipeline.recolor",
    "target_prompt": "pipeline.recolor",
    "trace_rules": "pipeline.trace_lines",
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
    "over_white",
    "find_regions",
    "format_color",
    "hints_from_image",
    "hints_from_json",
    "merge_hints",
    "parse_color",
    "PromptHints",
    "prompt_to_hints",
    "Found",
    "find_lines_and_regions",
    "RecolorResult",
    "recolor",
    "recolor_locality",
    "target_prompt",
    "trace_rules",
]


class _Package(types.ModuleType):
    """This package: public names resolve lazily, and functions keep their names over submodules."""

    def __getattr__(self, name: str) -> Any:
        if name not in _HOME:
            raise AttributeError(f"module 'pipeline' has no attribute {name!r}")
        value = getattr(importlib.import_module(_HOME[name]), name)
        setattr(self, name, value)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        # Importing pipeline.blockify binds that submodule as the package's `blockify`; where a public
        # function has the submodule's name (blockify, colorize), the function keeps it, as it always had.
        if isinstance(value, types.ModuleType) and _HOME.get(name) == value.__name__:
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

"""Batch manifests: a YAML or JSON file naming line drawings and their prompts, read and checked.

Files are named relative to the manifest and must stay inside its folder: no absolute paths, no `..`
escapes, no URLs of any scheme (Tint never fetches an address a manifest gives).
"""

from __future__ import annotations

import functools
import json
import stat
from dataclasses import dataclass
from pathlib import Path

import yaml

from pipeline.errors import BadInput, BadManifest, BadPrompt
from pipeline.trace_lines import trace_rules

__all__ = ["STYLES", "SHADED_REMOVED", "DrawingSpec", "check_style", "read_manifest", "read_hint_file"]

MAX_MANIFEST_BYTES = 20 * 1024 * 1024
MAX_INPUT_BYTES = 200 * 1024 * 1024
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
STYLES = ("flat",)  # one color per region; "shaded" is gone until its shade channel is trained
SHADED_REMOVED = "the shaded style was removed until its shading is trained"


@dataclass
class DrawingSpec:
    """One drawing of a manifest, with its files read."""

    name: str
    character: str
    view: str
    line: bytes
    prompt_kind: str
    prompt_payload: dict
    hint_image: bytes | None
    reference: bytes | None = None  # a colored picture of the character whose colors become hints
    sheet: tuple[bytes, ...] = ()  # its character's model sheet, when the drawing gives no reference itself

    def reference_pictures(self) -> list[bytes]:
        """The pictures this drawing is colored from: its own reference, else its character's sheet."""
        return [self.reference] if self.reference is not None else list(self.sheet)


def check_style(value: object, *, where: str, error: type[BadInput] = BadInput) -> str:
    """The style a drawing asks for, which must be "flat"; `error` names the asker (`where`) and says why."""
    if value == "flat":
        return value
    if value == "shaded":
        raise error(f"{where}: {SHADED_REMOVED}; leave the style out to get flat colors.")
    raise error(f"{where}: style {value!r} is not one of {', '.join(STYLES)}; leave the style out.")


@functools.lru_cache(maxsize=64)
def _resolved(base: Path) -> Path:
    """The manifest folder's real path (resolved once per folder, not once per file)."""
    return base.resolve()


def _safe_path(base: Path, value: object, *, field: str, index: int) -> Path:
    """A file named by a manifest, which must stay inside the manifest's folder."""
    if not isinstance(value, str) or not value:
        raise BadManifest(f"drawing #{index}: {field!r} must be a file name, got {value!r}")
    if "://" in value or value.startswith(("/", "\\", "~")) or (len(value) > 1 and value[1] == ":"):
        raise BadManifest(
            f"drawing #{index}: {field} {value!r} is not a relative path; name files relative to the "
            "manifest (Tint never fetches URLs or reads absolute paths)."
        )
    root = _resolved(base)
    path = (root / value).resolve()
    if not path.is_relative_to(root):
        raise BadManifest(f"drawing #{index}: {field} {value!r} points outside the manifest's folder.")
    try:
        info = path.stat()
    except OSError:
        info = None
    if info is None or not stat.S_ISREG(info.st_mode):
        raise BadManifest(f"drawing #{index}: {field} {value!r} does not exist next to the manifest.")
    if info.st_size > MAX_INPUT_BYTES:
        raise BadManifest(f"drawing #{index}: {field} {value!r} is over {MAX_INPUT_BYTES // 2**20} MiB.")
    return path


def read_hint_file(path: Path) -> tuple[dict, bytes | None]:
    """A hints file as (points/strokes JSON, hint image bytes): JSON by content, anything else an image."""
    data = Path(path).read_bytes()
    if data.lstrip()[:1] in (b"{", b"["):
        try:
            payload = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BadPrompt(f"hints file {Path(path).name!r} is not valid JSON ({exc}).") from exc
        if not isinstance(payload, dict):
            raise BadPrompt(
                f"hints file {Path(path).name!r} must hold an object with 'points' and/or 'strokes'."
            )
        return payload, None
    return {}, data


def _palette_of(value: object, base: Path, index: int) -> dict:
    """A palette given inline or as a JSON file name: {"hair": "#5a3825", ...}."""
    if isinstance(value, str):
        path = _safe_path(base, value, field="palette", index=index)
        try:
            value = json.loads(path.read_text("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BadManifest(f"drawing #{index}: palette file {path.name!r} is not JSON ({exc}).") from exc
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise BadManifest(
            f'drawing #{index}: a palette maps part names to colors, e.g. {{"hair": "#5a3825"}}.'
        )
    return value


def _trace_lines_of(levels: list[object], index: int) -> object:
    """The trace-line rules of a drawing from the batch's, its character's, its own and its hints' values
    (later levels override colors; false turns trace lines off), checked; None when no level sets any."""
    merged: object = None
    for value in levels:
        if value is None:
            continue
        if isinstance(value, dict) and isinstance(merged, dict):
            merged = {**merged, **value}
        else:
            merged = dict(value) if isinstance(value, dict) else value
    if merged is not None:
        try:
            trace_rules(merged)
        except BadPrompt as exc:
            raise BadManifest(f"drawing #{index}: {exc}") from exc
    return merged


def _prompt_of(
    entry: dict, base: Path, index: int, *, palette: object = None, trace_lines: object = None
) -> tuple[str, dict, bytes | None]:
    hints = entry.get("hints")
    payload: dict = {}
    hint_image = None
    if isinstance(hints, str):
        try:
            payload, hint_image = read_hint_file(_safe_path(base, hints, field="hints", index=index))
        except BadPrompt as exc:
            raise BadManifest(f"drawing #{index}: {exc}") from exc
    elif isinstance(hints, dict):
        payload = dict(hints)
    elif hints is not None:
        raise BadManifest(f"drawing #{index}: 'hints' must be a JSON file name or an object.")
    if not isinstance(payload, dict):
        raise BadManifest(f"drawing #{index}: hints must be a JSON object with 'points' and/or 'strokes'.")
    if entry.get("hint_image") is not None:
        hint_image = _safe_path(base, entry["hint_image"], field="hint_image", index=index).read_bytes()
    palette = entry.get("palette", palette)
    if palette is not None:
        payload["palette"] = _palette_of(palette, base, index)
    traced = _trace_lines_of([trace_lines, entry.get("trace_lines"), payload.get("trace_lines")], index)
    if traced is not None:  # kept in the prompt, so the prompt history says how trace lines were filled
        payload["trace_lines"] = traced
    forms = [
        name
        for name, given in (
            ("points", bool(set(payload) & {"points", "strokes"})),
            ("image", hint_image is not None),
            ("palette", "palette" in payload),
            ("reference", entry.get("reference") is not None),
        )
        if given
    ]
    kind = forms[0] if len(forms) == 1 else "mixed" if forms else "none"
    return kind, payload, hint_image


def _sheet_of(defaults: object, base: Path, index: int) -> tuple[bytes, ...]:
    """A character's model sheet: the picture or pictures its `reference:` names (one file or a list)."""
    value = defaults.get("reference") if isinstance(defaults, dict) else None
    if value is None:
        return ()
    names = value if isinstance(value, list) else [value]
    if not names:
        raise BadManifest(f"drawing #{index}: its character's 'reference' list is empty.")
    return tuple(_safe_path(base, v, field="reference", index=index).read_bytes() for v in names)


def read_manifest(path: Path) -> tuple[dict, list[DrawingSpec]]:
    """Parse a YAML or JSON batch manifest and read the files it names; BadManifest says what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise BadManifest(f"manifest {str(path)!r} does not exist.")
    if path.stat().st_size > MAX_MANIFEST_BYTES:
        raise BadManifest(f"manifest {path.name!r} is over {MAX_MANIFEST_BYTES // 2**20} MiB.")
    try:
        text = path.read_text("utf-8")
        # JSON is read by the json module (100x faster than PyYAML on a 10k-drawing manifest); YAML by
        # PyYAML's C loader when it is built.
        doc = (
            json.loads(text) if text.lstrip().startswith(("{", "[")) else yaml.load(text, Loader=_YAML_LOADER)
        )
    except (UnicodeDecodeError, json.JSONDecodeError, yaml.YAMLError) as exc:
        raise BadManifest(f"manifest {path.name!r} is not valid YAML/JSON: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("drawings"), list) or not doc["drawings"]:
        raise BadManifest(f"manifest {path.name!r} needs a non-empty 'drawings' list.")
    base = path.parent
    characters = doc.get("characters") or {}  # per-character defaults, e.g. {"hero": {"palette": {...}}}
    if not isinstance(characters, dict):
        raise BadManifest(f"manifest {path.name!r}: 'characters' must map character names to settings.")
    specs: list[DrawingSpec] = []
    seen: set[str] = set()
    sheets: dict[str, tuple[bytes, ...]] = {}  # per character, read once for all its drawings
    for index, entry in enumerate(doc["drawings"], start=1):
        if not isinstance(entry, dict):
            raise BadManifest(f"drawing #{index} must be a mapping with at least 'line'.")
        line_path = _safe_path(base, entry.get("line"), field="line", index=index)
        name = str(entry.get("name") or entry["line"])
        if name in seen:
            raise BadManifest(f"drawing #{index}: name {name!r} appears twice; names in a batch are unique.")
        seen.add(name)
        character = str(entry.get("character", ""))
        defaults = characters.get(character)
        palette = defaults.get("palette") if isinstance(defaults, dict) else None
        traced = _trace_lines_of(
            [doc.get("trace_lines"), defaults.get("trace_lines") if isinstance(defaults, dict) else None],
            index,
        )
        kind, payload, hint_image = _prompt_of(entry, base, index, palette=palette, trace_lines=traced)
        reference, sheet = None, ()
        if entry.get("reference") is not None:
            reference = _safe_path(base, entry["reference"], field="reference", index=index).read_bytes()
        else:
            if character not in sheets:
                sheets[character] = _sheet_of(defaults, base, index)
            sheet = sheets[character]
            if sheet:  # the character's sheet colors the drawing; its own hints still win
                kind = "reference" if kind == "none" else "mixed"
        check_style(entry.get("style", "flat"), where=f"drawing #{index}", error=BadManifest)
        specs.append(
            DrawingSpec(
                name=name,
                character=character,
                view=str(entry.get("view", "")),
                line=line_path.read_bytes(),
                prompt_kind=kind,
                prompt_payload=payload,
                hint_image=hint_image,
                reference=reference,
                sheet=sheet,
            )
        )
    return doc, specs

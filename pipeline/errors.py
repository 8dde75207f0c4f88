"""Tint's error tree, shared by every layer.

TintError
├── BadInput              fail this job now, never retry
│   ├── NotAnImage
│   ├── ImageTooLarge
│   ├── BadPrompt
│   │   ├── HintOutOfBounds
│   │   └── BadColor
│   ├── BadManifest
│   ├── UnknownBlock
│   └── NotFound
└── Transient             retry with backoff (storage, database, broker faults)
    └── AssetCorrupt      stored bytes do not match their content hash
"""

__all__ = [
    "TintError",
    "BadInput",
    "NotAnImage",
    "ImageTooLarge",
    "BadPrompt",
    "HintOutOfBounds",
    "BadColor",
    "BadManifest",
    "UnknownBlock",
    "NotFound",
    "Transient",
    "AssetCorrupt",
]


class TintError(Exception):
    """Base of every error Tint raises on purpose."""


class BadInput(TintError):
    """The input of a job is wrong; retrying cannot help."""


class NotAnImage(BadInput):
    """Bytes that no supported image decoder accepts."""


class ImageTooLarge(BadInput):
    """An image whose pixel count is over the configured limit."""


class BadPrompt(BadInput):
    """A color prompt that cannot be turned into hints."""


class HintOutOfBounds(BadPrompt):
    """A hint point or stroke outside the drawing."""


class BadColor(BadPrompt):
    """A color that is not #RRGGBB."""


class BadManifest(BadInput):
    """A batch manifest that cannot be read or names files it may not."""


class UnknownBlock(BadInput):
    """A recolor edit naming a block that does not exist."""


class NotFound(BadInput):
    """A revision, drawing, job or batch id that does not exist."""


class Transient(TintError):
    """A passing fault of a service; the job retries with backoff."""


class AssetCorrupt(Transient):
    """Stored bytes whose sha256 is not their key."""

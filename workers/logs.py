"""Structured logs: every record a task logs carries its job, batch and drawing ids, as JSON lines or text.

The ids live in context variables, set by Celery's `task_prerun` signal (task, job id, kind) and by the
task once it has claimed its job (batch and drawing ids, from the row it read anyway), and cleared by
`task_postrun`; they follow the task in whatever thread or pool process runs it, and code that logs needs
no change. A `logging.Filter` copies them onto each record; `JsonFormatter` writes one JSON object per
line (for a log shipper), the text format appends `job=… batch=… drawing=…` when they are set (for a
person).

    configure_logging(fmt="json", level="INFO")    # at a front door or worker start
    with log_context(job_id=7, batch_id=2): ...    # anywhere else a job is worked on by hand
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Literal

from celery import signals

__all__ = [
    "CONTEXT_FIELDS",
    "ContextFilter",
    "JsonFormatter",
    "TextFormatter",
    "bind",
    "clear",
    "current",
    "log_context",
    "configure_logging",
]

log = logging.getLogger("tint.logs")

# The ids a record can carry; each is None when no job is being worked on.
CONTEXT_FIELDS = ("job_id", "batch_id", "drawing_id", "kind", "task", "task_id")
_vars: dict[str, contextvars.ContextVar[Any]] = {
    name: contextvars.ContextVar(f"tint_{name}", default=None) for name in CONTEXT_FIELDS
}
# LogRecord attributes that are not extra fields (anything else a caller passed with `extra=` is kept).
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def bind(**values: Any) -> None:
    """Set context fields (job_id, batch_id, drawing_id, kind, task, task_id) for this thread/task."""
    for name, value in values.items():
        if name not in _vars:
            raise KeyError(f"unknown log context field {name!r}; use one of {', '.join(CONTEXT_FIELDS)}.")
        _vars[name].set(value)


def clear() -> None:
    """Unset every context field (a task ended)."""
    for var in _vars.values():
        var.set(None)


def current() -> dict[str, Any]:
    """The context fields that are set now."""
    return {name: value for name, var in _vars.items() if (value := var.get()) is not None}


@contextlib.contextmanager
def log_context(**values: Any) -> Iterator[None]:
    """Set context fields for the block, restoring the previous values after it."""
    tokens = []
    for name, value in values.items():
        if name not in _vars:
            raise KeyError(f"unknown log context field {name!r}; use one of {', '.join(CONTEXT_FIELDS)}.")
        tokens.append((_vars[name], _vars[name].set(value)))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


class ContextFilter(logging.Filter):
    """Copies the context fields onto every record (None when unset), so any formatter can use them."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in _vars.items():
            if not hasattr(record, name):
                setattr(record, name, var.get())
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, pid, the context ids that are set, extras, exc."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "pid": record.process,
        }
        for name, value in vars(record).items():
            if name not in _RECORD_ATTRS and value is not None and not name.startswith("_"):
                doc[name] = value
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            doc["stack"] = self.formatStack(record.stack_info)
        return json.dumps(doc, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """The usual one-line text format, with `[job=7 batch=2 drawing=12]` when a job is being worked on."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ids = [
            f"{short}={value}"
            for name, short in (("job_id", "job"), ("batch_id", "batch"), ("drawing_id", "drawing"))
            if (value := getattr(record, name, None)) is not None
        ]
        return f"{line} [{' '.join(ids)}]" if ids else line


def configure_logging(*, fmt: Literal["json", "text"] = "text", level: str | int = "INFO") -> None:
    """Send the root logger's records to stderr in `fmt`, with the job context on each; idempotent."""
    if fmt not in ("json", "text"):
        raise ValueError(f"log format {fmt!r} is not known; use 'json' or 'text' (TINT_LOG_FORMAT).")
    root = logging.getLogger()
    for handler in list(root.handlers):
        # ours from an earlier call, and the plain console handler logging.basicConfig installs
        if getattr(handler, "_tint", False) or type(handler) is logging.StreamHandler:
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._tint = True  # type: ignore[attr-defined]
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)


def _job_id_of(args: Any, kwargs: Any) -> int | None:
    value = (args[0] if args else None) if not (kwargs or {}).get("job_id") else kwargs["job_id"]
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@signals.task_prerun.connect
def _bind_task(task_id: str | None = None, task: Any = None, args: Any = None, kwargs: Any = None, **_: Any):
    clear()
    name = getattr(task, "name", None)
    bind(task=name, task_id=task_id)
    job_id = _job_id_of(args, kwargs)
    if job_id is not None:
        # the job's kind is its task's; batch and drawing ids are bound by the task once it has claimed
        # the job (workers.tasks), so no log line costs a database read
        kind = name.removeprefix("tint.") if isinstance(name, str) and name.startswith("tint.") else None
        bind(job_id=job_id, kind=kind)


@signals.task_postrun.connect
def _clear_task(**_: Any) -> None:
    clear()


@signals.setup_logging.connect
def _setup_celery_logging(loglevel: Any = None, **_: Any) -> None:
    # Connected, so Celery leaves logging to us instead of installing its own handlers on the worker.
    from workers.settings import get_settings

    # `log_format` is the TINT_LOG_FORMAT setting ("json" or "text"); text until Settings has it.
    fmt = getattr(get_settings(), "log_format", "text")
    configure_logging(fmt=fmt, level=loglevel or "INFO")

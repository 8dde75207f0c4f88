"""How a `tint` command ends when something goes wrong: one line on stderr and a documented exit status.

| status | meaning |
|---|---|
| 1 | bad input, or the job the command waited for failed (the line says why) |
| 2 | usage: an unknown option or a missing argument (click's own message) |
| 3 | a service or the environment failed: database, broker, asset storage, disk, a TINT_* setting |
| 4 | an internal error (a bug): rerun with TINT_DEBUG=1 for the traceback and report it |
| 130 | interrupted (Ctrl-C) |

No traceback is printed unless TINT_DEBUG=1. Log records from the layers below (a job that crashed, a
broker that refused a message) print as one line each too.
"""

from __future__ import annotations

import logging
import os
import sys

from pipeline.errors import TintError, Transient

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_ENVIRONMENT",
    "EXIT_INTERNAL",
    "debug",
    "explain",
    "report",
    "configure_logging",
]

EXIT_BAD_INPUT = 1
EXIT_ENVIRONMENT = 3
EXIT_INTERNAL = 4
EXIT_INTERRUPTED = 130


def debug() -> bool:
    """True when TINT_DEBUG=1: show tracebacks instead of one line."""
    return os.environ.get("TINT_DEBUG", "") not in ("", "0")


def _first_line(value: object) -> str:
    text = str(value).strip()
    return text.splitlines()[0] if text else type(value).__name__


def _home() -> str:
    return os.environ.get("TINT_HOME") or "./tint-data"


def _database() -> str:
    url = os.environ.get("TINT_DATABASE_URL")
    if url:
        return f"the database at TINT_DATABASE_URL ({url.split('@')[-1]})"
    return f"the SQLite file {os.path.join(_home(), 'tint.db')!r}"


def _settings_errors(exc: BaseException) -> str:
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return _first_line(exc)
    return "; ".join(f"TINT_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in errors())


def _explain_environment(exc: BaseException) -> str | None:
    """The sentence for a service or environment fault, or None when `exc` is not one."""
    from sqlalchemy.exc import SQLAlchemyError

    if isinstance(exc, SQLAlchemyError):
        cause = _first_line(getattr(exc, "orig", None) or exc)
        return (
            f"the database failed ({cause}). Check that {_database()} is reachable and writable, and "
            "that its disk has free space."
        )
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        return (
            f"{exc.strerror or _first_line(exc)}{where}. Check that the folder is writable and its disk has "
            f"free space (TINT_HOME is {_home()!r})."
        )
    module = type(exc).__module__ or ""
    if module.startswith(("botocore", "boto3", "s3transfer")):
        return (
            f"asset storage failed ({_first_line(exc)}). Check TINT_STORAGE_URL and TINT_S3_ENDPOINT, and "
            "that the object store answers."
        )
    if module.startswith(("kombu", "redis", "amqp")):
        return f"the broker failed ({_first_line(exc)}). Check TINT_BROKER_URL and that the broker answers."
    if module.startswith("pydantic"):
        return f"a setting is invalid: {_settings_errors(exc)}. See the settings table in the README."
    return None


def explain(exc: BaseException) -> tuple[int, str]:
    """(exit status, one-line message) for an exception that ended a command."""
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED, "interrupted."
    if isinstance(exc, TintError):
        code = EXIT_ENVIRONMENT if isinstance(exc, Transient) else EXIT_BAD_INPUT
        return code, " ".join(str(exc).split("\n"))
    environment = _explain_environment(exc)
    if environment is not None:
        return EXIT_ENVIRONMENT, environment
    return EXIT_INTERNAL, (
        f"internal error ({type(exc).__name__}: {_first_line(exc)}). "
        "Rerun with TINT_DEBUG=1 for the traceback, and report it."
    )


def report(exc: BaseException) -> int:
    """Print the one line for `exc` on stderr and return the exit status (callers re-raise under
    TINT_DEBUG=1 instead)."""
    from rich.console import Console

    code, message = explain(exc)
    Console(stderr=True).print(f"[red]tint: error:[/red] {message}", highlight=False, soft_wrap=True)
    return code


class _OneLine(logging.Formatter):
    """`tint: warning: …` with only the message's first line, unless TINT_DEBUG=1."""

    def format(self, record: logging.LogRecord) -> str:
        if debug():
            return super().format(record)
        return f"tint: {record.levelname.lower()}: {_first_line(record.getMessage())}"


def configure_logging() -> None:
    """Warnings and errors of the layers below go to stderr as one line each (a command's own output is
    printed by the command)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_OneLine("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug() else logging.WARNING)

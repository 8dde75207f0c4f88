"""pipeline/ is arrays in, arrays out: importing it must not pull in storage, queue or database code."""

import re
import subprocess
import sys
from pathlib import Path

import pipeline

FORBIDDEN = ("boto3", "botocore", "celery", "kombu", "sqlalchemy", "redis", "alembic")


def imported_by(package: str) -> set[str]:
    """Top-level module names loaded by importing `package` in a fresh interpreter."""
    code = f"import sys, {package}; print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_pipeline_imports_no_io():
    loaded = imported_by("pipeline")
    for name in FORBIDDEN:
        assert name not in loaded


def test_pipeline_exports_what_it_lists():
    for name in pipeline.__all__:
        assert hasattr(pipeline, name), name


def test_pipeline_reads_no_environment_and_opens_no_files():
    source = "".join(p.read_text() for p in Path(pipeline.__file__).parent.glob("*.py"))
    assert "os.environ" not in source and "getenv" not in source
    assert not re.search(r"(?<![.\w])open\(", source)  # Image.open on in-memory bytes is fine

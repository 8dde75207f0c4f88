"""pipeline/ is arrays in, arrays out: no module of it may pull in storage, queue or database code, and its
models may not import its training code. Every module is checked, not only the package's lazy front."""

import ast
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pipeline

FORBIDDEN = (
    "boto3",
    "botocore",
    "celery",
    "kombu",
    "sqlalchemy",
    "redis",
    "alembic",
    "db",
    "workers",
    "studio",
)
ROOT = Path(pipeline.__file__).parent


def every_module() -> list[str]:
    """Dotted names of every module under pipeline/ (pipeline.models and pipeline.train included)."""
    found = ["pipeline"]
    found += [m.name for m in pkgutil.walk_packages([str(ROOT)], prefix="pipeline.")]
    return sorted(found)


def imports_in(path: Path) -> set[str]:
    """Every module name an import statement in the file names, at any depth (lazy imports too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_walk_finds_the_subpackages():
    modules = every_module()
    assert {"pipeline.models.parts", "pipeline.train.losses", "pipeline.regions"} <= set(modules)
    assert len(modules) > 30


def test_no_pipeline_file_imports_io_or_upper_layers():
    for path in ROOT.rglob("*.py"):
        for name in imports_in(path):
            assert name.split(".")[0] not in FORBIDDEN, f"{path.relative_to(ROOT.parent)} imports {name}"


def test_models_import_no_training_code():
    for path in (ROOT / "models").rglob("*.py"):
        for name in imports_in(path):
            assert not name.startswith("pipeline.train"), f"{path.relative_to(ROOT.parent)} imports {name}"


def test_importing_every_module_loads_no_io():
    code = (
        "import importlib, sys\n"
        f"for name in {every_module()!r}:\n"
        "    importlib.import_module(name)\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(out.stdout.split())
    assert "pipeline" in loaded and "torch" in loaded  # the walk really imported the models
    assert not loaded & set(FORBIDDEN), loaded & set(FORBIDDEN)


def test_pipeline_exports_what_it_lists():
    for name in pipeline.__all__:
        assert hasattr(pipeline, name), name


def test_pipeline_reads_no_environment_and_opens_no_files():
    source = "".join(p.read_text() for p in ROOT.glob("*.py"))
    source += "".join(p.read_text() for p in (ROOT / "models").glob("*.py"))
    assert "os.environ" not in source and "getenv" not in source
    assert not re.search(r"(?<![.\w])open\(", source)  # Image.open on in-memory bytes is fine

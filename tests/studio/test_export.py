"""`tint export`: a revision, or a batch, as layered files (PSD read back with psd-tools, OpenRaster as zip +
XML) whose layers hold exactly the revision's images; run as a user runs it, on the embedded default."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
import pytest
from commands import run_tint, tint_env
from psd_tools import PSDImage

from pipeline.images import decode_image, encode_png

SAMPLES = Path(__file__).resolve().parents[2] / "studio" / "samples"
NAMES = ("baby", "alien")


def tint(*args: str, home: Path) -> subprocess.CompletedProcess:
    return run_tint(*args, env=tint_env(home))


def _revisions(home: Path) -> dict[str, int]:
    """Drawing file name -> its latest revision id, read from the home's database."""
    import sqlalchemy as sa

    latest = "SELECT d.name, max(r.id) FROM drawing d JOIN revision r ON r.drawing_id = d.id GROUP BY d.name"
    engine = sa.create_engine(f"sqlite:///{home / 'tint.db'}")
    with engine.connect() as conn:
        rows = conn.execute(sa.text(latest)).all()
    engine.dispose()
    return dict(rows)


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    """Batch 1 of the baby and alien samples, colorized: (home, drawing file name -> revision id)."""
    root = tmp_path_factory.mktemp("export")
    lines = []
    for name in NAMES:
        for suffix in ("_line.png", "_hints.json"):
            shutil.copy(SAMPLES / f"{name}{suffix}", root / f"{name}{suffix}")
        lines.append(f"  - {{line: {name}_line.png, character: {name}, hints: {name}_hints.json}}")
    (root / "batch.yaml").write_text("name: export\ndrawings:\n" + "\n".join(lines) + "\n")
    home = root / "home"
    run = tint("submit", str(root / "batch.yaml"), "--wait", home=home)
    assert run.returncode == 0, run.stderr
    return home, _revisions(home)


def _stored(home: Path, revision_id: int) -> dict[str, np.ndarray]:
    """The revision's images as stored, decoded (RGBA), by role."""
    from db.models import Revision
    from workers.context import make_context
    from workers.settings import Settings

    ctx = make_context(Settings(home=home))
    with ctx.sessions() as session:
        assets = dict(session.get(Revision, revision_id).assets)
    images = {
        role: decode_image(ctx.storage.get(assets[role]))
        for role in ("colored", "flats", "lines", "trace_lines")
        if role in assets
    }
    ctx.engine.dispose()
    return images


def _blocks(home: Path, revision_id: int, out: Path) -> np.ndarray:
    """blocks.png as `tint blockify --revision` writes it, RGBA."""
    run = tint("blockify", "--revision", str(revision_id), "-o", str(out), home=home)
    assert run.returncode == 0, run.stderr
    return decode_image((out / "blocks.png").read_bytes())


def test_export_writes_a_psd_whose_layers_are_the_revisions_images(batch, tmp_path):
    home, revisions = batch
    rev = revisions["baby_line.png"]
    run = tint("export", str(rev), "-o", str(tmp_path / "baby.psd"), home=home)
    assert run.returncode == 0, run.stderr
    assert f"revision {rev}" in run.stdout
    stored = _stored(home, rev)
    want = {**stored, "blocks": _blocks(home, rev, tmp_path / "blocks")}
    psd = PSDImage.open(tmp_path / "baby.psd")
    layers = list(reversed(list(psd)))  # top first
    assert [(layer.name, layer.visible) for layer in layers] == [
        ("lines", True),
        ("flats", True),
        ("colored", False),
        ("blocks", False),
    ]
    assert (psd.width, psd.height) == stored["colored"].shape[1::-1]
    for layer in layers:
        assert np.array_equal(np.asarray(layer.topil()), want[layer.name]), layer.name


def test_export_writes_an_ora_whose_layers_are_the_revisions_images(batch, tmp_path):
    home, revisions = batch
    rev = revisions["alien_line.png"]
    run = tint("export", str(rev), "--format", "ora", "-o", str(tmp_path / "alien.ora"), home=home)
    assert run.returncode == 0, run.stderr
    stored = _stored(home, rev)
    with zipfile.ZipFile(tmp_path / "alien.ora") as ora:
        assert ora.namelist()[0] == "mimetype" and ora.read("mimetype") == b"image/openraster"
        stack = ET.fromstring(ora.read("stack.xml")).find("stack")
        layers = {layer.get("name"): layer for layer in stack.findall("layer")}
        assert list(layers)[:2] == ["lines", "flats"]
        for role in ("lines", "flats", "colored"):
            pixels = decode_image(ora.read(layers[role].get("src")))
            assert np.array_equal(pixels, stored[role]), role
        assert layers["colored"].get("visibility") == "hidden"


def test_batch_export_writes_each_drawings_latest_revision(batch, tmp_path):
    home, revisions = batch
    baby = revisions["baby_line.png"]
    blocks = tint("blockify", "--revision", str(baby), "-o", str(tmp_path / "blocks"), home=home)
    assert blocks.returncode == 0, blocks.stderr
    recolor = tint("recolor", str(baby), "--set", "1=#2e7d32", "-o", str(tmp_path / "r2"), home=home)
    assert recolor.returncode == 0, recolor.stderr
    latest = _revisions(home)
    assert latest["baby_line.png"] > baby
    run = tint("export", "--batch", "1", "-o", str(tmp_path / "psd"), home=home)
    assert run.returncode == 0, run.stderr
    assert "2 PSD file(s)" in run.stdout
    written = sorted(p.name for p in (tmp_path / "psd").iterdir())
    assert written == sorted(
        [f"baby_line-r{latest['baby_line.png']}.psd", f"alien_line-r{latest['alien_line.png']}.psd"]
    )
    recolored = PSDImage.open(tmp_path / "psd" / f"baby_line-r{latest['baby_line.png']}.psd")
    flats = next(layer for layer in recolored if layer.name == "flats")
    assert np.array_equal(np.asarray(flats.topil()), _stored(home, latest["baby_line.png"])["flats"])


def test_a_trace_lines_asset_becomes_a_hidden_layer_under_the_lines(batch, tmp_path):
    from db.models import Revision
    from workers.context import make_context
    from workers.settings import Settings

    home, revisions = batch
    rev = revisions["alien_line.png"]
    ctx = make_context(Settings(home=home))
    with ctx.sessions() as session, session.begin():
        revision = session.get(Revision, rev)
        lines = decode_image(ctx.storage.get(revision.assets["lines"]))
        trace = np.zeros_like(lines)
        trace[..., 0], trace[..., 3] = 255, lines[..., 3]  # the ink's shape, in red
        revision.assets = {**revision.assets, "trace_lines": ctx.storage.put(encode_png(trace))}
    ctx.engine.dispose()
    run = tint("export", str(rev), "-o", str(tmp_path / "trace.psd"), home=home)
    assert run.returncode == 0, run.stderr
    layers = list(reversed(list(PSDImage.open(tmp_path / "trace.psd"))))
    assert [layer.name for layer in layers][:3] == ["lines", "trace lines", "flats"]
    assert not layers[1].visible
    assert np.array_equal(np.asarray(layers[1].topil()), trace)


@pytest.mark.parametrize(
    ("args", "status", "says"),
    [
        (["999", "-o", "x.psd"], 1, "revision 999 does not exist"),
        (["-o", "x.psd"], 1, "give either a REVISION id or --batch ID"),
        (["1", "--batch", "1", "-o", "x"], 1, "give either a REVISION id or --batch ID"),
        (["1"], 1, "give -o FILE"),
        (["1", "--format", "ora", "-o", "x.psd"], 1, "ends in .psd but --format is ora"),
        (["--batch", "99", "-o", "out"], 1, "batch 99 does not exist"),
        (["1", "--format", "tiff", "-o", "x.tiff"], 2, "tiff"),
    ],
)
def test_export_refuses_bad_requests_in_one_line(batch, tmp_path, args, status, says):
    home, _ = batch
    run = run_tint("export", *args, env=tint_env(home), cwd=tmp_path)
    assert run.returncode == status, run.stdout + run.stderr
    assert says in run.stderr
    if status == 1:
        assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
    assert not list(tmp_path.iterdir())

"""The layered files `tint export` writes, opened by real paint programs in batch mode: GIMP (the PSD, through
Script-Fu: load, merge the visible layers, save a PNG) and Krita (the OpenRaster file and the PSD,
`krita --export`, under a virtual X display). Each render, over white paper, must be the revision's
colored.png, and the paper around the drawing must stay transparent (the hidden opaque layers stay hidden).
Skips with the reason when the program is not installed (Debian: apt-get install gimp / krita xvfb).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from commands import run_tint, tint_env

from pipeline import over_white
from pipeline.images import decode_image

SAMPLES = Path(__file__).resolve().parents[2] / "studio" / "samples"
GIMP = shutil.which("gimp-console") or shutil.which("gimp")
KRITA, XVFB = shutil.which("krita"), shutil.which("xvfb-run")


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> dict[str, Path]:
    """The baby sample colorized, and its revision exported as PSD and ORA; paths by name."""
    root = tmp_path_factory.mktemp("paint")
    env = tint_env(root / "home")
    line, hints = SAMPLES / "baby_line.png", SAMPLES / "baby_hints.json"
    run = run_tint("colorize", str(line), "--hints", str(hints), "-o", str(root / "out"), env=env)
    assert run.returncode == 0, run.stderr
    for fmt in ("psd", "ora"):
        run = run_tint("export", "1", "-o", str(root / f"baby.{fmt}"), env=env)
        assert run.returncode == 0, run.stderr
    return {
        "root": root,
        "colored": root / "out" / "colored.png",
        "psd": root / "baby.psd",
        "ora": root / "baby.ora",
    }


def _program_env(root: Path) -> dict:
    """A fresh profile: the programs write their settings under HOME, never the user's."""
    home = root / "profile"
    home.mkdir(exist_ok=True)
    return {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}


def _check_render(render: Path, colored: Path) -> None:
    pixels = decode_image(render.read_bytes())
    assert np.array_equal(over_white(pixels), decode_image(colored.read_bytes())[..., :3])
    assert pixels[..., 3].min() == 0  # paper: hidden `colored` and `blocks` are opaque there


@pytest.mark.skipif(GIMP is None, reason="GIMP is not installed (Debian: apt-get install -y gimp)")
def test_gimp_renders_the_psd_as_the_colored_image(exported):
    root, out = exported["root"], exported["root"] / "gimp.png"
    script = f"""
      (let* ((image (car (gimp-file-load RUN-NONINTERACTIVE "{exported["psd"]}" "baby.psd")))
             (layers (vector->list (cadr (gimp-image-get-layers image))))
             (names (map (lambda (layer) (car (gimp-item-get-name layer))) layers))
             (merged (car (gimp-image-merge-visible-layers image CLIP-TO-IMAGE))))
        (gimp-message (string-append "layers:" (apply string-append
          (map (lambda (name) (string-append " [" name "]")) names))))
        (file-png-save-defaults RUN-NONINTERACTIVE image merged "{out}" "gimp.png")
        (gimp-quit 0))
    """
    run = subprocess.run(
        [GIMP, "-i", "-d", "-f", "-b", script],
        env=_program_env(root),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.is_file(), run.stdout + run.stderr
    assert "layers: [lines] [flats] [colored] [blocks]" in run.stdout + run.stderr
    _check_render(out, exported["colored"])


@pytest.mark.skipif(
    KRITA is None or XVFB is None, reason="Krita or xvfb-run is not installed (apt-get install -y krita xvfb)"
)
@pytest.mark.parametrize("fmt", ["ora", "psd"])
def test_krita_renders_the_file_as_the_colored_image(exported, fmt):
    root, out = exported["root"], exported["root"] / f"krita-{fmt}.png"
    command = [XVFB, "-a", KRITA, str(exported[fmt]), "--export", "--export-filename", str(out)]
    run = subprocess.run(command, env=_program_env(root), capture_output=True, text=True, timeout=180)
    assert out.is_file(), run.stdout + run.stderr
    _check_render(out, exported["colored"])

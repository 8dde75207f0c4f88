"""The colorization model: shipped weights load, outputs have the documented shape, hints stay exact."""

import numpy as np
import torch
from synthetic_drawings import as_drawing, rectangle

from pipeline.colorize import colorize
from pipeline.hints import hints_from_json
from pipeline.models import colorizer as colorizer_model
from pipeline.models.colorizer import (
    Colorizer,
    ColorizerConfig,
    ColorizerNet,
)


def _drawing(width: int = 140, height: int = 100) -> np.ndarray:
    paper = np.full((height, width), 255, np.uint8)
    paper = rectangle(paper, x0=10, y0=10, x1=60, y1=80)
    paper = rectangle(paper, x0=70, y0=20, x1=130, y1=90, thickness=3)
    return as_drawing(paper)


class NoiseNet(ColorizerNet):
    """A colorizer net that ignores its input and outputs uniform noise."""

    def forward(self, x, target=None, weight=None):
        b, _, h, w = x.shape
        return torch.rand(b, self.config.out_channels, h, w), None


def test_shipped_colorizer_loads_and_outputs_documented_shape():
    model = colorizer_model.load(device="cpu")
    assert model.version.startswith("colorizer-") and len(model.version) == len("colorizer-") + 12
    drawing = _drawing()
    result = colorize(drawing, hints_from_json({"points": []}, width=140, height=100))
    out = model.predict(drawing, result.regions, {})
    assert out.shape == (100, 140, 4) and out.dtype == np.float32
    assert 0 <= out[..., :3].min() and out[..., :3].max() <= 1
    colors = model.fill_unhinted(drawing, result.regions, {1: (200, 30, 30)})
    assert set(colors) == set(range(2, int(result.regions.max()) + 1))
    assert all(len(c) == 3 and all(0 <= v <= 255 for v in c) for c in colors.values())


def test_hinted_regions_stay_exact_whatever_the_model_outputs():
    torch.manual_seed(0)
    noise = Colorizer(NoiseNet(ColorizerConfig()), device=torch.device("cpu"), version="noise")
    drawing = _drawing()
    prompt = {"points": [{"x": 30, "y": 40, "color": "#d23c3c"}, {"x": 100, "y": 50, "color": "#3c6fd2"}]}
    hints = hints_from_json(prompt, width=140, height=100)
    result = colorize(drawing, hints, fill_unhinted=noise.fill_unhinted)
    assert result.proof["hint_adherence"] == 1.0 and result.proof["hinted_regions"] == 2
    assert (result.flats[result.regions == result.regions[40, 30]] == (0xD2, 0x3C, 0x3C)).all()
    assert (result.flats[result.regions == result.regions[50, 100]] == (0x3C, 0x6F, 0xD2)).all()
    for rid in np.unique(result.regions[result.regions > 0]):  # flat style: one color per region
        assert len(np.unique(result.flats[result.regions == rid], axis=0)) == 1


def test_saved_colorizer_loads_back_the_same(tmp_path):
    torch.manual_seed(0)
    net = ColorizerNet(ColorizerConfig(widths=(8, 16), patch=2, model_size=64))
    colorizer_model.save(net, tmp_path / "c.safetensors")
    loaded = colorizer_model.load(tmp_path / "c.safetensors", device="cpu")
    assert loaded.config == net.config
    x = torch.rand(1, 6, 64, 64)
    with torch.no_grad():  # the loaded net has its BatchNorms folded into the convs
        assert torch.allclose(net.eval()(x)[0], loaded.net(x)[0], atol=1e-5)


def test_shaded_fills_keep_each_region_mean_on_its_color():
    torch.manual_seed(0)
    noise = Colorizer(NoiseNet(ColorizerConfig()), device=torch.device("cpu"), version="noise")
    drawing = _drawing()
    result = colorize(drawing, hints_from_json({"points": []}, width=140, height=100))
    colors = {rid: (120, 90, 200) for rid in range(1, int(result.regions.max()) + 1)}
    shaded = noise.shade(drawing, result.regions, colors, {})
    assert shaded.shape == (100, 140, 3) and shaded.dtype == np.uint8
    for rid in colors:
        pixels = shaded[result.regions == rid].astype(float)
        assert pixels.std(axis=0).max() > 0  # the model's shading is kept
        assert np.abs(pixels.mean(axis=0) - colors[rid]).max() < 1.0  # the mean stays on the color

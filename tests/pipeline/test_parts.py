"""The part segmentation model: shipped weights load and give the documented shapes; training runs."""

import json

import numpy as np
import pytest
from safetensors import safe_open

from pipeline.models import parts as parts_model
from pipeline.models.parts import (
    PART_NAMES,
    SHIPPED_PARTS,
    PartsConfig,
    region_parts,
)
from pipeline.train import parts as parts_training
from pipeline.train.characters import PARTS, make_character
from pipeline.train.parts import part_iou

shipped = pytest.mark.skipif(not SHIPPED_PARTS.exists(), reason="parts weights not shipped yet")


def test_part_names_match_training_labels() -> None:
    assert tuple(PARTS) == PART_NAMES
    assert len(PART_NAMES) == 10


@shipped
def test_shipped_model_loads_and_gives_documented_shapes() -> None:
    assert SHIPPED_PARTS.stat().st_size < 10 * 1024 * 1024
    model = parts_model.load(None, device="cpu")
    assert model.version.startswith("parts-")
    assert sum(p.numel() for p in model.net.parameters()) <= 1_000_000
    drawing = make_character(seed=5, size=256).drawing
    for h, w in ((256, 256), (200, 330)):
        image = np.ascontiguousarray(drawing[:h, : min(w, 256)])
        image = np.pad(image, ((0, 0), (0, w - image.shape[1]), (0, 0)), constant_values=255)
        prob = model.probabilities(image)
        assert prob.shape == (h, w, len(PART_NAMES)) and prob.dtype == np.float32
        assert np.allclose(prob.sum(axis=2), 1, atol=1e-3)
        part_map = model.part_map(image)
        assert part_map.shape == (h, w) and part_map.dtype == np.uint8
        assert part_map.max() < len(PART_NAMES)
    with safe_open(str(SHIPPED_PARTS), framework="pt") as f:
        meta = f.metadata()
    assert json.loads(meta["parts"]) == list(PART_NAMES)


@shipped
def test_shipped_model_finds_the_big_parts() -> None:
    model = parts_model.load(None, device="cpu")
    total = np.zeros((len(PART_NAMES), 2), np.int64)
    for seed in range(3):
        c = make_character(seed=424242 * 100_003 + seed)
        total += part_iou(model.part_map(c.drawing), c.parts)
    iou = total[:, 0] / np.maximum(total[:, 1], 1)
    assert iou[PART_NAMES.index("background")] > 0.8
    assert iou[PART_NAMES.index("skin")] > 0.4


def test_region_parts_majority() -> None:
    regions = np.array([[1, 1, 1, 0, 2], [1, 1, 0, 0, 2]], np.int32)
    parts = np.array([[3, 3, 2, 9, 6], [3, 2, 9, 9, 7]], np.uint8)
    assert region_parts(regions, parts) == {1: 3, 2: 6}


def test_part_iou_counts() -> None:
    truth = np.array([[0, 1], [1, 2]])
    pred = np.array([[0, 1], [2, 2]])
    counts = part_iou(pred, truth, parts=3)
    assert counts.tolist() == [[1, 1], [1, 2], [1, 2]]


def test_training_runs_and_writes_loadable_weights(tmp_path) -> None:
    cfg = parts_training.TrainConfig(
        out=str(tmp_path),
        steps=2,
        batch=2,
        characters=3,
        size=64,
        log_every=1,
        model=PartsConfig(widths=(8, 16), model_size=64),
    )
    result = parts_training.train(cfg, log=lambda _: None)
    assert result.steps == 2 and np.isfinite(result.train_loss)
    model = parts_model.load(result.weights, device="cpu")
    assert model.part_map(make_character(seed=1, size=64).drawing).shape == (64, 64)
    assert (tmp_path / "losses.jsonl").read_text().count("\n") == 2

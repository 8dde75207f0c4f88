"""The part segmentation model: shipped weights load and give the documented shapes; training runs."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
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
from pipeline.train.parts_real import IGNORE, load_real_parts, mask_lines, real_part_loss

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


REAL_LABELS = Path(__file__).resolve().parents[1] / "data" / "openmoji-parts"
REAL_DATA = Path(__file__).resolve().parents[1] / "data" / "openmoji"
SKIN, HAIR = PART_NAMES.index("skin"), PART_NAMES.index("hair")


def test_load_real_parts_reads_labels_beside_the_line_drawings() -> None:
    names, inks, labels = load_real_parts(REAL_LABELS, REAL_DATA, size=64)
    assert sorted(names) == ["1F468-200D-1FAA9", "1F476"]
    assert inks.shape == labels.shape == (2, 64, 64) and inks.dtype == labels.dtype == np.uint8
    assert set(np.unique(labels)) <= {0, SKIN, HAIR} and (labels == SKIN).any()
    assert inks.max() > 200  # the artists' lines are there
    masked, line = mask_lines(inks[0], labels[0]), inks[0] > 127  # ink above half: a line pixel
    assert line.any() and (masked[line] == IGNORE).all()
    assert (masked[~line] == labels[0][~line]).all()


def test_real_part_loss_supervises_only_skin_hair_and_other() -> None:
    torch.manual_seed(0)
    logits = torch.randn(1, len(PART_NAMES), 4, 4)
    labels = torch.tensor([[[0, 0, SKIN, HAIR]] * 3 + [[IGNORE] * 4]])
    base = real_part_loss(logits, labels)
    # which of the unlabelled parts an "other" pixel takes is not supervised: shuffle them, same loss
    rest = [k for k in range(len(PART_NAMES)) if k not in (SKIN, HAIR)]
    shuffled = logits.clone()
    shuffled[:, rest] = logits[:, rest[::-1]]
    assert torch.allclose(real_part_loss(shuffled, labels), base)
    # ignored pixels count for nothing
    noisy = logits.clone()
    noisy[:, :, 3] = torch.randn(len(PART_NAMES), 4) * 10
    assert torch.allclose(real_part_loss(noisy, labels), base)
    # more skin on an "other" pixel costs; more skin on a skin pixel helps
    worse, better = logits.clone(), logits.clone()
    worse[0, SKIN, 0, 0] += 3
    better[0, SKIN, 0, 2] += 3
    assert real_part_loss(worse, labels) > base > real_part_loss(better, labels)
    # confident and right: near zero
    right = torch.full_like(logits, -20.0)
    right[0, 0, :, :2], right[0, SKIN, :, 2], right[0, HAIR, :, 3] = 20.0, 20.0, 20.0
    assert float(real_part_loss(right, labels)) < 1e-6
    assert float(real_part_loss(logits, torch.full_like(labels, IGNORE))) == 0.0


def test_training_with_real_labels_fine_tunes_given_weights(tmp_path) -> None:
    small = {"steps": 2, "batch": 2, "characters": 3, "size": 64, "log_every": 1}
    model = PartsConfig(widths=(8, 16), model_size=64)
    first = parts_training.train(
        parts_training.TrainConfig(out=str(tmp_path / "a"), **small, model=model), log=lambda _: None
    )
    lines: list[str] = []
    cfg = parts_training.TrainConfig(
        out=str(tmp_path / "b"), **small, model=model, init=first.weights,
        real_labels=str(REAL_LABELS), real_data=str(REAL_DATA), real_batch=2,
    )  # fmt: skip
    result = parts_training.train(cfg, log=lines.append)
    assert result.steps == 2 and np.isfinite(result.train_loss)
    records = [json.loads(r) for r in (tmp_path / "b" / "losses.jsonl").read_text().splitlines()]
    assert all(np.isfinite(r["real"]) and r["real"] > 0 and np.isfinite(r["generated"]) for r in records)
    assert any("real labels: 2 train" in line for line in lines)
    assert parts_model.load(result.weights, device="cpu").part_map(
        make_character(seed=1, size=64).drawing
    ).shape == (64, 64)
    with pytest.raises(ValueError, match="config"):
        parts_training.train(
            parts_training.TrainConfig(out=str(tmp_path / "c"), **small, init=first.weights),
            log=lambda _: None,
        )

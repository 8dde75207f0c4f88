"""The partition model: shipped weights load and give the documented outputs; blockify uses them;
degradations are seeded and keep sizes; training targets mark lines and color edges."""

import numpy as np
import pytest
import torch

from pipeline import blockify
from pipeline.color import delta_e2000, rgb_to_lab
from pipeline.models import WEIGHTS, partition
from pipeline.train.degrade import degrade_seeded
from pipeline.train.partition import boundary_target


@pytest.fixture(scope="module")
def model() -> partition.PartitionNet:
    torch.set_num_threads(1)
    return partition.load(None, device="cpu")


def two_color_image() -> np.ndarray:
    """(96, 128, 3): a red and a blue half split by a black 4 px line, on white with a black frame."""
    image = np.full((96, 128, 3), 255, np.uint8)
    image[8:88, 8:64] = (210, 60, 60)
    image[8:88, 64:120] = (60, 110, 210)
    image[8:88, 62:66] = 0
    for y0, y1, x0, x1 in ((6, 10, 6, 122), (86, 90, 6, 122), (6, 90, 6, 10), (6, 90, 118, 122)):
        image[y0:y1, x0:x1] = 0
    return image


def test_shipped_weights_are_small_and_carry_config_and_card():
    assert partition.DEFAULT_WEIGHTS.stat().st_size < 10 * 2**20
    card = partition.read_card(partition.DEFAULT_WEIGHTS)
    assert card["model"] == "partition" and card["steps"] > 0 and "final_val_loss" in card


def test_shipped_model_gives_documented_output_shapes(model):
    image = two_color_image()
    maps = partition.predict(model, image)
    assert maps.boundary.shape == (96, 128) and maps.boundary.dtype == np.float32
    assert maps.flat.shape == (96, 128, 3) and maps.flat.dtype == np.float32
    assert 0.0 <= maps.boundary.min() and maps.boundary.max() <= 1.0
    out, loss = model(torch.zeros(2, 3, 64, 64))
    assert out.shape == (2, 4, 64, 64) and loss is None


def test_blockify_with_model_covers_every_pixel_and_finds_the_flat_colors(model):
    image = two_color_image()
    result = blockify(image, model=model)
    assert result.labels.shape == (96, 128) and result.labels.dtype == np.int32
    assert result.labels.min() == 1 and set(np.unique(result.labels)) == {b.id for b in result.table}
    assert result.labels[48, 30] != result.labels[48, 100]
    for (y, x), want in (((48, 30), (210, 60, 60)), ((48, 100), (60, 110, 210))):
        got = result.blocks[y, x].astype(float)
        assert float(delta_e2000(rgb_to_lab(got), rgb_to_lab(np.array(want, float)))) < 3.0


def test_load_rejects_weights_without_a_config(tmp_path):
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(1)}, str(tmp_path / "bare.safetensors"))
    with pytest.raises(ValueError, match="no model config"):
        partition.load(tmp_path / "bare.safetensors", device="cpu")


def test_every_model_loads_by_one_convention_with_a_version_and_a_card_beside_it():
    from pipeline.models import colorizer, parts

    for module, name in ((colorizer, "colorizer"), (parts, "parts"), (partition, "partition")):
        model = module.load(None, device="cpu")
        assert model.version.startswith(f"{name}-") and len(model.version) == len(name) + 13
        assert (WEIGHTS / f"{name}.safetensors").is_file() and (WEIGHTS / f"{name}.md").is_file()


def test_degradation_is_seeded_and_keeps_the_image_shape():
    image = two_color_image()
    labels = np.ones(image.shape[:2], np.int32)
    labels[8:88, 8:64], labels[8:88, 64:120] = 2, 3
    a = degrade_seeded(image, labels=labels, seed=3)
    assert a.shape == image.shape and a.dtype == np.uint8
    assert np.array_equal(a, degrade_seeded(image, labels=labels, seed=3))
    assert not np.array_equal(a, image)


def test_boundary_target_marks_lines_and_both_sides_of_color_edges():
    regions = np.array([[1, 1, 2, 2], [1, 0, 0, 2], [3, 3, 3, 3]], np.int32)
    target = boundary_target(regions)
    assert target[1, 1] == 1 and target[1, 2] == 1  # line pixels
    assert target[0, 1] == 1 and target[0, 2] == 1  # the 1|2 edge, both sides
    assert target[0, 0] == 0


def test_same_colored_blocks_merge_only_across_an_open_seam():
    from pipeline.blockify import merge_equal_blocks

    rgb = np.full((20, 40, 3), 240, np.uint8)
    labels = np.ones((20, 40), np.int32)
    labels[:, 20:] = 2
    colors = np.array([[0, 0, 0], [240, 240, 240], [240, 240, 240]], np.uint8)
    assert merge_equal_blocks(labels, rgb=rgb, colors=colors).max() == 1  # no line: one block
    rgb[:, 18:22] = 0  # a line along the seam: two white regions stay apart
    assert merge_equal_blocks(labels, rgb=rgb, colors=colors).max() == 2


def test_flat_image_blocks_split_along_exact_color_edges_without_a_line():
    from pipeline.blockify import split_flat_pieces

    rgb = np.full((40, 60, 3), 250, np.uint8)
    rgb[:, 30:] = (40, 120, 200)  # two flat colors meet with no line between them
    labels = np.ones((40, 60), np.int32)  # ...but the model saw one block
    core = np.ones((40, 60), bool)
    split = split_flat_pieces(labels, rgb=rgb, core=core)
    assert split.max() == 2 and split[20, 10] != split[20, 50]
    assert (split[:, :30] == split[0, 0]).all() and (split[:, 30:] == split[0, 59]).all()


def test_noisy_image_blocks_are_not_split_by_exact_colors():
    from pipeline.blockify import split_flat_pieces

    rng = np.random.default_rng(3)
    rgb = np.full((40, 60, 3), 250, np.uint8)
    rgb[:, 30:] = (40, 120, 200)
    rgb = np.clip(rgb.astype(int) + rng.integers(-6, 7, rgb.shape), 0, 255).astype(np.uint8)
    labels = np.ones((40, 60), np.int32)
    assert split_flat_pieces(labels, rgb=rgb, core=np.ones((40, 60), bool)).max() == 1

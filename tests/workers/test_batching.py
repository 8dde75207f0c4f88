"""Micro-batching: inputs from many threads share forward passes; results and failures stay per input."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from workers.batching import MicroBatcher


def test_concurrent_inputs_share_batches_and_each_gets_its_own_result():
    sizes: list[int] = []
    gate = threading.Barrier(8)

    def double(batch: np.ndarray) -> np.ndarray:
        return batch * 2

    batcher = MicroBatcher(double, max_batch=4, wait_ms=500, on_batch=sizes.append)

    def one(i: int) -> np.ndarray:
        gate.wait()
        return batcher(np.full((1, 2, 2), i, np.float32))

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(8)))
    for i, out in enumerate(results):
        assert out.shape == (1, 2, 2) and (out == 2 * i).all()
    assert sum(sizes) == 8 and max(sizes) <= 4 and max(sizes) > 1


def test_inputs_of_different_shapes_never_share_a_batch():
    shapes: list[tuple] = []

    def record(batch: np.ndarray) -> np.ndarray:
        shapes.append(batch.shape)
        return batch + 1

    batcher = MicroBatcher(record, max_batch=8, wait_ms=200)
    inputs = [np.zeros((1, 4, 4)), np.zeros((1, 8, 8)), np.zeros((1, 4, 4)), np.zeros((1, 8, 8))]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(batcher, inputs))
    assert [r.shape for r in results] == [x.shape for x in inputs]
    assert all((r == 1).all() for r in results)
    assert {s[1:] for s in shapes} == {(1, 4, 4), (1, 8, 8)}


def test_a_bad_input_fails_alone_and_the_rest_of_its_batch_succeeds():
    def refuse_negative(batch: np.ndarray) -> np.ndarray:
        if (batch < 0).any():
            raise ValueError("negative input")
        return batch

    batcher = MicroBatcher(refuse_negative, max_batch=4, wait_ms=300)
    gate = threading.Barrier(4)

    def one(value: float) -> np.ndarray:
        gate.wait()
        return batcher(np.full((1, 1, 1), value))

    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(one, v) for v in (1.0, -1.0, 2.0, 3.0)]
    assert futures[0].result()[0, 0, 0] == 1.0 and futures[3].result()[0, 0, 0] == 3.0
    with pytest.raises(ValueError, match="negative input"):
        futures[1].result()


def test_batched_colorizer_gives_the_same_colors_as_one_at_a_time(data_dir):
    import torch

    from pipeline.images import decode_image
    from pipeline.models import colorizer as colorizer_model
    from pipeline.prompts import drawing_regions

    torch.set_num_threads(1)
    alone = colorizer_model.load(None, device="cpu")
    batched = colorizer_model.load(None, device="cpu")
    batched.runner = MicroBatcher(batched.forward_batch, max_batch=3, wait_ms=300)
    names = ["1F301", "1F306", "1F307"]
    cases = []
    for name in names:
        drawing = decode_image((data_dir / "test" / f"{name}_line.png").read_bytes(), name=name)
        regions = drawing_regions(drawing)
        cases.append((drawing, regions, {1: (255, 255, 255)}))
    with ThreadPoolExecutor(3) as pool:
        together = list(pool.map(lambda c: batched.fill_unhinted(*c), cases))
    for case, got in zip(cases, together, strict=True):
        assert got == alone.fill_unhinted(*case)

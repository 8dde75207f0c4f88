"""The colorizer's forward pass against batch size, and the bare pipeline, on CPU or a GPU; no services.

    python bench/model_batch.py                          # CPU here: 1 thread, as a worker process runs
    TINT_DEVICE=cuda python bench/model_batch.py --batch 1,4,8,16,32

What `tint worker --batch N` buys on a device, without Redis, PostgreSQL or S3 (so it runs on a GPU machine
that has none): real test drawings at 512 px, half their regions hinted (`--hinted`), are prepared as the
worker prepares them (`Colorizer.prepare`: the net's input at its 256 px resolution), then run through
`Colorizer.forward_batch` N at a time. Per N it prints ms per drawing (median of `--repeat` passes over all
drawings), drawings/s, the speed-up over N = 1 and, on CUDA, the peak GPU memory. It also times
`pipeline.colorize` per drawing with the model on the device (the denominator of bench/throughput.py's
ratios) and how much of it the forward pass is. On CPU the torch and OpenCV threads are 1, as in a worker
(workers/models.py); `--threads` changes that. It imports only `pipeline` (torch, OpenCV, NumPy, Pillow,
safetensors), so it runs in a plain PyTorch environment with the repository and ../shared/data beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from openmoji import hinted_points  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "openmoji"

__all__ = ["main"]


def _drawings(data: Path, count: int, hinted: float) -> list[tuple[np.ndarray, dict]]:
    """(RGBA drawing, hint prompt) of `count` test drawings, an evenly spread `hinted` share of regions."""
    from pipeline.images import decode_image

    items = [it for it in json.loads((data / "index.json").read_text())["items"] if it["split"] == "test"]
    out = []
    for item in items[:count]:
        drawing = decode_image((data / "test" / f"{item['name']}_line.png").read_bytes(), name=item["name"])
        out.append((drawing, hinted_points(item, hinted)))
    return out


def _sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=os.environ.get("TINT_DEVICE", "auto"), help="auto, cpu or cuda")
    parser.add_argument("--drawings", type=int, default=64, help="test drawings to run (default 64)")
    parser.add_argument("--batch", default="1,2,4,8,16", help="batch sizes, comma-separated")
    parser.add_argument("--hinted", type=float, default=0.5, help="share of regions hinted (default 0.5)")
    parser.add_argument("--repeat", type=int, default=3, help="passes over the drawings per batch size")
    parser.add_argument("--threads", type=int, default=1, help="torch and OpenCV threads (default 1)")
    parser.add_argument("--data", type=Path, default=DATA, help=f"the OpenMoji data folder (default {DATA})")
    args = parser.parse_args()

    import cv2
    import torch

    import pipeline
    from pipeline.hints import hints_from_json
    from pipeline.models import colorizer as colorizer_model

    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    model = colorizer_model.load(None, device=args.device)
    device = str(model.device)
    cuda = device.startswith("cuda")
    name = torch.cuda.get_device_name(model.device) if cuda else f"CPU, {args.threads} thread(s)"
    cases = _drawings(args.data, args.drawings, args.hinted)
    print(f"colorizer {model.version} on {device} ({name}); {len(cases)} drawings, {args.hinted:.0%} hinted")

    # the bare pipeline per drawing, model on the device (one warm-up call first)
    kwargs = {"fill_unhinted": model.fill_unhinted}  # gap and min area: colorize's defaults, a worker's too
    prepared, pipe_ms, fill_ms = [], [], []
    for i, (drawing, prompt) in enumerate(cases):
        hints = hints_from_json(prompt, width=drawing.shape[1], height=drawing.shape[0])
        if i == 0:
            pipeline.colorize(drawing, hints, **kwargs)
        t0 = time.perf_counter()
        result = pipeline.colorize(drawing, hints, **kwargs)
        _sync(device)
        pipe_ms.append((time.perf_counter() - t0) * 1000)
        fill_ms.append(result.timings["fill"])
        prepared.append(model.prepare(drawing, result.regions, dict(result.hinted)))
    shapes = {x.shape for x in prepared}
    if len(shapes) != 1:
        raise SystemExit(f"error: the drawings prepare to {len(shapes)} shapes; use drawings of one size.")
    inputs = np.stack(prepared)
    print(
        f"\npipeline.colorize per drawing: {statistics.median(pipe_ms):.1f} ms median "
        f"(fill stage, the model's forward pass included: {statistics.median(fill_ms):.1f} ms)"
    )

    rows = []
    for size in [int(b) for b in args.batch.split(",") if b]:
        model.forward_batch(inputs[:size])  # warm-up (CUDA kernels, allocator)
        if cuda:
            torch.cuda.reset_peak_memory_stats(model.device)
        passes = []
        for _ in range(args.repeat):
            _sync(device)
            t0 = time.perf_counter()
            for start in range(0, len(inputs), size):
                model.forward_batch(inputs[start : start + size])
            _sync(device)
            passes.append((time.perf_counter() - t0) * 1000 / len(inputs))
        peak = torch.cuda.max_memory_allocated(model.device) / 2**20 if cuda else None
        rows.append((size, statistics.median(passes), peak))

    base = rows[0][1]
    print(f"\nforward pass by batch size ({inputs.shape[1]}x{inputs.shape[2]}x{inputs.shape[3]} inputs)")
    print("| batch | ms per drawing | drawings/s | speed-up over batch " + f"{rows[0][0]} | peak GPU MiB |")
    print("|---:|---:|---:|---:|---:|")
    for size, ms, peak in rows:
        mem = f"{peak:.0f}" if peak is not None else "—"
        print(f"| {size} | {ms:.2f} | {1000 / ms:.1f} | {base / ms:.2f} | {mem} |")


if __name__ == "__main__":
    main()

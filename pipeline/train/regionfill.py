"""Train the region-level colorizer (pipeline/models/regionfill.py) on real flat-colored line art.

Data: folders in the layout of ../shared/data/openmoji (index.json; `{split}/{name}_line.png`, `_flat.png`),
e.g. OpenMoji and the sources `python -m pipeline.train.sources` builds. For each drawing, Tint's own region
engine finds the regions (as a job would), each region's truth is the most common true flat color in it,
and a few seeded draws hint a random share (0-70%) of the regions with their true color. Every unhinted
region that is not the paper around the drawing gives one example: its candidates' feature rows and the
index of the candidate nearest its true color (regions whose truth no candidate comes within ΔE2000 10 of
are left out: no candidate could be right). The prior palette is k-means (CIELAB) of the training regions'
true colors. The MLP is trained with softmax cross-entropy over each region's candidates (torch, CPU).

    python -m pipeline.train.regionfill --data ../shared/data/openmoji --data ~/.cache/tint/sources/noto \
        --out weights.safetensors --budget-s 600

`--generated N` adds N generated cartoon characters, `--max-share` widens the hinted share and `--hidden`
sizes the net: measured in the model card, none is in the shipped recipe.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np

from pipeline.blockify import label_modes
from pipeline.color import delta_e2000, pack_rgb, rgb_to_lab, unpack_rgb
from pipeline.colorize import find_lines_and_regions, outside_regions
from pipeline.images import decode_image
from pipeline.models.regionfill import candidates, input_size
from pipeline.region_graph import region_graph
from pipeline.train.characters import make_character

__all__ = ["TrainConfig", "Examples", "build_examples", "learn_palette", "train", "main"]

GENERATED_SEED = 1  # generated characters use seeds GENERATED_SEED * 100003 + i (benches never do)
GENERATED_STYLES = ((), ("solid",), ("open",), ("pinch",))  # taken in turn
WITHIN = 10.0  # ΔE2000: a region is a usable example when some candidate comes this close to its truth


@dataclass(frozen=True)
class TrainConfig:
    """What to train on, for how long, and the net's shape."""

    data: tuple[Path, ...]
    out: Path
    split: str = "train"
    limit: int = 0  # drawings per data set (0 = all)
    draws: int = 3  # hint draws per drawing
    palette_size: int = 24
    hidden: tuple[int, ...] = (64, 32)
    budget_s: float = 600.0  # wall-clock training budget (building examples not counted)
    epochs: int = 60
    seed: int = 0
    generated: int = 0  # generated cartoon characters added to the real drawings (eyes, mouths, clothes)
    max_share: float = 0.7  # hints cover 0..max_share of a drawing's regions (a reference covers most)


@dataclass
class Examples:
    """Candidate rows of many regions: rows (R, D), each region's slice [start, end) and target index."""

    rows: list[np.ndarray] = field(default_factory=list)
    targets: list[int] = field(default_factory=list)


def _items(folder: Path, *, split: str, limit: int) -> list[dict]:
    items = [i for i in json.loads((folder / "index.json").read_text())["items"] if i["split"] == split]
    return items[:limit] if limit else items


def _drawing(folder: Path, item: dict) -> tuple[np.ndarray, np.ndarray]:
    """(drawing RGBA, true flat RGB) of one item."""
    base = folder / item["split"] / item["name"]
    grey = cv2.imread(f"{base}_line.png", cv2.IMREAD_GRAYSCALE)
    flat = decode_image(Path(f"{base}_flat.png").read_bytes())[..., :3]
    return cv2.cvtColor(grey, cv2.COLOR_GRAY2RGBA), flat


def region_truth(regions: np.ndarray, flat: np.ndarray) -> dict[int, tuple[int, int, int]]:
    """Each region's most common true flat color."""
    modes = label_modes(pack_rgb(flat), np.asarray(regions))
    return {rid: unpack_rgb(v) for rid, v in enumerate(modes.tolist()) if v >= 0}


def learn_palette(colors: np.ndarray, *, size: int, seed: int) -> np.ndarray:
    """(size, 3) uint8 prior colors: k-means in CIELAB of many true region colors (N, 3) uint8."""
    lab = rgb_to_lab(colors).astype(np.float32)
    cv2.setRNGSeed(seed)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 50, 0.1)
    _, labels, _ = cv2.kmeans(lab, size, None, criteria, 4, cv2.KMEANS_PP_CENTERS)
    # each prior is a real color of the data (the member nearest its centre), not an average
    out = []
    for k in range(size):
        members = colors[labels.ravel() == k]
        if len(members) == 0:
            continue
        uniq, counts = np.unique(members, axis=0, return_counts=True)
        out.append(uniq[np.argmax(counts)])
    return np.array(out, np.uint8)


def _prepare(drawing: np.ndarray, flat: np.ndarray) -> list[tuple]:
    """[(graph, truth, inner regions)] of one drawing as a job finds its regions; [] with under two inner
    regions (nothing to learn from)."""
    regions = find_lines_and_regions(drawing).regions
    truth = region_truth(regions, flat)
    outside = outside_regions(regions)
    inner = [rid for rid in sorted(truth) if rid not in outside]
    return [(region_graph(regions), truth, inner)] if len(inner) >= 2 else []


def build_examples(config: TrainConfig, *, palette: np.ndarray | None = None) -> tuple[Examples, np.ndarray]:
    """(examples, palette) from every drawing of config.data's split; the palette is learned when None."""
    rng = np.random.default_rng(config.seed)
    prepared = []
    t0 = time.perf_counter()
    for folder in config.data:
        items = _items(folder, split=config.split, limit=config.limit)
        for done, item in enumerate(items, start=1):
            prepared += _prepare(*_drawing(folder, item))
            if done % 200 == 0:
                print(
                    f"  {folder.name}: {done}/{len(items)} drawings, {time.perf_counter() - t0:.0f} s",
                    file=sys.stderr,
                )
    for i in range(config.generated):
        c = make_character(
            seed=GENERATED_SEED * 100_003 + i, size=256, styles=GENERATED_STYLES[i % len(GENERATED_STYLES)]
        )
        prepared += _prepare(c.drawing, c.flats)
    if not prepared:  # nothing to learn from: `train` says so
        return Examples(), np.zeros((0, 3), np.uint8) if palette is None else palette
    if palette is None:
        palette = learn_palette(
            np.array([c for _, truth, inner in prepared for c in (truth[r] for r in inner)], np.uint8),
            size=config.palette_size,
            seed=config.seed,
        )
    palette_lab = rgb_to_lab(palette)
    examples = Examples()
    for graph, truth, inner in prepared:
        for _ in range(config.draws):
            share = rng.uniform(0.0, config.max_share)
            chosen = rng.permutation(inner)[: int(round(share * len(inner)))]
            hinted = {int(r): truth[int(r)] for r in chosen}
            for rid in inner:
                if rid in hinted:
                    continue
                colors, rows = candidates(graph, rid, hinted, palette=palette, palette_lab=palette_lab)
                true_lab = rgb_to_lab(np.array([truth[rid]], np.uint8))
                de = delta_e2000(np.repeat(true_lab, len(colors), 0), rgb_to_lab(colors))
                if de.min() < WITHIN:
                    examples.rows.append(rows.astype(np.float32))
                    examples.targets.append(int(np.argmin(de)))
    return examples, palette


def _batches(examples: Examples, order: np.ndarray, size: int):
    """Padded (rows (B, M, D), mask (B, M), targets (B,)) mini-batches in `order`."""
    for start in range(0, len(order), size):
        pick = order[start : start + size]
        width = max(len(examples.rows[i]) for i in pick)
        depth = examples.rows[pick[0]].shape[1]
        rows = np.zeros((len(pick), width, depth), np.float32)
        mask = np.zeros((len(pick), width), bool)
        for j, i in enumerate(pick):
            rows[j, : len(examples.rows[i])] = examples.rows[i]
            mask[j, : len(examples.rows[i])] = True
        yield rows, mask, np.array([examples.targets[i] for i in pick])


def train(config: TrainConfig) -> dict:
    """Build examples, learn the palette, fit the MLP within the budget and save safetensors + metadata."""
    import torch
    from safetensors.numpy import save_file

    torch.manual_seed(config.seed)
    t0 = time.perf_counter()
    examples, palette = build_examples(config)
    built_s = time.perf_counter() - t0
    if not examples.targets:
        raise ValueError("no training examples: the data sets hold no drawings with two or more regions.")
    sizes = [input_size(len(palette)), *config.hidden, 1]
    net = torch.nn.Sequential(
        *[
            m
            for a, b in zip(sizes[:-1], sizes[1:], strict=True)
            for m in (torch.nn.Linear(a, b), torch.nn.ReLU())
        ][:-1]
    )
    optimizer = torch.optim.Adam(net.parameters(), lr=3e-3, weight_decay=1e-5)
    rng = np.random.default_rng(config.seed)
    n = len(examples.targets)
    held = rng.permutation(n)
    check, fit = held[: max(1, n // 20)], held[max(1, n // 20) :]
    t1 = time.perf_counter()
    history = []
    for epoch in range(config.epochs):
        net.train()
        total = 0.0
        for rows, mask, target in _batches(examples, rng.permutation(fit), 256):
            logits = net(torch.from_numpy(rows)).squeeze(-1).masked_fill(~torch.from_numpy(mask), -1e9)
            loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(target))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(target)
        net.eval()
        right = 0
        with torch.no_grad():
            for rows, mask, target in _batches(examples, check, 1024):
                logits = net(torch.from_numpy(rows)).squeeze(-1).masked_fill(~torch.from_numpy(mask), -1e9)
                right += int((logits.argmax(1).numpy() == target).sum())
        history.append({"epoch": epoch + 1, "loss": total / len(fit), "held_out_right": right / len(check)})
        print(
            f"  epoch {epoch + 1}: loss {total / len(fit):.4f}, held-out right {right / len(check):.3f}",
            file=sys.stderr,
        )
        if time.perf_counter() - t1 > config.budget_s:
            break
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    tensors = {"palette": palette}
    for i, layer in enumerate(linears):
        tensors[f"w{i}"] = layer.weight.detach().numpy().T.copy()
        tensors[f"b{i}"] = layer.bias.detach().numpy().copy()
    seconds = time.perf_counter() - t0
    meta = {
        "model": "regionfill",
        "config": json.dumps(
            {"layers": len(linears), "hidden": list(config.hidden), "palette": len(palette)}
        ),
        "data": json.dumps([str(p) for p in config.data]),
        "examples": str(n),
        "train_seconds": f"{seconds:.0f}",
        "history": json.dumps(history[-3:]),
    }
    config.out.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(config.out), metadata=meta)
    return {"examples": n, "build_s": built_s, "seconds": seconds, "epochs": len(history), **history[-1]}


def main(argv: list[str] | None = None) -> int:
    """Command line: train and print a one-line summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, action="append", required=True, help="a data set folder (repeat)"
    )
    parser.add_argument("--out", type=Path, required=True, help="where to write the .safetensors")
    parser.add_argument("--limit", type=int, default=0, help="drawings per data set (0 = all)")
    parser.add_argument("--budget-s", type=float, default=600.0, help="training seconds after the examples")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--generated", type=int, default=0, help="generated cartoon characters to add (256 px, four styles)"
    )
    parser.add_argument("--hidden", default="64,32", help="hidden layer widths, comma-separated")
    parser.add_argument(
        "--max-share", type=float, default=0.7, help="hints cover 0 to this share of a drawing's regions"
    )
    args = parser.parse_args(argv)
    config = TrainConfig(
        data=tuple(p.expanduser() for p in args.data),
        out=args.out,
        limit=args.limit,
        budget_s=args.budget_s,
        epochs=args.epochs,
        seed=args.seed,
        generated=args.generated,
        max_share=args.max_share,
        hidden=tuple(int(v) for v in args.hidden.split(",")),
    )
    summary = train(config)
    print(
        json.dumps(
            {
                "out": str(args.out),
                **summary,
                "config": asdict(config) | {"data": [str(p) for p in config.data], "out": str(config.out)},
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Fuzzing the parsers that take outside input: image bytes, hint JSON and manifests.

Whatever arrives, the answer is a value or a `BadInput`, never another exception (bounded: a few hundred
examples each, a few seconds)."""

from __future__ import annotations

import io
import json

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from pipeline.errors import BadInput
from pipeline.hints import hints_from_json
from pipeline.images import decode_image
from workers.manifest import read_manifest

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _png(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((height, width), 200, np.uint8)).save(buf, "PNG")
    return buf.getvalue()


SEED_IMAGES = [_png(16, 16), _png(3, 40)]


@FUZZ
@given(st.binary(max_size=2048))
def test_random_bytes_are_an_image_or_bad_input(data):
    try:
        out = decode_image(data, name="fuzz", max_pixels=1_000_000)
    except BadInput:
        return
    assert out.dtype == np.uint8 and out.ndim == 3 and out.shape[2] == 4


@FUZZ
@given(
    st.sampled_from(SEED_IMAGES), st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), max_size=8)
)
def test_mutated_pngs_are_an_image_or_bad_input(seed, edits):
    data = bytearray(seed)
    for pos, value in edits:
        data[pos % len(data)] = value
    try:
        out = decode_image(bytes(data), name="fuzz", max_pixels=1_000_000)
    except BadInput:
        return
    assert out.shape[2] == 4 and out.shape[0] * out.shape[1] <= 1_000_000


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.floats(allow_nan=True)
    | st.integers(-(10**6), 10**6)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=25,
)
hint_like = st.fixed_dictionaries(
    {},
    optional={
        "points": st.lists(
            st.dictionaries(st.sampled_from(["x", "y", "color", "z"]), json_values), max_size=4
        ),
        "strokes": st.lists(
            st.dictionaries(st.sampled_from(["points", "width", "color"]), json_values), max_size=3
        ),
    },
)


@FUZZ
@given(st.one_of(hint_like, st.dictionaries(st.text(max_size=8), json_values, max_size=4)))
def test_hint_json_is_hints_or_bad_input(prompt):
    try:
        hints = hints_from_json(prompt, width=32, height=24)
    except BadInput:
        return
    assert hints.mask.shape == (24, 32) and hints.rgb.shape == (24, 32, 3)


@FUZZ
@given(st.one_of(json_values, st.text(max_size=200)))
def test_manifest_text_is_read_or_bad_input(tmp_path, doc):
    path = tmp_path / "m.yaml"
    path.write_text(
        doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8", errors="surrogatepass"
    )
    try:
        read_manifest(path)
    except BadInput:
        return

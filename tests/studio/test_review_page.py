"""The review page in headless Chromium (Debian's `chromium`, driven by Playwright with the system browser):
open a batch, open a drawing, click a block, change its color, see the new revision appear, approve it,
and check the database; the batch list's progress bars and thumbnail strips, the batch page's character
filter and flagged drawings, and the layered file download. Set TINT_SAVE_SCREENSHOTS=1 to refresh
docs/screenshots/.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from db import auth_queries
from db.session import make_engine, make_sessionmaker, upgrade

CHROMIUM = Path("/usr/bin/chromium")
SAMPLES = Path(__file__).resolve().parents[2] / "studio" / "samples"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STAGE_PX = 384  # the page shows images at this size (review.css .stage)
NEW_COLOR = "#3c6fd2"

playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed; pip install playwright (no browser download)"
)
if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """`tint serve` on a free port with its own TINT_HOME; yields (base URL, lead token, home)."""
    home = tmp_path_factory.mktemp("serve")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TINT_")}
    env["TINT_HOME"] = str(home)
    # `tint token create` is tested in test_api; made in-process here to save a second CLI start-up.
    url = f"sqlite:///{home / 'tint.db'}"
    upgrade(url)
    engine = make_engine(url)
    with make_sessionmaker(engine).begin() as session:
        token = auth_queries.create_token(session, name="lea", role="lead")[1]
    engine.dispose()
    port = _free_port()
    log = (home / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "studio.cli", "serve", "--port", str(port)], env=env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/review", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail(f"tint serve did not answer: {(home / 'serve.log').read_text()}")
    yield base, token, home
    proc.terminate()
    proc.wait(20)
    log.close()


def _post_batch(base: str, token: str, files: list, *, done: int) -> int:
    """Submit a batch (multipart: manifest first) and wait until `done` jobs are done; its id."""
    auth = {"Authorization": f"Bearer {token}"}
    answer = httpx.post(f"{base}/api/batches", files=files, headers=auth, timeout=30)
    assert answer.status_code == 201, answer.text
    batch_id = answer.json()["id"]
    for _ in range(600):
        progress = httpx.get(f"{base}/api/batches/{batch_id}", headers=auth).json()["progress"]
        if progress["done"] == done:
            return batch_id
        assert progress["failed"] == 0, progress
        time.sleep(0.1)
    pytest.fail(f"batch {batch_id} did not finish: {progress}")


def _submit_two(base: str, token: str) -> int:
    manifest = (
        "name: browser\ndrawings:\n"
        "  - {line: baby_line.png, character: baby, hints: baby_hints.json}\n"
        "  - {line: alien_line.png, character: alien, hints: alien_hints.json}\n"
    )
    names = ["baby_line.png", "baby_hints.json", "alien_line.png", "alien_hints.json"]
    files = [("manifest", ("batch.yaml", manifest.encode()))]
    files += [("files", (n, (SAMPLES / n).read_bytes())) for n in names]
    return _post_batch(base, token, files, done=2)


def _inner_block(base: str, token: str, revision_id: int) -> dict:
    """The largest block not touching the border, with the page coordinates of its point."""
    table = httpx.get(
        f"{base}/api/revisions/{revision_id}/blocks", headers={"Authorization": f"Bearer {token}"}
    ).json()
    w, h = table["width"], table["height"]
    inner = [b for b in table["blocks"] if b["bbox"][0] > 0 and b["bbox"][1] > 0 and b["bbox"][2] < w - 1]
    block = max(inner, key=lambda b: b["area"])
    x, y = block["point"]
    return {**block, "page_xy": ((x + 0.5) * STAGE_PX / w, (y + 0.5) * STAGE_PX / h)}


def test_lead_recolors_a_block_and_approves_from_the_page(server, tmp_path):
    base, token, home = server
    batch_id = _submit_two(base, token)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{base}/review#/batch/{batch_id}")
        page.fill("#token-input", token)
        page.click("#login-form button")
        cards = page.locator("[data-testid=drawing-card]")
        cards.nth(1).wait_for()
        page.wait_for_function("[...document.querySelectorAll('.card img')].every(i => i.complete)")
        page.screenshot(path=str(tmp_path / "batch-view.png"))

        cards.first.click()
        page.locator("[data-testid=revision]").first.wait_for()
        first = int(page.locator("[data-testid=revision]").first.get_attribute("data-revision"))
        block = _inner_block(base, token, first)
        x, y = block["page_xy"]
        page.locator("#right-overlay").hover(position={"x": x, "y": y})
        page.locator("#right-overlay").click(position={"x": x, "y": y})
        page.locator("#recolor-form").wait_for(state="visible")
        assert f"picked block {block['id']}" in page.text_content("#block-info")
        page.fill("#block-color", NEW_COLOR)
        page.click("#recolor-button")

        page.locator("[data-testid=revision]").nth(1).wait_for(timeout=30_000)
        page.locator("[data-testid=diff-block]").first.wait_for()
        assert NEW_COLOR in page.text_content("#diff")
        page.mouse.move(5, 5)  # off the image, so the screenshot shows the diff outlines on both sides
        page.screenshot(path=str(tmp_path / "drawing-view.png"))
        page.keyboard.press("a")
        page.wait_for_function("document.getElementById('status').textContent === 'approved'")
        browser.close()

    engine = sa.create_engine(f"sqlite:///{home / 'tint.db'}")
    with engine.connect() as conn:
        last = "SELECT id, parent_revision_id, edits, review_status FROM revision ORDER BY id DESC LIMIT 1"
        rev = conn.execute(sa.text(last)).one()
        reviews = "SELECT verdict, author FROM review WHERE revision_id = :r"
        verdicts = conn.execute(sa.text(reviews), {"r": rev.id}).all()
    engine.dispose()
    assert rev.parent_revision_id == first
    assert f'"{block["id"]}": "{NEW_COLOR}"' in rev.edits
    assert rev.review_status == "approved"
    assert [tuple(v) for v in verdicts] == [("approved", "lea")]
    if os.environ.get("TINT_SAVE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for name in ("batch-view.png", "drawing-view.png"):
            shutil.copyfile(tmp_path / name, SCREENSHOTS / name)


def test_lead_recolors_a_part_with_the_part_picker(server):
    base, token, home = server
    auth = {"Authorization": f"Bearer {token}"}
    manifest = "name: parts\ndrawings:\n  - {line: man.png, character: man, hints: man_hints.json}\n"
    files = [("manifest", ("batch.yaml", manifest.encode()))]
    files += [("files", ("man.png", (SAMPLES / "bearded_man_line.png").read_bytes()))]
    files += [("files", ("man_hints.json", (SAMPLES / "bearded_man_hints.json").read_bytes()))]
    batch_id = httpx.post(f"{base}/api/batches", files=files, headers=auth, timeout=30).json()["id"]
    for _ in range(300):
        progress = httpx.get(f"{base}/api/batches/{batch_id}", headers=auth).json()["progress"]
        if progress["done"] == 1:
            break
        time.sleep(0.1)
    assert progress["done"] == 1, progress
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{base}/review#/batch/{batch_id}")
        page.fill("#token-input", token)  # a new browser: no session cookie yet
        page.click("#login-form button")
        page.locator("[data-testid=drawing-card]").first.click()
        page.locator("[data-testid=revision]").first.wait_for()
        first = int(page.locator("[data-testid=revision]").first.get_attribute("data-revision"))
        page.click("#load-parts")
        page.locator("#part-form").wait_for(state="visible", timeout=30_000)
        options = page.locator("#part-select option").evaluate_all("os => os.map(o => o.value)")
        assert "hair" in options and "background" not in options
        page.select_option("#part-select", "hair")
        page.fill("#part-color", NEW_COLOR)
        page.click("#recolor-part-button")
        page.locator("[data-testid=revision]").nth(1).wait_for(timeout=30_000)
        browser.close()
    by_part = httpx.get(f"{base}/api/revisions/{first}/blocks", params={"by": "parts"}, headers=auth).json()
    (hair,) = [b["regions"] for b in by_part["blocks"] if b["part"] == "hair"]
    engine = sa.create_engine(f"sqlite:///{home / 'tint.db'}")
    with engine.connect() as conn:
        last = "SELECT parent_revision_id, edits FROM revision ORDER BY id DESC LIMIT 1"
        rev = conn.execute(sa.text(last)).one()
    engine.dispose()
    assert rev.parent_revision_id == first
    assert json.loads(rev.edits) == {str(r): NEW_COLOR for r in hair}


def _submit_three_characters(base: str, token: str) -> int:
    """baby and alien with hints, and the bearded man colored from another character's drawing (so most of
    its regions get low-confidence reference matches: a flagged drawing)."""
    manifest = (
        "name: front\ndrawings:\n"
        "  - {line: baby_line.png, character: baby, hints: baby_hints.json}\n"
        "  - {line: alien_line.png, character: alien, hints: alien_hints.json}\n"
        "  - {line: bearded_man_line.png, character: man, reference: grinning_cat_line.png}\n"
    )
    names = ["baby_line.png", "baby_hints.json", "alien_line.png", "alien_hints.json"]
    names += ["bearded_man_line.png", "grinning_cat_line.png"]
    files = [("manifest", ("batch.yaml", manifest.encode()))]
    files += [("files", (n, (SAMPLES / n).read_bytes())) for n in names]
    return _post_batch(base, token, files, done=3)


def test_batch_list_bar_and_strip_character_filter_flags_and_layered_download(server, tmp_path):
    import numpy as np
    from psd_tools import PSDImage

    from pipeline.images import decode_image

    base, token, _ = server
    batch_id = _submit_three_characters(base, token)
    auth = {"Authorization": f"Bearer {token}"}
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{base}/review#/")
        page.fill("#token-input", token)
        page.click("#login-form button")
        row = page.locator(f".batch-row[data-batch='{batch_id}']")
        row.wait_for()
        bar = row.locator("[data-testid=batch-progress]")
        assert (bar.get_attribute("data-finished"), bar.get_attribute("data-total")) == ("3", "3")
        assert bar.locator(".segment").evaluate_all(
            "ss => ss.map(s => [s.dataset.state, s.style.width])"
        ) == [["done", "100%"]]
        strip = row.locator("[data-testid=batch-thumbnails] img")
        assert strip.count() == 3
        page.wait_for_function(
            f"[...document.querySelectorAll(\".batch-row[data-batch='{batch_id}'] img\")]"
            ".every(i => i.complete && i.naturalWidth > 0)"
        )
        assert all("/assets/colored" in src for src in strip.evaluate_all("is => is.map(i => i.src)"))
        page.screenshot(path=str(tmp_path / "batch-list.png"))

        row.locator("a").first.click()
        cards = page.locator("[data-testid=drawing-card]")
        cards.nth(2).wait_for()
        options = page.locator("#filter-character option").evaluate_all("os => os.map(o => o.value)")
        assert options == ["", "alien", "baby", "man"]
        assert page.text_content("#flagged-count") == "1 flagged"
        flagged = page.locator(".card.flagged")
        assert flagged.count() == 1 and "man" in flagged.text_content()
        assert "reference match" in flagged.locator("[data-testid=flags]").text_content()
        page.select_option("#filter-character", "alien")
        page.wait_for_function("document.querySelectorAll('[data-testid=drawing-card]').length === 1")
        assert cards.first.locator(".name").text_content() == "alien"
        page.select_option("#filter-character", "")
        page.wait_for_function("document.querySelectorAll('[data-testid=drawing-card]').length === 3")
        page.check("#filter-flagged")
        page.wait_for_function("document.querySelectorAll('[data-testid=drawing-card]').length === 1")
        assert cards.first.get_attribute("data-flagged") == "true"
        page.screenshot(path=str(tmp_path / "batch-flagged.png"))
        page.uncheck("#filter-flagged")
        page.wait_for_function("document.querySelectorAll('[data-testid=drawing-card]').length === 3")

        cards.first.click()
        page.locator("#download-psd").wait_for(state="visible")
        shown = int(page.locator("[data-testid=revision]").last.get_attribute("data-revision"))
        with page.expect_download() as download:
            page.click("#download-psd")
        saved = tmp_path / download.value.suggested_filename
        download.value.save_as(saved)
        browser.close()
    assert saved.name.endswith(f"-r{shown}.psd")
    layers = {layer.name: layer for layer in PSDImage.open(saved)}
    for role in ("lines", "flats"):
        stored = httpx.get(f"{base}/api/revisions/{shown}/assets/{role}", headers=auth).content
        assert np.array_equal(np.asarray(layers[role].topil()), decode_image(stored)), role
    if os.environ.get("TINT_SAVE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for name in ("batch-list.png", "batch-flagged.png"):
            shutil.copyfile(tmp_path / name, SCREENSHOTS / name)


def test_lead_propagates_an_approved_drawing_and_sees_unsure_regions_marked(server, tmp_path):
    from PIL import Image

    from pipeline.train.characters import make_character

    base, token, _ = server
    auth = {"Authorization": f"Bearer {token}"}
    files, drawings = [], []
    for pose, expression in ((0, 0), (0, 1), (1, 0)):
        c = make_character(seed=9_301, pose=pose, expression=expression)
        name = f"hero_{pose}{expression}.png"
        Image.fromarray(c.drawing[..., :3]).save(tmp_path / name)
        files.append(("files", (name, (tmp_path / name).read_bytes())))
        drawings.append({"line": name, "character": "hero"})
    manifest = json.dumps({"name": "hero", "drawings": drawings}).encode()
    batch_id = _post_batch(base, token, [("manifest", ("b.json", manifest)), *files], done=3)
    listed = httpx.get(f"{base}/api/drawings", params={"batch": batch_id}, headers=auth).json()["items"]
    first = {d["name"]: d["latest_revision_id"] for d in listed}
    approved = httpx.post(
        f"{base}/api/revisions/{first['hero_00.png']}/reviews", json={"verdict": "approved"}, headers=auth
    )
    assert approved.status_code in (200, 201), approved.text
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{base}/review#/batch/{batch_id}")
        page.fill("#token-input", token)
        page.click("#login-form button")
        page.locator("[data-testid=drawing-card]").nth(2).wait_for()
        page.click("#propagate")
        assert "Choose a character" in page.text_content("#propagate-info")
        page.select_option("#filter-character", "hero")
        page.click("#propagate")
        page.wait_for_function("document.querySelector('#propagate-info').textContent.includes('queued')")
        assert "2 drawing(s) of hero queued from r" in page.text_content("#propagate-info")
        for _ in range(600):
            listed = httpx.get(f"{base}/api/drawings", params={"batch": batch_id}, headers=auth).json()[
                "items"
            ]
            latest = {d["name"]: d["latest_revision_id"] for d in listed}
            if all(latest[n] != first[n] for n in ("hero_01.png", "hero_10.png")):
                break
            time.sleep(0.1)
        for name in ("hero_01.png", "hero_10.png"):
            revision = httpx.get(f"{base}/api/revisions/{latest[name]}", headers=auth).json()
            assert revision["parent_revision_id"] == first[name]
            assert "reference_flagged" in revision["proof"]
        assert latest["hero_00.png"] == first["hero_00.png"]
        drawing = next(d for d in listed if d["name"] == "hero_10.png")
        page.goto(f"{base}/review#/drawing/{drawing['id']}")
        page.wait_for_function("document.querySelector('#right-overlay').dataset.unsure !== undefined")
        unsure = int(page.locator("#right-overlay").get_attribute("data-unsure"))
        browser.close()
    assert unsure == len(revision["proof"]["reference_flagged"])

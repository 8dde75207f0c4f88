"""The review page in headless Chromium (Debian's `chromium`, driven by Playwright with the system browser):
open a batch, open a drawing, click a block, change its color, see the new revision appear, approve it,
and check the database. Set TINT_SAVE_SCREENSHOTS=1 to refresh docs/screenshots/.
"""

from __future__ import annotations

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


def _submit_two(base: str, token: str) -> int:
    manifest = (
        "name: browser\ndrawings:\n"
        "  - {line: baby_line.png, character: baby, hints: baby_hints.json}\n"
        "  - {line: alien_line.png, character: alien, hints: alien_hints.json}\n"
    )
    names = ["baby_line.png", "baby_hints.json", "alien_line.png", "alien_hints.json"]
    files = [("manifest", ("batch.yaml", manifest.encode()))]
    files += [("files", (n, (SAMPLES / n).read_bytes())) for n in names]
    auth = {"Authorization": f"Bearer {token}"}
    answer = httpx.post(f"{base}/api/batches", files=files, headers=auth, timeout=30)
    assert answer.status_code == 201, answer.text
    batch_id = answer.json()["id"]
    for _ in range(300):
        progress = httpx.get(f"{base}/api/batches/{batch_id}", headers=auth).json()["progress"]
        if progress["done"] == 2:
            return batch_id
        assert progress["failed"] == 0, progress
        time.sleep(0.1)
    pytest.fail(f"batch {batch_id} did not finish: {progress}")


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

"""The parts of workers.kitsu that need no Kitsu server: prompt summaries, credentials, an unreachable
server. Publishing itself is tested against a real Kitsu in tests/studio/test_cli_kitsu.py."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from pipeline.errors import BadInput
from workers.kitsu import KitsuUnreachable, connect, prompt_summary, read_credentials
from workers.settings import Settings


def test_prompt_summary_says_what_each_kind_of_prompt_was() -> None:
    points = {"points": [{"x": 1, "y": 2, "color": "#d23c3c"}], "strokes": [{"points": [[0, 0]]}] * 2}
    assert prompt_summary("points", points) == "1 hint point, 2 strokes"
    assert (
        prompt_summary("palette", {"skin": "#f2c9a5", "hair": "#5a3825"})
        == "palette hair #5a3825, skin #f2c9a5"
    )
    assert prompt_summary("target", {"points": []}, {"4": "#aa3300"}) == "recolor (block 4 → #aa3300)"
    assert prompt_summary("reference", {}) == "colors from a reference picture"
    assert prompt_summary(None, None) == "no prompt (the model's colors)"


def test_credentials_come_from_a_file_before_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "kitsu.json"
    path.write_text(json.dumps({"email": "bot@studio.example", "password": "from-file"}))
    settings = Settings(home=tmp_path, kitsu_email="env@studio.example", kitsu_password="from-env")
    assert read_credentials(settings, path) == ("bot@studio.example", "from-file")
    assert read_credentials(settings) == ("env@studio.example", "from-env")
    assert "from-env" not in repr(settings)  # the password is a secret: not in a log line of the settings


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        ("email: x", "is not JSON"),
        ('{"email": "bot@studio.example"}', 'needs both "email" and "password"'),
    ],
)
def test_a_bad_credentials_file_is_one_clear_error(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "kitsu.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(BadInput, match=message):
        read_credentials(Settings(home=tmp_path), path)


def test_no_credentials_names_the_variables(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="set TINT_KITSU_EMAIL and TINT_KITSU_PASSWORD"):
        read_credentials(Settings(home=tmp_path))


def test_a_server_that_refuses_connections_is_unreachable() -> None:
    with socket.socket() as sock:  # a port nothing listens on: bound, never listening
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        with pytest.raises(KitsuUnreachable, match=f"Kitsu at {url} does not answer"):
            connect(url, email="bot@studio.example", password="x")

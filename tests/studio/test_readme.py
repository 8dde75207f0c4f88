"""The README a newcomer reads stays true: it lists every API route and every TINT_* setting."""

from __future__ import annotations

import re
from pathlib import Path

from studio.api.app import create_app
from workers.settings import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_every_api_route_is_listed():
    spec = create_app(start_worker=False).openapi()
    routes = {f"{method.upper()} {path}" for path, ops in spec["paths"].items() for method in ops}
    listed = set(re.findall(r"^\| `((?:GET|POST|PUT|PATCH|DELETE) /api[^`]*)` \|", README, flags=re.M))
    assert routes == listed, (sorted(routes - listed), sorted(listed - routes))


def test_every_setting_is_in_the_settings_table():
    for name in Settings.model_fields:
        assert f"`TINT_{name.upper()}`" in README, name


def test_no_sentence_points_at_an_issue():
    assert not re.search(r"\bthe issue\b", README, flags=re.I)

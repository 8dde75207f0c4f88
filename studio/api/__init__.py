"""Tint's HTTP API and review page (FastAPI): `create_app` builds the app, `tint serve` runs it."""

from studio.api.app import create_app

__all__ = ["create_app"]

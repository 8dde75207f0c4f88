"""Tint's settings: one pydantic-settings class, read from TINT_* environment variables.

Every value has an embedded default, so a first run needs no server: a SQLite file for the database, a
SQLite file as the Celery broker (kombu's SQLAlchemy transport), and a local directory for assets.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings"]


class Settings(BaseSettings):
    """Where Tint's database, broker and assets live, and how its workers behave."""

    model_config = SettingsConfigDict(env_prefix="TINT_", extra="ignore")

    home: Path = Path("./tint-data")
    database_url: str = ""  # default: sqlite file under home
    broker_url: str = ""  # default: sqla+sqlite file under home
    storage_url: str = ""  # default: directory under home; or s3://bucket[/prefix]
    s3_endpoint: str | None = None
    s3_create_bucket: bool = False
    device: Literal["auto", "cpu", "cuda"] = "auto"
    job_deadline_s: int = 600
    task_time_limit_s: int = 900
    max_pixels: int = 40_000_000
    gap_px: int = 3
    min_area: int = 8
    max_retries: int = 8
    result_timeout_s: int = 600
    reconcile_every_s: int = 60
    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "text"  # json: one JSON object per line, for a log shipper
    task_events: bool = False  # Celery task events, for Flower
    kitsu_email: str = ""  # `tint publish --kitsu`: the Kitsu user it logs in as
    kitsu_password: SecretStr = SecretStr("")

    @field_validator("gap_px", "min_area", "job_deadline_s", "task_time_limit_s", "max_pixels")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < 0:
            raise ValueError(f"must be 0 or more, got {value}")
        return value

    @model_validator(mode="after")
    def _embedded_defaults(self) -> Settings:
        """URLs left empty point at files under `home`: the embedded default needs no server."""
        home = self.home.expanduser().resolve()
        if not self.database_url:
            self.database_url = f"sqlite:///{home / 'tint.db'}"
        if not self.broker_url:
            self.broker_url = f"sqla+sqlite:///{home / 'broker.db'}"
        if not self.storage_url:
            self.storage_url = str(home / "assets")
        return self

    @property
    def embedded_broker(self) -> bool:
        """True when the broker is a local SQLite file (no server, in-process worker is possible)."""
        return self.broker_url.startswith("sqla+sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once from the environment at a front door or worker start."""
    return Settings()

"""The embedded broker: kombu's SQLAlchemy transport on a SQLite file, polled every 100 ms.

kombu hands every transport option to `create_engine`, so the polling interval cannot be passed as an
option; it is set on this subclass instead.
"""

from __future__ import annotations

from kombu.transport import sqlalchemy as sqla

__all__ = ["Transport"]


class Transport(sqla.Transport):
    """SQLAlchemy transport with a short polling interval for snappy local jobs."""

    polling_interval = 0.1

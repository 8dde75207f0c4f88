"""The embedded broker: kombu's SQLAlchemy transport on a SQLite file, polled every 100 ms.

kombu hands every transport option to `create_engine`, so the polling interval cannot be passed as an
option; it is set on this subclass instead. kombu picks a transport from a `sqla+…` URL's prefix before it
looks at Celery's `broker_transport`, so this one is registered under its own prefix (`broker_url`): until
it was, every embedded worker polled at kombu's default of once a second.

kombu's transport also marks a taken message invisible and keeps its row forever, and nothing makes it
visible again when its consumer goes away; here a taken message is deleted in the same transaction, so
the file does not grow with every job. Either way a message taken by a process that then dies is gone:
the database, not the broker, says which jobs are still to run (workers.runs, the reconciler).
"""

from __future__ import annotations

from kombu.transport import TRANSPORT_ALIASES
from kombu.transport import sqlalchemy as sqla
from kombu.transport.virtual import Empty
from kombu.utils.encoding import bytes_to_str
from kombu.utils.json import loads
from sqlalchemy import text

__all__ = ["Transport", "broker_url", "PREFIX"]

PREFIX = "tintsqla"


class Channel(sqla.Channel):
    """Takes the oldest message of a queue and deletes its row."""

    def _get(self, queue):
        found = self._get_or_create(queue)
        session = self.session
        if session.bind.name == "sqlite":
            session.execute(text("BEGIN IMMEDIATE TRANSACTION"))  # one taker at a time across processes
        try:
            message = (
                session.query(self.message_cls)
                .filter(self.message_cls.queue_id == found.id, self.message_cls.visible.is_(True))
                .order_by(self.message_cls.sent_at, self.message_cls.id)
                .with_for_update()
                .first()
            )
            if message is None:
                raise Empty()
            payload = loads(bytes_to_str(message.payload))
            session.delete(message)
            return payload
        finally:
            session.commit()


class Transport(sqla.Transport):
    """SQLAlchemy transport with a short polling interval and taken messages deleted."""

    Channel = Channel
    polling_interval = 0.1


def broker_url(url: str) -> str:
    """The URL kombu needs to use this transport for an embedded `sqla+sqlite://…` broker URL."""
    TRANSPORT_ALIASES.setdefault(PREFIX, "workers.broker:Transport")
    return f"{PREFIX}+{url.removeprefix('sqla+')}"

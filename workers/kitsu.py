"""Publishing a batch to Kitsu, the studio's production tracker, with its Python client `gazu`.

For each drawing whose latest colored revision is approved or waiting for review, `publish_batch` finds
or creates the Kitsu project, the entity (by default the drawing's character as an asset; or the drawing
as a shot) and the drawing's task, uploads `colored.png` as a preview with a comment carrying the revision
id, the prompt summary and the review state, and sets the task status from the review state. What it
sent and the Kitsu ids are kept in `kitsu_publication` (db.kitsu_queries), so publishing again updates
the same task: a new revision adds a preview, a changed review only the status, nothing else nothing.
A drawing whose publish fails is reported with one line; the rest of the batch goes on.
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import gazu
import requests
from gazu.client import KitsuClient

from db import kitsu_queries
from db.kitsu_queries import PublishCandidate
from db.models import KitsuPublication
from pipeline.errors import BadInput, NotFound, TintError, Transient
from workers.context import Context
from workers.settings import Settings

__all__ = [
    "DEFAULT_STATUSES",
    "KitsuMapping",
    "DrawingPublish",
    "KitsuRefused",
    "KitsuUnreachable",
    "prompt_summary",
    "comment_text",
    "read_credentials",
    "connect",
    "publish_batch",
]

# Tint review state -> Kitsu task status short name (Kitsu's defaults: wfa = waiting for approval).
DEFAULT_STATUSES = {"approved": "done", "pending_review": "wfa", "changes_requested": "retake"}
PUBLISHED_REVIEW_STATES = ("approved", "pending_review")  # a revision in these states gets a preview
COMMENT_PREFIX = "Tint revision"  # every comment starts "Tint revision N ·": how a task's previews are found


class KitsuRefused(BadInput):
    """Kitsu refused the login or the publish settings (credentials, status names, mapping)."""


class KitsuUnreachable(Transient):
    """The Kitsu server does not answer at the URL given."""


@dataclass(frozen=True)
class KitsuMapping:
    """Where a batch's drawings go in Kitsu: the project, what a drawing becomes, the task type and the
    task status each review state sets."""

    project: str
    entity: Literal["asset", "shot"] = "asset"  # asset: character -> asset; shot: drawing -> shot
    asset_type: str = "Character"
    task_type: str = "Coloring"
    statuses: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_STATUSES))


@dataclass(frozen=True)
class DrawingPublish:
    """One drawing's publish: `outcome` is published, status (review changed, no new preview), unchanged,
    skipped or failed; `message` says why for the last two."""

    drawing_id: int
    drawing: str
    revision_id: int | None
    outcome: Literal["published", "status", "unchanged", "skipped", "failed"]
    task_status: str | None = None
    message: str = ""
    task_id: str | None = None


def prompt_summary(kind: str | None, payload: Any, edits: Any = None) -> str:
    """A short line saying what prompt a revision was colored from, for a Kitsu comment."""
    payload = payload if isinstance(payload, dict) else {}
    if kind == "points":
        points, strokes = len(payload.get("points") or []), len(payload.get("strokes") or [])
        return f"{points} hint point{'s' * (points != 1)}, {strokes} stroke{'s' * (strokes != 1)}"
    if kind == "palette":
        colors = payload.get("palette", payload)
        return "palette " + ", ".join(f"{part} {color}" for part, color in sorted(colors.items()))
    if kind == "target" or edits:
        changed = ", ".join(f"block {block} → {color}" for block, color in sorted((edits or {}).items()))
        return f"recolor ({changed})" if changed else "recolor"
    return {
        "image": "hint image",
        "reference": "colors from a reference picture",
        "none": "no prompt (the model's colors)",
        "mixed": "hints and a palette",
    }.get(kind or "none", kind or "no prompt")


def comment_text(candidate: PublishCandidate, *, summary: str, change: str = "") -> str:
    """The comment on a published revision: marker, revision id, review state, prompt summary."""
    head = f"{COMMENT_PREFIX} {candidate.revision_id} · review: {candidate.review_status} · prompt: {summary}"
    return f"{head}\n{change}" if change else head


def read_credentials(settings: Settings, path: Path | None = None) -> tuple[str, str]:
    """(email, password): from a JSON file {"email", "password"} when given, else TINT_KITSU_EMAIL and
    TINT_KITSU_PASSWORD. Never from the command line, where other users of the machine can read them."""
    if path is not None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise BadInput(f"credentials file {str(path)!r} does not exist.") from None
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise BadInput(
                f'credentials file {str(path)!r} is not JSON {{"email": …, "password": …}}.'
            ) from None
        if not isinstance(data, dict) or not data.get("email") or not data.get("password"):
            raise BadInput(f'credentials file {str(path)!r} needs both "email" and "password".')
        return str(data["email"]), str(data["password"])
    email, password = settings.kitsu_email, settings.kitsu_password.get_secret_value()
    if not email or not password:
        raise BadInput(
            "no Kitsu credentials: set TINT_KITSU_EMAIL and TINT_KITSU_PASSWORD, or give --credentials FILE "
            '(JSON {"email": …, "password": …}).'
        )
    return email, password


def _describe(exc: BaseException) -> str:
    """One line for a failure talking to Kitsu or reading the revision."""
    if isinstance(exc, TintError):
        return str(exc).splitlines()[0]
    if isinstance(exc, gazu.exception.GazuException):
        detail = ": ".join(str(a) for a in exc.args if a) or type(exc).__name__
        if isinstance(exc, gazu.exception.ServerErrorException):
            return f"Kitsu failed with a server error on {detail} (its log says why)"
        return f"Kitsu refused the request ({type(exc).__name__.removesuffix('Exception')}: {detail})"
    if isinstance(exc, requests.RequestException):
        return f"Kitsu did not answer ({type(exc).__name__})"
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def connect(url: str, *, email: str, password: str) -> KitsuClient:
    """A gazu client logged in to the Kitsu API at `url` (e.g. https://kitsu.example.com/api)."""
    # gazu logs each server error with the server's stacktrace; the publish reports each one in a line.
    logging.getLogger("gazu").setLevel(logging.CRITICAL)
    client = gazu.client.create_client(url.rstrip("/"))
    try:
        gazu.log_in(email, password, client=client)
    except (gazu.exception.AuthFailedException, gazu.exception.NotAuthenticatedException):
        raise KitsuRefused(f"Kitsu at {url} refused the login of {email!r}; check the credentials.") from None
    except requests.RequestException as exc:
        raise KitsuUnreachable(f"Kitsu at {url} does not answer ({type(exc).__name__}).") from None
    except gazu.exception.GazuException as exc:
        raise KitsuRefused(f"logging in to Kitsu at {url} failed: {_describe(exc)}.") from None
    return client


class _Tracker:
    """The Kitsu side of one publish: the project, task type and statuses, found or created once."""

    def __init__(self, client: KitsuClient, mapping: KitsuMapping, *, batch_name: str) -> None:
        self.client, self.mapping, self.batch_name = client, mapping, batch_name
        self.statuses = self._statuses()
        kw = {"client": client}
        self.project = gazu.project.get_project_by_name(mapping.project, **kw) or gazu.project.new_project(
            mapping.project, **kw
        )
        for_entity = "Asset" if mapping.entity == "asset" else "Shot"
        self.task_type = gazu.task.get_task_type_by_name(mapping.task_type, for_entity=for_entity, **kw)
        if self.task_type is None:
            other = gazu.task.get_task_type_by_name(mapping.task_type, **kw)
            if other is not None:  # Kitsu keeps task type names unique across asset and shot tasks
                raise KitsuRefused(
                    f"Kitsu's task type {mapping.task_type!r} is for {other['for_entity']} tasks, not "
                    f"{for_entity} tasks; give another --task-type."
                )
            self.task_type = gazu.task.new_task_type(
                mapping.task_type, color="#e07b39", for_entity=for_entity, **kw
            )
        if self.task_type["id"] not in (self.project.get("task_types") or []):
            gazu.project.add_task_type(self.project, self.task_type, priority=1, **kw)
        self._entities: dict[str, dict] = {}

    def _statuses(self) -> dict[str, dict]:
        known = {s["short_name"]: s for s in gazu.task.all_task_statuses(client=self.client)}
        missing = sorted(set(self.mapping.statuses.values()) - set(known))
        if missing:
            raise KitsuRefused(
                f"Kitsu has no task status {', '.join(map(repr, missing))}; it has "
                f"{', '.join(sorted(known))}. Map review states to those (--status approved=done)."
            )
        return {state: known[short] for state, short in self.mapping.statuses.items()}

    def entity(self, candidate: PublishCandidate) -> dict:
        """The asset (the drawing's character) or shot (the drawing) the drawing's task hangs on."""
        kw = {"client": self.client}
        if self.mapping.entity == "shot":
            key = f"shot:{candidate.name}"
            if key not in self._entities:
                seq = self._entities.get("sequence")
                if seq is None:
                    seq = gazu.shot.get_sequence_by_name(
                        self.project, self.batch_name, **kw
                    ) or gazu.shot.new_sequence(self.project, self.batch_name, **kw)
                    self._entities["sequence"] = seq
                self._entities[key] = gazu.shot.get_shot_by_name(
                    seq, candidate.name, **kw
                ) or gazu.shot.new_shot(self.project, seq, candidate.name, **kw)
            return self._entities[key]
        name = candidate.character or candidate.name  # a drawing with no character is its own asset
        key = f"asset:{name}"
        if key not in self._entities:
            asset_type = self._entities.get("asset_type")
            if asset_type is None:
                asset_type = gazu.asset.get_asset_type_by_name(
                    self.mapping.asset_type, **kw
                ) or gazu.asset.new_asset_type(self.mapping.asset_type, **kw)
                self._entities["asset_type"] = asset_type
            self._entities[key] = gazu.asset.get_asset_by_name(
                self.project, name, asset_type=asset_type, **kw
            ) or gazu.asset.new_asset(self.project, asset_type, name, **kw)
        return self._entities[key]

    def task(self, candidate: PublishCandidate, record: KitsuPublication | None) -> dict:
        """The drawing's task: the one recorded when it still exists, else found or created by name."""
        kw = {"client": self.client}
        if record is not None:
            try:
                return gazu.task.get_task(record.task_id, **kw)
            except gazu.exception.RouteNotFoundException:
                pass  # deleted in Kitsu since: find or make it again
        entity = self.entity(candidate)
        name = "main" if self.mapping.entity == "shot" else candidate.name
        return gazu.task.get_task_by_entity(entity, self.task_type, name, **kw) or gazu.task.new_task(
            entity, self.task_type, name=name, **kw
        )


def _earlier_comment(client: KitsuClient, task: dict, revision_id: int) -> dict | None:
    """The task's comment with a preview for this revision, when one was sent but never recorded (a
    publish stopped between Kitsu and Tint's database): sending it again would duplicate the preview."""
    marker = re.compile(rf"^{COMMENT_PREFIX} {revision_id} ·")
    for comment in gazu.task.all_comments_for_task(task, client=client):
        if marker.match(comment.get("text") or "") and comment.get("previews"):
            return comment
    return None


def _publish_one(ctx: Context, tracker: _Tracker, candidate: PublishCandidate, *, url: str) -> DrawingPublish:
    mapping, client = tracker.mapping, tracker.client
    base = {
        "drawing_id": candidate.drawing_id,
        "drawing": candidate.name,
        "revision_id": candidate.revision_id,
    }
    if candidate.revision_id is None or candidate.colored_sha is None:
        return DrawingPublish(**base, outcome="skipped", message="not colored yet")
    with ctx.sessions() as session:
        record = kitsu_queries.get_publication(
            session, drawing_id=candidate.drawing_id, kitsu_url=url, project=mapping.project
        )
        if record is not None:
            session.expunge(record)
    status = tracker.statuses.get(candidate.review_status)
    if status is None:
        return DrawingPublish(
            **base, outcome="skipped", message=f"no task status for {candidate.review_status}"
        )
    same_revision = record is not None and record.revision_id == candidate.revision_id
    if same_revision and record.task_status == status["short_name"]:
        return DrawingPublish(
            **base, outcome="unchanged", task_status=record.task_status, task_id=record.task_id
        )
    if candidate.review_status not in PUBLISHED_REVIEW_STATES and record is None:
        return DrawingPublish(
            **base, outcome="skipped", message=f"{candidate.review_status}; never published"
        )
    task = tracker.task(candidate, record)
    fresh_task = record is None or task["id"] != record.task_id  # first publish, or deleted in Kitsu since
    summary = prompt_summary(candidate.prompt_kind, candidate.prompt_payload, candidate.edits)
    if candidate.review_status in PUBLISHED_REVIEW_STATES and (fresh_task or not same_revision):
        comment, preview_id = _preview_comment(ctx, client, task, status, candidate, summary)
        outcome = "published"
    else:  # the review changed, not the picture (or the new revision awaits changes): the status only
        comment = _status_comment(client, task, status, candidate, summary)
        preview_id = None if fresh_task else record.preview_id
        outcome = "status"
    with ctx.sessions() as session, session.begin():
        kitsu_queries.record_publication(
            session,
            drawing_id=candidate.drawing_id,
            kitsu_url=url,
            project=mapping.project,
            revision_id=candidate.revision_id,
            review_status=candidate.review_status,
            task_status=status["short_name"],
            project_id=tracker.project["id"],
            entity_id=task["entity_id"],
            task_id=task["id"],
            comment_id=comment["id"],
            preview_id=preview_id,
        )
    return DrawingPublish(**base, outcome=outcome, task_status=status["short_name"], task_id=task["id"])


def _status_comment(
    client: KitsuClient, task: dict, status: dict, candidate: PublishCandidate, summary: str
) -> dict:
    """A comment setting the task status from the revision's review state, with no preview."""
    text = comment_text(candidate, summary=summary, change=f"review changed to {candidate.review_status}")
    return gazu.task.add_comment(task, status, text, client=client)


def _preview_comment(
    ctx: Context, client: KitsuClient, task: dict, status: dict, candidate: PublishCandidate, summary: str
) -> tuple[dict, str]:
    """(the comment carrying the revision's preview, the preview id): the one already on the task when a
    publish stopped before Tint recorded it, else a new upload."""
    earlier = _earlier_comment(client, task, candidate.revision_id)
    if earlier is None:
        comment, preview = _send_preview(ctx, client, task, status, candidate, summary)
        return comment, preview["id"]
    first = earlier["previews"][0]
    preview_id = first["id"] if isinstance(first, dict) else first
    if earlier.get("task_status_id") != status["id"]:  # the review changed since that upload
        earlier = _status_comment(client, task, status, candidate, summary)
    return earlier, preview_id


def _send_preview(
    ctx: Context, client: KitsuClient, task: dict, status: dict, candidate: PublishCandidate, summary: str
) -> tuple[dict, dict]:
    """Upload the revision's colored image as the task's new preview, with its comment and status."""
    data = ctx.storage.get(candidate.colored_sha)  # NotFound / AssetCorrupt: this drawing fails
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(candidate.name).stem) or "drawing"
    with tempfile.TemporaryDirectory(prefix="tint-kitsu-") as tmp:
        path = Path(tmp) / f"{stem}_rev{candidate.revision_id}.png"
        path.write_bytes(data)
        return gazu.task.publish_preview(
            task,
            status,
            comment=comment_text(candidate, summary=summary),
            preview_file_path=str(path),
            client=client,
        )


def publish_batch(
    ctx: Context,
    batch_id: int,
    *,
    client: KitsuClient,
    url: str,
    mapping: KitsuMapping,
    on_result: Callable[[DrawingPublish], None] | None = None,
) -> list[DrawingPublish]:
    """Publish each drawing of the batch to Kitsu (module docstring); one result per drawing, in id order.

    The project, task type and statuses are resolved first: if that fails the publish fails as a whole."""
    from db import queries

    with ctx.sessions() as session:
        batch = queries.get_batch(session, batch_id, with_manifest=False)
        if batch is None:
            raise NotFound(f"batch {batch_id} does not exist; `tint status` lists batches.")
        batch_name = batch.name
        candidates = kitsu_queries.publish_candidates(session, batch_id)
    try:
        tracker = _Tracker(client, mapping, batch_name=batch_name)
    except requests.RequestException as exc:
        raise KitsuUnreachable(f"Kitsu at {url} stopped answering ({type(exc).__name__}).") from None
    except gazu.exception.GazuException as exc:
        raise KitsuRefused(
            f"Kitsu project {mapping.project!r} could not be set up: {_describe(exc)}."
        ) from None
    results = []
    for candidate in candidates:
        try:
            result = _publish_one(ctx, tracker, candidate, url=url)
        except Exception as exc:  # this drawing only; the batch goes on
            result = DrawingPublish(
                drawing_id=candidate.drawing_id,
                drawing=candidate.name,
                revision_id=candidate.revision_id,
                outcome="failed",
                message=_describe(exc),
            )
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results

"""`tint publish B --kitsu URL` against a real Kitsu server (Zou, started by the `kitsu` fixture): a batch
colored by real colorize jobs is published, read back through gazu, published again after reviews and a
new revision, and one drawing Kitsu refuses fails alone."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import gazu
import numpy as np
import pytest
from commands import run_tint, sample_batch, tint_env
from kitsu_server import Zou

from db import kitsu_queries, queries
from pipeline.images import decode_image
from workers import tasks
from workers.context import Context, get_context
from workers.kitsu import connect
from workers.submit import submit_rerun

SAMPLES = Path(__file__).resolve().parents[2] / "studio" / "samples"
LONG_NAME = "x" * 100  # Kitsu keeps task names to 80 characters: this drawing's task is refused
MANIFEST = f"""
name: kitsu-season
drawings:
  - {{line: baby_line.png, name: baby_front, character: baby, hints: baby_hints.json}}
  - {{line: baby_line.png, name: baby_side, character: baby, hints: baby_hints.json}}
  - {{line: bearded_man_line.png, name: man_front, character: man, hints: bearded_man_hints.json}}
  - {{line: alien_line.png, name: {LONG_NAME}, character: alien, hints: alien_hints.json}}
  - {{line: grinning_cat_line.png, name: cat, character: cat, hints: grinning_cat_hints.json}}
"""


@dataclass
class Season:
    """The batch on its embedded home: its id, the home, the context and drawing ids by name."""

    batch_id: int
    home: Path
    ctx: Context
    drawings: dict[str, int]

    def revision(self, name: str) -> int:
        with self.ctx.sessions() as session:
            return queries.drawing_revisions(session, self.drawings[name])[-1].id

    def review(self, name: str, verdict: str) -> None:
        with self.ctx.sessions() as session, session.begin():
            queries.add_review(session, revision_id=self.revision(name), verdict=verdict, author="lea")


@pytest.fixture(scope="module")
def season(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Season]:
    """The batch above colorized by its real jobs (run in-process); baby_side approved, man_front sent
    back for changes, the rest waiting for review."""
    root = tmp_path_factory.mktemp("kitsu")
    names = ("baby", "bearded_man", "alien", "grinning_cat")
    files = tuple(f"{n}_{kind}" for n in names for kind in ("line.png", "hints.json"))
    batch = sample_batch(root, MANIFEST, files=files)
    batch_id = next(batch)
    ctx = get_context()
    with ctx.sessions() as session:
        drawings = {job.drawing.name: job.drawing_id for job in queries.batch_jobs(session, batch_id)}
    found = Season(batch_id=batch_id, home=root / "home", ctx=ctx, drawings=drawings)
    found.review("baby_side", "approved")
    found.review("man_front", "changes_requested")
    yield found
    next(batch, None)  # sample_batch restores the process


def _publish(season: Season, zou: Zou, *args: str, password: str | None = None):
    env = tint_env(season.home, TINT_KITSU_EMAIL=zou.email, TINT_KITSU_PASSWORD=password or zou.password)
    return run_tint("publish", str(season.batch_id), "--kitsu", zou.url, "--json", *args, env=env)


def _results(run) -> dict[str, dict]:
    return {row["drawing"]: row for row in map(json.loads, run.stdout.splitlines())}


def _tasks(zou: Zou, project_name: str) -> dict[str, dict]:
    """ "ENTITY/TASK" -> the task's status, comments (newest first) and previews, read with gazu."""
    client = connect(zou.url, email=zou.email, password=zou.password)
    project = gazu.project.get_project_by_name(project_name, client=client)
    statuses = {s["id"]: s["short_name"] for s in gazu.task.all_task_statuses(client=client)}
    out = {}
    for task in gazu.task.all_tasks_for_project(project, client=client):
        entity = gazu.entity.get_entity(task["entity_id"], client=client)
        out[f"{entity['name']}/{task['name']}"] = {
            "status": statuses[task["task_status_id"]],
            "comments": [c["text"] for c in gazu.task.all_comments_for_task(task, client=client)],
            "previews": gazu.task.all_previews_for_task(task, client=client),
        }
    return out


@pytest.fixture(scope="module")
def first(season: Season, kitsu: Zou):
    """The first publish of the season, as `tint` ran it."""
    return _publish(season, kitsu)


@pytest.mark.services
def test_publish_sends_each_waiting_or_approved_drawing_and_fails_the_refused_one_alone(
    season: Season, first
) -> None:
    assert first.returncode == 1, first.stderr  # one drawing failed
    results = _results(first)
    assert {name: r["outcome"] for name, r in results.items()} == {
        "baby_front": "published",
        "baby_side": "published",
        "man_front": "skipped",  # changes requested and never published
        LONG_NAME: "failed",
        "cat": "published",
    }
    assert results["baby_front"]["task_status"] == "wfa"
    assert results["baby_side"]["task_status"] == "done"
    (line,) = first.stderr.strip().splitlines()
    assert line.startswith(
        f"tint: error: drawing {season.drawings[LONG_NAME]} ({LONG_NAME}) was not published"
    )
    assert "server error on data/tasks" in line and "Traceback" not in first.stderr


@pytest.mark.services
def test_kitsu_holds_the_project_assets_tasks_previews_comments_and_statuses(
    season: Season, kitsu: Zou, first
) -> None:
    found = _tasks(kitsu, "kitsu-season")
    assert {key: t["status"] for key, t in found.items()} == {
        "baby/baby_front": "wfa",
        "baby/baby_side": "done",
        "cat/cat": "wfa",
    }
    client = connect(kitsu.url, email=kitsu.email, password=kitsu.password)
    project = gazu.project.get_project_by_name("kitsu-season", client=client)
    assets = gazu.asset.all_assets_for_project(project, client=client)
    assert sorted(a["name"] for a in assets) == ["alien", "baby", "cat"]  # alien: made before its task failed
    revision = season.revision("baby_front")
    points = len(json.loads((SAMPLES / "baby_hints.json").read_text())["points"])
    (comment,) = found["baby/baby_front"]["comments"]
    assert (
        comment
        == f"Tint revision {revision} · review: pending_review · prompt: {points} hint points, 0 strokes"
    )
    (preview,) = found["baby/baby_front"]["previews"]
    assert preview["extension"] == "png" and preview["status"] == "ready"
    with season.ctx.sessions() as session:
        colored = queries.get_revision(session, revision).assets["colored"]
    downloaded = Path(kitsu.log.parent / "baby_front.png")
    gazu.files.download_preview_file(preview, str(downloaded), client=client)
    # Kitsu re-encodes the picture it keeps; its pixels are the revision's colored.png, all of them
    sent = decode_image(season.ctx.storage.get(colored), name="colored.png")
    kept = decode_image(downloaded.read_bytes(), name="Kitsu's preview")
    assert kept.shape == sent.shape and np.array_equal(kept, sent)


@pytest.mark.services
def test_publishing_again_after_reviews_and_a_new_revision_updates_and_duplicates_nothing(
    season: Season, kitsu: Zou, first
) -> None:
    again = _publish(season, kitsu)
    assert {n: r["outcome"] for n, r in _results(again).items() if n != LONG_NAME} == {
        "baby_front": "unchanged",
        "baby_side": "unchanged",
        "man_front": "skipped",
        "cat": "unchanged",
    }
    before = _tasks(kitsu, "kitsu-season")
    season.review("baby_front", "approved")
    season.review("baby_side", "changes_requested")
    cat_revision = season.revision("cat")
    tasks.colorize.apply(args=[submit_rerun(season.ctx, cat_revision)])  # a new revision of cat, waiting
    run = _publish(season, kitsu)
    results = _results(run)
    assert {n: (r["outcome"], r["task_status"]) for n, r in results.items() if n != LONG_NAME} == {
        "baby_front": ("status", "done"),
        "baby_side": ("status", "retake"),
        "man_front": ("skipped", None),
        "cat": ("published", "wfa"),
    }
    after = _tasks(kitsu, "kitsu-season")
    assert sorted(after) == sorted(before)  # the same tasks: none made again
    assert {key: t["status"] for key, t in after.items()} == {
        "baby/baby_front": "done",
        "baby/baby_side": "retake",
        "cat/cat": "wfa",
    }
    front = after["baby/baby_front"]
    assert len(front["previews"]) == 1 and len(front["comments"]) == 2  # a status comment, no new preview
    assert "review: approved" in front["comments"][0]
    assert len(after["cat/cat"]["previews"]) == 2  # the new revision's preview, on the same task
    assert after["cat/cat"]["comments"][0].startswith(f"Tint revision {season.revision('cat')} ·")
    with season.ctx.sessions() as session:
        record = kitsu_queries.get_publication(
            session, drawing_id=season.drawings["cat"], kitsu_url=kitsu.url, project="kitsu-season"
        )
        assert record.revision_id == season.revision("cat") and record.task_status == "wfa"


def _record(season: Season, kitsu: Zou, name: str):
    with season.ctx.sessions() as session:
        return kitsu_queries.get_publication(
            session, drawing_id=season.drawings[name], kitsu_url=kitsu.url, project="kitsu-season"
        )


@pytest.mark.services
def test_a_lost_record_or_a_task_deleted_in_kitsu_makes_no_duplicate(
    season: Season, kitsu: Zou, first
) -> None:
    client = connect(kitsu.url, email=kitsu.email, password=kitsu.password)
    side = _record(season, kitsu, "baby_side").task_id
    gazu.task.remove_task(side, client=client)  # someone deletes baby_side's task in Kitsu
    season.review("baby_side", "changes_requested")
    season.review("baby_side", "approved")  # a review since, so the next publish goes to Kitsu for it
    with season.ctx.sessions() as session, session.begin():  # Tint's database restored from before cat's
        session.delete(_record(season, kitsu, "cat"))  # last publish: the record is gone, Kitsu has it
    before = _tasks(kitsu, "kitsu-season")
    results = _results(_publish(season, kitsu))
    assert results["cat"]["outcome"] == "published"  # recorded again from the comment already on the task
    after = _tasks(kitsu, "kitsu-season")
    assert len(after["cat/cat"]["previews"]) == len(before["cat/cat"]["previews"])
    assert len(after["cat/cat"]["comments"]) == len(before["cat/cat"]["comments"])
    assert _record(season, kitsu, "cat").preview_id == after["cat/cat"]["previews"][0]["id"]
    assert results["baby_side"]["outcome"] == "published"  # on a new task, with the preview again
    assert results["baby_side"]["task_id"] != side
    assert (after["baby/baby_side"]["status"], len(after["baby/baby_side"]["previews"])) == ("done", 1)


@pytest.mark.services
def test_shot_mapping_puts_each_drawing_in_a_shot_of_the_batch_sequence(
    season: Season, kitsu: Zou, tmp_path: Path
) -> None:
    credentials = tmp_path / "kitsu.json"  # the file wins over the environment's (wrong) password
    credentials.write_text(json.dumps({"email": kitsu.email, "password": kitsu.password}))
    run = _publish(
        season,
        kitsu,
        "--credentials",
        str(credentials),
        "--entity",
        "shot",
        "--project",
        "kitsu-shots",
        "--task-type",
        "Shot coloring",
        "--status",
        "approved=approved",
        password="not-the-password",
    )
    assert run.returncode == 0, run.stderr  # a shot's task is named main: the long drawing name fits a shot
    with season.ctx.sessions() as session:
        waiting = {
            c.name: c.review_status
            for c in kitsu_queries.publish_candidates(session, season.batch_id)
            if c.review_status in ("approved", "pending_review")
        }
    found = _tasks(kitsu, "kitsu-shots")
    expected = {"approved": "approved", "pending_review": "wfa"}
    assert {key: t["status"] for key, t in found.items()} == {
        f"{name}/main": expected[state] for name, state in waiting.items()
    }
    client = connect(kitsu.url, email=kitsu.email, password=kitsu.password)
    project = gazu.project.get_project_by_name("kitsu-shots", client=client)
    (sequence,) = gazu.shot.all_sequences_for_project(project, client=client)
    assert sequence["name"] == "kitsu-season"
    assert {s["name"] for s in gazu.shot.all_shots_for_sequence(sequence, client=client)} == set(waiting)


@pytest.mark.services
def test_a_wrong_password_is_one_line(season: Season, kitsu: Zou) -> None:
    run = _publish(season, kitsu, password="not-the-password")
    assert run.returncode == 1
    assert (
        run.stderr.strip()
        == f"tint: error: Kitsu at {kitsu.url} refused the login of {kitsu.email!r}; check the credentials."
    )


def test_an_unreachable_kitsu_is_one_line_and_an_environment_failure(season: Season) -> None:
    with socket.socket() as sock:  # bound, never listening: connections are refused
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        env = tint_env(season.home, TINT_KITSU_EMAIL="bot@studio.example", TINT_KITSU_PASSWORD="x")
        run = run_tint("publish", str(season.batch_id), "--kitsu", url, env=env)
    assert run.returncode == 3
    assert run.stderr.strip() == f"tint: error: Kitsu at {url} does not answer (ConnectionError)."


def test_a_bad_status_mapping_or_no_credentials_is_refused_before_connecting(season: Season) -> None:
    run = run_tint(
        "publish",
        str(season.batch_id),
        "--kitsu",
        "http://127.0.0.1:1",
        "--status",
        "done=approved",
        env=tint_env(season.home, TINT_KITSU_EMAIL="bot@studio.example", TINT_KITSU_PASSWORD="x"),
    )
    assert run.returncode == 1
    assert "--status 'done=approved' is not STATE=KITSU_STATUS" in run.stderr
    run = run_tint(
        "publish", str(season.batch_id), "--kitsu", "http://127.0.0.1:1", env=tint_env(season.home)
    )
    assert run.returncode == 1
    assert "no Kitsu credentials: set TINT_KITSU_EMAIL and TINT_KITSU_PASSWORD" in run.stderr

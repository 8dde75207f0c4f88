"""Structured logs: a task's records carry its job, batch and drawing ids, as JSON lines or text."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from db.models import Job
from workers import logs, tasks
from workers.manifest import DrawingSpec
from workers.submit import submit_colorize


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """What the `tint` loggers write, as JSON lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.ContextFilter())
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("tint")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(old_level)


def _bad_drawing() -> DrawingSpec:
    return DrawingSpec(
        name="broken.png",
        character="x",
        view="front",
        line=b"GIF89a not a drawing",
        prompt_kind="none",
        prompt_payload={},
        hint_image=None,
    )


def test_a_task_logs_json_lines_with_its_job_batch_and_drawing(embedded, captured):
    job_id = submit_colorize(embedded, _bad_drawing())
    tasks.colorize.apply(args=[job_id])  # fails on bad input, which the task logs
    with embedded.sessions() as session:
        job = session.get(Job, job_id)
        drawing_id = job.drawing_id
    lines = [json.loads(line) for line in captured.getvalue().splitlines()]
    mine = [line for line in lines if "failed on bad input" in line["msg"]]
    assert mine, lines
    assert mine[0]["job_id"] == job_id
    assert mine[0]["drawing_id"] == drawing_id
    assert mine[0]["kind"] == "colorize" and mine[0]["task"] == "tint.colorize"
    assert "batch_id" not in mine[0]  # a single file has no batch; unset fields are left out
    assert {"ts", "level", "logger", "pid"} <= set(mine[0])


def test_context_is_cleared_when_the_task_ends(embedded, captured):
    tasks.colorize.apply(args=[submit_colorize(embedded, _bad_drawing())])
    logging.getLogger("tint.test").info("after the task")
    last = json.loads(captured.getvalue().splitlines()[-1])
    assert last["msg"] == "after the task"
    assert not {"job_id", "drawing_id", "task"} & set(last)


def test_text_format_names_the_ids_in_brackets():
    record = logging.LogRecord("tint.x", logging.INFO, __file__, 1, "stored %d assets", (4,), None)
    with logs.log_context(job_id=7, batch_id=2, drawing_id=12):
        logs.ContextFilter().filter(record)
    assert logs.TextFormatter().format(record).endswith("stored 4 assets [job=7 batch=2 drawing=12]")


def test_log_context_restores_the_previous_values():
    logs.bind(job_id=1)
    with logs.log_context(job_id=2, batch_id=5):
        assert logs.current() == {"job_id": 2, "batch_id": 5}
    assert logs.current() == {"job_id": 1}
    logs.clear()
    assert logs.current() == {}


def test_unknown_field_and_format_are_refused():
    with pytest.raises(KeyError):
        logs.bind(user="x")
    with pytest.raises(ValueError, match="TINT_LOG_FORMAT"):
        logs.configure_logging(fmt="xml")  # type: ignore[arg-type]

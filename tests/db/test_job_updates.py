"""Job updates return the row in one round trip where the database can (UPDATE ... RETURNING), and the
lifecycle answers the same where it cannot (SQLite before 3.35)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from db import job_queries
from db.models import Drawing, Job
from tests.db.test_jobs import _claim, _job


@pytest.mark.parametrize("returning", [True, False], ids=["update-returning", "update-then-read"])
def test_claim_finish_and_fail_agree_with_and_without_update_returning(
    session: Session, drawing: Drawing, returning: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a database without UPDATE ... RETURNING (SQLite before 3.35) takes the update-then-read path
    monkeypatch.setattr(session.get_bind().dialect, "update_returning", returning)
    first, second = _job(session, drawing), _job(session, drawing)
    claimed = _claim(session, first.id, worker="w1")
    assert claimed is not None and (claimed.state, claimed.attempts, claimed.worker) == ("running", 1, "w1")
    assert _claim(session, first.id, worker="w2") is None  # running under another live worker
    with session.begin():
        made = job_queries.finish_job(session, first.id, result={"ok": 1}, revision={"assets": {}})
        assert made is not None and made.job_id == first.id
    with session.begin():
        again = job_queries.finish_job(session, first.id, result={"ok": 2}, revision={"assets": {}})
        assert again is not None and again.id == made.id  # done already: its revision, nothing new
    with session.begin():
        assert job_queries.fail_job(session, first.id, error="late") is None  # done stays done
        failed = job_queries.fail_job(session, second.id, error="not an image")
        assert failed is not None and (failed.state, failed.error) == ("failed", "not an image")
    session.expunge_all()
    assert session.get(Job, first.id).result == {"ok": 1}

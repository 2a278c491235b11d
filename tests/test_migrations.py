"""Upgrading a database of the first release keeps every row: votes, authors, the log."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_app
from flask_migrate import downgrade, upgrade
from helpers import csrf_headers
from sqlalchemy import text


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_upgrading_a_first_release_database_keeps_votes_and_authors(
    database_url: str, tmp_path: Path
) -> None:
    from discussion.extensions import db

    app = make_app(database_url, tmp_path / "instance")
    client = app.test_client()
    headers = csrf_headers(client)
    asked = client.post("/api/v1/events/smartcities/questions", json={"body": "Kept?"},
                        headers=headers).get_json()
    client.put(f"/api/v1/questions/{asked['id']}/vote", headers=headers)
    client.put("/api/v1/questions/1/vote", headers=headers)

    def counts() -> tuple[int, int, int]:
        db.session.rollback()  # a fresh read: the migrations ran on their own connection
        return (
            db.session.scalar(text("SELECT count(*) FROM votes")),
            db.session.scalar(text("SELECT count(*) FROM questions "
                                   "WHERE participant_id IS NOT NULL")),
            db.session.scalar(text("SELECT count(*) FROM participants")),
        )

    with app.app_context():
        before = counts()
        assert before == (2, 1, 1)
        # The migrations need every table to themselves (PostgreSQL waits for locks).
        db.session.remove()
        db.engine.dispose()
        downgrade(revision="9b1ed485688c")  # the first release's schema, with its rows
        assert counts() == before
        # As the first release stored it: an unkeyed SHA-256 digest.
        db.session.execute(text("UPDATE participants SET key = :k"), {"k": "ab" * 32})
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
        upgrade()
        assert counts() == before
        db.session.rollback()
        # Marked, to be rewritten as a keyed HMAC when its phone comes back.
        assert db.session.scalar(text("SELECT key FROM participants")) == "legacy:" + "ab" * 32
        db.session.remove()
        db.engine.dispose()

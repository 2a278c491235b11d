"""Everything survives a restart: a new app process on the same database file."""

from __future__ import annotations

from pathlib import Path

from conftest import make_app
from flask_migrate import upgrade
from helpers import csrf_headers

from discussion.extensions import db


def test_posts_votes_and_comments_survive_a_restart(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'room.db'}"
    first = make_app(url, tmp_path / "instance")
    phone = first.test_client()
    headers = csrf_headers(phone)
    qid = phone.post("/api/v1/events/smartcities/questions",
                     json={"body": "¿Sobrevive a un reinicio? 🙂", "client_id": "r-1"},
                     headers=headers).get_json()["id"]
    phone.put(f"/api/v1/questions/{qid}/vote", headers=headers)
    phone.post(f"/api/v1/questions/{qid}/comments", json={"body": "Sí."}, headers=headers)
    cookies = {c.key: c.value for c in phone._cookies.values()}
    with first.app_context():
        db.engine.dispose()

    second = make_app(url, tmp_path / "instance")  # migrates and re-seeds: both idempotent
    again = second.test_client()
    for key, value in cookies.items():
        again.set_cookie(key, value)
    questions = again.get("/api/v1/events/smartcities/questions").get_json()["questions"]
    mine = next(q for q in questions if q["id"] == qid)
    assert mine["body"] == "¿Sobrevive a un reinicio? 🙂"
    assert (mine["votes"], mine["comments"], mine["mine"], mine["voted"]) == (1, 1, True, True)
    assert sum(q["seeded"] for q in questions) == 10  # the seed did not add copies
    # The retry key still works after the restart: the same question comes back.
    retried = again.post("/api/v1/events/smartcities/questions",
                         json={"body": "¿Sobrevive a un reinicio? 🙂", "client_id": "r-1"},
                         headers=csrf_headers(again))
    assert retried.status_code == 200 and retried.get_json()["id"] == qid
    with second.app_context():
        upgrade()  # a second upgrade is a no-op
        db.engine.dispose()


def test_secret_key_is_generated_once_and_kept(tmp_path: Path):
    instance = tmp_path / "instance"
    url = f"sqlite:///{tmp_path / 'room.db'}"
    first = make_app(url, instance, SECRET_KEY=None)
    key_file = instance / "secret_key"
    assert key_file.exists() and oct(key_file.stat().st_mode & 0o777) == "0o600"
    second = make_app(url, instance, SECRET_KEY=None)
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"] == key_file.read_text()
    for app in (first, second):
        with app.app_context():
            db.engine.dispose()

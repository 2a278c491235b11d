"""An event with everything an export must handle, built through the real API, and the
helpers the export tests share (importable as ``export_room``)."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import select

from discussion import create_app
from discussion.extensions import db
from discussion.models import Participant

API = "/api/v1"
CODE = "smartcities"
ROOT = Path(__file__).resolve().parent.parent
FORMATS = ("csv", "json", "md", "html")

NAMED_Q = "¿Quién da el consentimiento? São Paulo, Señora Núñez 🙂 é ñ ã"
ANON_Q = "Who audits the sensors? Ação cidadã 🙂"
SECRET_Q = "Do not quote me: dados pessoais NOQUOTE-Q 🙂"
HTML_Q = "<script>alert('x')</script> & *bold* | pipe # hash"
HIDDEN_Q = "Personal attack HIDDEN-Q-TEXT"
HIDDEN_NAMED_Q = "Names a neighbour HIDDEN-NAMED-Q"
DUP_Q = "¿Quién da el consentimiento? (duplicate)"
EDITED_Q = "Typo in teh question"
NAMED_C = "Buena pregunta, señor 🙂 ñ"
SECRET_C = "Comentario NOQUOTE-C reservado"
HIDDEN_C = "Spam HIDDEN-C-TEXT"
ANON_NAME = "Bruno Secreto"  # given, but with quote: anonymous
NAME = "Ana Núñez"
HIDDEN_NAME = "Carla Oculta"  # quote: named, on posts a moderator hid


def ask(client: FlaskClient, headers: dict[str, str], body: str, code: str = CODE,
        **extra: Any) -> int:
    r = client.post(f"{API}/events/{code}/questions", json={"body": body, **extra},
                    headers=headers)
    assert r.status_code == 201, r.get_json()
    return int(r.get_json()["id"])


def comment(client: FlaskClient, headers: dict[str, str], qid: int, body: str,
            **extra: Any) -> int:
    r = client.post(f"{API}/questions/{qid}/comments", json={"body": body, **extra},
                    headers=headers)
    assert r.status_code == 201, r.get_json()
    return int(r.get_json()["id"])


def vote(client: FlaskClient, headers: dict[str, str], qid: int) -> None:
    r = client.put(f"{API}/questions/{qid}/vote", headers=headers)
    assert r.status_code == 200, r.get_json()


def moderate(client: FlaskClient, headers: dict[str, str], path: str, **data: Any) -> None:
    r = client.post(f"{API}/{path}/moderate", json=data, headers=headers)
    assert r.status_code == 200, r.get_json()


def build_room(app: Flask, client: FlaskClient, new_client: Any, csrf: Any,
               staff_login: Any) -> dict[str, Any]:
    """Three participants post, vote and comment; an organiser moderates."""
    ana, bruno, carla = client, new_client(), new_client()
    ha, hb, hc = csrf(ana), csrf(bruno), csrf(carla)
    ids: dict[str, Any] = {}
    ids["named"] = ask(ana, ha, NAMED_Q, topic="consent", author=NAME, quote="named")
    ids["anon"] = ask(bruno, hb, ANON_Q, topic="consent", author=ANON_NAME)
    ids["secret"] = ask(bruno, hb, SECRET_Q, topic="privacy", author=ANON_NAME, quote="none")
    ids["html"] = ask(ana, ha, HTML_Q)
    ids["hidden"] = ask(bruno, hb, HIDDEN_Q, topic="consent")
    ids["hidden_named"] = ask(carla, hc, HIDDEN_NAMED_Q, topic="consent", author=HIDDEN_NAME,
                              quote="named")
    ids["dup"] = ask(bruno, hb, DUP_Q, topic="consent")
    ids["edited"] = ask(ana, ha, EDITED_Q, topic="privacy", author=NAME, quote="named")
    for qid in (ids["named"], ids["anon"], ids["secret"]):
        vote(ana, ha, qid)
    vote(bruno, hb, ids["named"])
    vote(bruno, hb, ids["dup"])
    ids["c_named"] = comment(ana, ha, ids["anon"], NAMED_C, author=NAME, quote="named")
    ids["c_secret"] = comment(bruno, hb, ids["anon"], SECRET_C, quote="none")
    ids["c_hidden"] = comment(carla, hc, ids["named"], HIDDEN_C, author=HIDDEN_NAME,
                              quote="named")

    staff = new_client()
    staff_login(staff, "organiser")
    hs = csrf(staff)
    moderate(staff, hs, f"questions/{ids['hidden']}", action="hide", reason="Personal attack",
             reason_code="personal_attack")
    moderate(staff, hs, f"questions/{ids['hidden_named']}", action="hide",
             reason="Names a neighbour")
    moderate(staff, hs, f"comments/{ids['c_hidden']}", action="hide", reason="Spam")
    moderate(staff, hs, f"questions/{ids['named']}", action="answer")
    moderate(staff, hs, f"questions/{ids['edited']}", action="edit",
             body="Typo in the question", reason="typo")
    moderate(staff, hs, f"questions/{ids['dup']}", action="merge", into=ids["named"])

    ids["cookies"] = [c.get_cookie("discussion_participant").value for c in (ana, bruno, carla)]
    with app.app_context():
        ids["keys"] = [k for k in db.session.scalars(select(Participant.key)) if k]
    assert len(ids["keys"]) >= 3
    ids["staff"] = staff
    ids["staff_headers"] = hs
    return ids


def cli_export(runner: Any, fmt: str, *args: str, code: str = CODE) -> bytes:
    result = runner.invoke(args=["export", code, "--format", fmt, *args])
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


def archive_of(runner: Any, code: str = CODE) -> dict[str, Any]:
    return json.loads(cli_export(runner, "json", code=code))


def csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def fresh_app(tmp_path: Path, name: str, database_url: str | None = None) -> Flask:
    """A second, empty, migrated database (no seed)."""
    instance = tmp_path / f"instance-{name}"
    os.environ["DISCUSSION_INSTANCE_PATH"] = str(instance)
    app = create_app({
        "TESTING": True, "SECRET_KEY": "another-secret", "SOCKETIO_ASYNC_MODE": "threading",
        "DATABASE_URL": database_url or f"sqlite:///{tmp_path / (name + '.db')}",
        "VOTE_TICK": 0, "RATELIMIT_ENABLED": False,
    })
    with app.app_context():
        upgrade()
    return app

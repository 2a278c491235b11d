"""The participant page as the server sends it: its final layout before any script,
fingerprinted static files cached for good, and the messages a phone shows."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from helpers import csrf_headers

from discussion.assets import IMMUTABLE

CODE = "smartcities"


def page(client: FlaskClient, path: str = f"/e/{CODE}", **headers: str) -> str:
    response = client.get(path, headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_static_urls_carry_a_content_hash_and_are_cached_for_good(client: FlaskClient) -> None:
    html = page(client)
    urls = dict(re.findall(r'(?:src|href)="(/static/([\w/.-]+)\?v=[0-9a-f]{12})"', html))
    names = set(urls.values())
    assert {"css/app.css", "js/participant.js", "js/privacy.js", "js/lib.js",
            "vendor/socket.io.min.js"} <= names, names
    assert re.search(r'<script type="module" src="/static/js/participant\.js\?v=', html)
    for url in urls:
        r = client.get(url)
        assert r.status_code == 200
        assert r.headers["Cache-Control"] == IMMUTABLE, url
    # Without the hash, or with an old one, the lifetime stays short.
    for url in ("/static/css/app.css", "/static/css/app.css?v=000000000000"):
        r = client.get(url)
        assert r.status_code == 200
        assert "immutable" not in r.headers["Cache-Control"]
        assert "max-age=3600" in r.headers["Cache-Control"]


def test_modules_import_each_other_by_fingerprint(client: FlaskClient) -> None:
    html = page(client)
    lib = re.search(r'href="(/static/js/lib\.js\?v=[0-9a-f]{12})"', html)
    assert lib, "lib.js is not preloaded"
    participant = re.search(r'src="(/static/js/participant\.js\?v=[0-9a-f]{12})"', html)
    assert participant
    source = client.get(participant.group(1)).get_data(as_text=True)
    # The same URL as the preload, so the browser fetches it once.
    assert f"from './lib.js?v={lib.group(1).rsplit('=', 1)[1]}'" in source
    assert "from './lib.js'" not in source


def test_a_changed_file_gets_a_new_hash(app: Flask, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from discussion.assets import Assets

    (tmp_path / "js").mkdir()
    lib, main = tmp_path / "js" / "lib.js", tmp_path / "js" / "main.js"
    lib.write_text("export const a = 1;\n")
    main.write_text("import { a } from './lib.js';\n")
    assets = Assets(str(tmp_path))
    before, main_before = assets.version("js/lib.js"), assets.version("js/main.js")
    lib.write_text("export const a = 2;\n")
    os.utime(lib, (lib.stat().st_atime, lib.stat().st_mtime + 5))
    assert assets.version("js/lib.js") != before
    # The importing module's bytes name the new hash, so its own hash changes too.
    assert assets.version("js/main.js") != main_before
    body = (assets.body("js/main.js") or b"").decode()
    assert f"./lib.js?v={assets.version('js/lib.js')}" in body
    assert assets.version("../secret") is None and assets.version("js/nope.js") is None


def test_the_page_is_rendered_in_its_final_layout(client: FlaskClient) -> None:
    html = page(client)
    form = re.search(r"<form id=\"ask-form\"[^>]*>", html)
    assert form and "hidden" not in form.group(0) and 'data-state="compact"' in form.group(0)
    assert re.search(r'<div class="toolbar needs-js" id="toolbar">', html)
    assert 'id="live-info"' in html and 'id="live-info" hidden' not in html
    assert re.search(r'<input id="ask-author"[^>]*maxlength="60"', html)
    assert 'placeholder="Ask a question"' in html
    # Every card with its upvote button, ready to be taken over by the script.
    assert html.count('class="upvote"') == html.count('<li class="card q')
    assert html.count('class="upvote"') >= 10
    # Without JavaScript the controls step aside through a stylesheet, not a late script.
    assert re.search(r'<noscript><link rel="stylesheet" href="/static/css/nojs\.css\?v=', html)


def test_times_are_written_in_the_reader_s_language(app: Flask) -> None:
    from discussion.views import ago

    old = (datetime.now(UTC) - timedelta(minutes=10)).isoformat()
    with app.test_request_context(headers={"Accept-Language": "es"}):
        assert ago(old) == "hace 10 min"
        assert ago(datetime.now(UTC).isoformat()) == "ahora"
        assert ago("not a date") == ""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert ago("2016-12-08T10:00:00").endswith("ago")


def test_answered_questions_are_grouped_apart(client: FlaskClient, staff_login) -> None:  # type: ignore[no-untyped-def]
    staff = client.application.test_client()
    staff_login(staff, "organiser")
    r = staff.post("/api/v1/questions/2/moderate", json={"action": "answer"},
                   headers=csrf_headers(staff))
    assert r.status_code == 200, r.get_data(as_text=True)
    html = page(client)
    open_list = html.split('<ol id="q-list"', 1)[1].split("</ol>", 1)[0]
    done = html.split('<details id="answered"', 1)[1].split("</details>", 1)[0]
    assert 'id="q-2"' in done and 'id="q-2"' not in open_list
    assert "Answered (1)" in done and " open" not in done.split(">", 1)[0]


def test_a_closed_event_says_what_is_closed(client: FlaskClient, staff_login) -> None:  # type: ignore[no-untyped-def]
    staff = client.application.test_client()
    staff_login(staff, "organiser")
    r = staff.patch(f"/api/v1/events/{CODE}", json={"status": "closed"},
                    headers=csrf_headers(staff))
    assert r.status_code == 200
    html = page(client)
    assert "This event is closed: no new questions, votes or comments." in html
    assert re.search(r"<form id=\"ask-form\"[^>]* hidden>", html)
    assert re.search(r'class="upvote"[^>]* disabled', html)


def test_after_forget_me_the_page_says_it_was_done(client: FlaskClient) -> None:
    html = page(client, f"/e/{CODE}?forgotten=1")
    assert 'id="forgotten-note"' in html
    assert "this phone no longer keeps your name, consent or drafts" in html
    assert 'id="forgotten-note"' not in page(client)


def test_too_long_a_name_is_refused_in_a_sentence(client: FlaskClient) -> None:
    headers = csrf_headers(client)
    r = client.post(f"/api/v1/events/{CODE}/questions",
                    json={"body": "Who decides?", "author": "n" * 61}, headers=headers)
    assert r.status_code == 400
    assert r.get_json()["error"] == {
        "code": "too_long",
        "message": "Your name is too long: please keep it to 60 characters.",
    }
    r = client.post(f"/api/v1/events/{CODE}/questions",
                    json={"body": "Who decides?", "author": "n" * 61},
                    headers={**headers, "Accept-Language": "pt-BR"})
    message = r.get_json()["error"]["message"]
    assert message == "Seu nome é longo demais: use no máximo 60 caracteres."
    assert client.post(f"/api/v1/events/{CODE}/questions",
                       json={"body": "Who decides?", "author": "n" * 60},
                       headers=headers).status_code == 201


def test_the_staff_page_loads_its_module(client: FlaskClient, staff_login) -> None:  # type: ignore[no-untyped-def]
    staff_login(client, "organiser")
    html = page(client, "/staff")
    assert re.search(r'<script type="module" src="/static/js/staff\.js\?v=[0-9a-f]{12}">', html)

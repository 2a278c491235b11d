"""The event's own content in the room's languages: title, description, place, policy and
topic names in the reader's language on the phone, the board, the privacy and join pages,
the API and the live messages, with the texts as written kept for editing."""

from __future__ import annotations

import html as html_lib
import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from helpers import received

from discussion.extensions import db
from discussion.models import Event
from discussion.queries import localised_event

API = "/api/v1"
CODE = "smartcities"
BROWSER = {"en": "en-GB,en;q=0.9", "es": "es-MX,es;q=0.9,en;q=0.5",
           "pt_BR": "pt-BR,pt;q=0.9,en;q=0.5"}
# The bundled workshop, as its seed file gives it in each language.
TITLE = {
    "en": "Smart Cities and Big Data: Boundless Opportunities?",
    "es": "Ciudades inteligentes y big data: ¿oportunidades sin límites?",
    "pt_BR": "Cidades inteligentes e big data: oportunidades sem limites?",
}
PLACE = {"en": "Guadalajara, Mexico", "es": "Guadalajara, México", "pt_BR": "Guadalajara, México"}
DESCRIPTION_START = {"en": "Smart cities set up interconnected systems",
                     "es": "Las ciudades inteligentes instalan sistemas interconectados",
                     "pt_BR": "As cidades inteligentes implantam sistemas interconectados"}
POLICY_START = {"en": "Questions and comments stay on the workshop's themes",
                "es": "Las preguntas y los comentarios se mantienen en los temas del taller",
                "pt_BR": "Perguntas e comentários se mantêm nos temas da oficina"}
TOPIC = {"en": "Data provenance", "es": "Origen de los datos", "pt_BR": "Origem dos dados"}
LOCALES = tuple(TITLE)


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Cached answers live long enough for the tests to see them shared."""
    return {"CACHE_TTL": 60}


def page(client: FlaskClient, url: str, locale: str) -> str:
    response = client.get(url, headers={"Accept-Language": BROWSER[locale]})
    assert response.status_code == 200, url
    return html_lib.unescape(response.get_data(as_text=True))


def page_data(html: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', html, re.S)
    assert match, "no page data"
    return json.loads(match.group(1))


# -- the API


@pytest.mark.parametrize("locale", LOCALES)
def test_the_api_answers_in_the_readers_language_with_every_translation(
    client: FlaskClient, locale: str
) -> None:
    event = client.get(f"{API}/events/{CODE}",
                       headers={"Accept-Language": BROWSER[locale]}).get_json()
    assert event["title"] == TITLE[locale]
    assert event["place"] == PLACE[locale]
    assert event["description"].startswith(DESCRIPTION_START[locale])
    assert event["policy"].startswith(POLICY_START[locale])
    topics = {t["slug"]: t for t in event["topics"]}
    assert topics["data-provenance"]["name"] == TOPIC[locale]
    assert topics["data-provenance"]["translations"] == {"es": TOPIC["es"],
                                                         "pt_BR": TOPIC["pt_BR"]}
    # Every language, and the texts as written, whatever the reader's language.
    assert set(event["translations"]) == {"es", "pt_BR"}
    assert event["translations"]["es"]["title"] == TITLE["es"]
    assert event["original"]["title"] == TITLE["en"]
    assert {"slug": "data-provenance", "name": TOPIC["en"]} in event["original"]["topics"]
    moderation = client.get(f"{API}/events/{CODE}/moderation",
                            headers={"Accept-Language": BROWSER[locale]}).get_json()
    assert moderation["policy"].startswith(POLICY_START[locale])


def test_the_language_cookie_wins_over_the_browser(client: FlaskClient) -> None:
    client.get("/lang/pt_BR?next=/")
    event = client.get(f"{API}/events/{CODE}",
                       headers={"Accept-Language": BROWSER["es"]}).get_json()
    assert event["title"] == TITLE["pt_BR"]


def test_a_missing_text_falls_back_to_the_one_written(app: Flask) -> None:
    with app.app_context():
        event = db.session.query(Event).filter_by(code=CODE).one()
        event.translations = {"es": {"title": "Solo el título"}}
        content = localised_event(event, "es_MX")  # a regional variant finds its language
        assert content.title == "Solo el título"
        assert content.place == PLACE["en"] and content.policy.startswith(POLICY_START["en"])
        assert localised_event(event, "pt").title == TITLE["en"]  # no pt translation left
        assert localised_event(event, None).title == TITLE["en"]
        assert localised_event(event, "pt").topics["data-provenance"] == TOPIC["pt_BR"]


# -- the pages


@pytest.mark.parametrize("locale", LOCALES)
def test_the_phone_page_shows_the_event_in_the_readers_language(
    client: FlaskClient, locale: str
) -> None:
    html = page(client, f"/e/{CODE}", locale)
    assert f'<h1 class="page-title">{TITLE[locale]}</h1>' in html
    assert PLACE[locale] in html and DESCRIPTION_START[locale] in html
    assert f'<option value="data-provenance">{TOPIC[locale]}</option>' in html
    # The seeded question's topic line, and the data the script starts from.
    assert f"<span>{TOPIC[locale]}</span>" in html
    assert page_data(html)["event"]["title"] == TITLE[locale]
    for other in LOCALES:
        if other != locale:
            assert TITLE[other] not in html.split("<body", 1)[1].split('id="page-data"')[0]


@pytest.mark.parametrize("locale", LOCALES)
def test_the_board_privacy_and_join_pages_follow_the_reader(
    client: FlaskClient, locale: str
) -> None:
    board = page(client, f"/e/{CODE}/board", locale)
    assert f'id="b-title">{TITLE[locale]}</h1>' in board
    assert f'<option value="data-provenance">{TOPIC[locale]}</option>' in board
    assert page_data(board)["event"]["title"] == TITLE[locale]
    privacy = page(client, f"/e/{CODE}/privacy", locale)
    assert POLICY_START[locale] in privacy and f"← {TITLE[locale]}</a>" in privacy
    join = page(client, "/", locale)
    assert TITLE[locale] in join and PLACE[locale] in join


def test_the_cached_phone_page_is_kept_per_language(client: FlaskClient, app: Flask) -> None:
    order = ["es", "en", "pt_BR", "es", "en"]
    for locale in order:
        html = page(client, f"/e/{CODE}", locale)
        assert f'<h1 class="page-title">{TITLE[locale]}</h1>' in html, locale


def test_the_console_edits_the_texts_as_written(
    client: FlaskClient, staff_login: Any
) -> None:
    staff_login(client)
    html = page(client, f"/e/{CODE}/moderate", "es")
    data = page_data(html)["event"]
    assert data["title"] == TITLE["es"]
    assert data["original"]["title"] == TITLE["en"]
    assert data["original"]["policy"].startswith(POLICY_START["en"])
    assert data["translations"]["pt_BR"]["title"] == TITLE["pt_BR"]


# -- writing translations through the API


def test_organisers_set_change_and_remove_translations(
    client: FlaskClient, csrf: Any, staff_login: Any
) -> None:
    staff_login(client)
    headers = csrf(client)
    r = client.post(f"{API}/events", headers={**headers, "Accept-Language": "es"}, json={
        "code": "sala-2", "title": "Room two", "place": "Hall B",
        "topics": [{"name": "Consent", "translations": {"es": "Consentimiento"}}, "Open data"],
        "translations": {"es": {"title": "Sala dos", "place": "Salón B"},
                         "pt-BR": {"title": "Sala dois"}},
    })
    assert r.status_code == 201, r.get_json()
    created = r.get_json()
    assert created["title"] == "Sala dos" and created["place"] == "Salón B"
    assert created["translations"] == {"es": {"title": "Sala dos", "place": "Salón B"},
                                       "pt_BR": {"title": "Sala dois"}}
    assert created["topics"][0] == {"slug": "consent", "name": "Consentimiento",
                                    "translations": {"es": "Consentimiento"}}
    # A language given replaces that language; null removes one; the others stay.
    r = client.patch(f"{API}/events/sala-2", headers=headers, json={
        "translations": {"es": {"description": "Una sala."}, "pt_BR": None},
        "topics": [{"slug": "consent", "name": "Consent"},
                   {"name": "Open data", "translations": {"pt_BR": "Dados abertos"}}],
    })
    assert r.status_code == 200, r.get_json()
    changed = r.get_json()
    assert changed["translations"] == {"es": {"description": "Una sala."}}
    assert changed["title"] == "Room two"  # English reader
    topics = {t["slug"]: t["translations"] for t in changed["topics"]}
    assert topics == {"consent": {"es": "Consentimiento"}, "open-data": {"pt_BR": "Dados abertos"}}


@pytest.mark.parametrize(
    ("translations", "code", "message"),
    [
        ({"fr": {"title": "Salle"}}, "invalid_language",
         "'translations' names an unknown language 'fr' (one of en, es, pt_BR)."),
        ({"es": {"titel": "Sala"}}, "unknown_key", "translations.es: unknown key 'titel'."),
        ({"es": {"title": "x" * 201}}, "too_long",
         "translations.es: 'title' is longer than 200 characters."),
        ({"es": "Sala"}, "invalid_type", "'translations.es' must be an object."),
        ("es", "invalid_type", "'translations' must be an object."),
    ],
)
def test_bad_translations_are_refused_by_name(
    client: FlaskClient, csrf: Any, staff_login: Any, translations: Any, code: str, message: str
) -> None:
    staff_login(client)
    r = client.patch(f"{API}/events/{CODE}", headers=csrf(client),
                     json={"translations": translations})
    assert r.status_code == 400
    assert r.get_json()["error"] == {"code": code, "message": message}


def test_moderators_cannot_change_translations(
    client: FlaskClient, csrf: Any, staff_login: Any
) -> None:
    staff_login(client, role="moderator", events=(CODE,))
    r = client.patch(f"{API}/events/{CODE}", headers=csrf(client),
                     json={"translations": {"es": {"title": "Otro"}}})
    assert r.status_code == 403


# -- live: the join ack and event messages in each socket's language


def _joined(app: Flask, socket_client: Any, locale: str) -> Any:
    phone = app.test_client()
    phone.get(f"/lang/{locale}?next=/")
    sc = socket_client(phone)
    ack = sc.emit("join", {"event": CODE}, callback=True)
    assert ack["ok"] is True
    sc.get_received()
    return sc, ack


def test_sockets_get_the_event_in_their_own_language(
    app: Flask, socket_client: Any, client: FlaskClient, csrf: Any, staff_login: Any
) -> None:
    phones = {}
    for locale in ("es", "en", "pt_BR", "es"):  # the second "es" join is served from cache
        sc, ack = _joined(app, socket_client, locale)
        assert ack["event"]["title"] == TITLE[locale], locale
        assert {t["slug"]: t["name"] for t in ack["event"]["topics"]}["data-provenance"] == (
            TOPIC[locale])
        phones[locale] = sc
        # Phones and boards get the texts in their language only: less to send a room.
        assert "translations" not in ack["event"] and "original" not in ack["event"]
    staff_login(client)
    client.get("/lang/pt_BR?next=/")
    console = socket_client(client)
    ack = console.emit("join", {"event": CODE, "staff": True}, callback=True)
    # A console edits the texts: it gets them as written and in every language.
    assert ack["event"]["title"] == TITLE["pt_BR"]
    assert ack["event"]["original"]["title"] == TITLE["en"]
    assert set(ack["event"]["translations"]) == {"es", "pt_BR"}
    console.get_received()
    r = client.patch(f"{API}/events/{CODE}", headers=csrf(client),
                     json={"translations": {"es": {"title": "Nuevo título"}}})
    assert r.status_code == 200
    for locale, sc in phones.items():
        [event] = received(sc, "event")
        expected = "Nuevo título" if locale == "es" else TITLE[locale]
        assert event["title"] == expected, locale
        assert "translations" not in event
    [event] = received(console, "event")
    assert event["title"] == TITLE["pt_BR"]
    assert event["translations"]["es"]["title"] == "Nuevo título"
    # The cached join answer was dropped with the change.
    _sc, ack = _joined(app, socket_client, "es")
    assert ack["event"]["title"] == "Nuevo título"


# -- the migration


@pytest.mark.parametrize(
    "database_url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
    indirect=True,
)
def test_the_migration_keeps_every_row_both_ways(app: Flask, csrf: Any) -> None:
    """Adding and dropping the columns alters the tables in place: on SQLite, copying
    ``events`` would cascade to its topics, questions and log when the copy is dropped."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import func, select, text

    from discussion.models import ModerationEntry, Question, Topic

    phone = app.test_client()
    r = phone.post(f"{API}/events/{CODE}/questions", json={"body": "¿Y los datos?"},
                   headers=csrf(phone))
    assert r.status_code == 201

    def counts() -> tuple[int, ...]:
        with app.app_context():
            rows = tuple(
                db.session.scalar(select(func.count()).select_from(model))
                for model in (Event, Topic, Question, ModerationEntry)
            )
            linked = db.session.scalar(
                select(func.count()).select_from(Question)
                .where(Question.participant_id.is_not(None)))
            db.session.remove()
            return (*rows, linked)

    before = counts()
    assert before[1:3] == (9, 11) and before[-1] == 1
    with app.app_context():
        downgrade(revision="3c5e2a7d41f0")
        db.session.remove()
    assert counts() == before
    with app.app_context():
        upgrade()
        assert db.session.execute(text("SELECT translations FROM topics")).scalars().all()
        event = db.session.scalar(select(Event).where(Event.code == CODE))
        assert event.translations == {} and all(t.translations == {} for t in event.topics)
        db.session.remove()
    assert counts() == before

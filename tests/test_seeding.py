"""Seed files and the bundled workshop."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from discussion.extensions import db
from discussion.models import Event, Question
from discussion.seeding import SeedError, parse_seed_text, read_seed


def test_bundled_workshop(app):
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.code == "smartcities"))
        assert event.title == "Smart Cities and Big Data: Boundless Opportunities?"
        assert event.date.isoformat() == "2016-12-08"
        assert "Guadalajara" in event.place
        assert "Privacy International" in event.moderator
        assert len(event.speakers) == 6 and any("UNESCO" in s for s in event.speakers)
        assert any("Karisma" in o for o in event.organisers)
        names = {t.name for t in event.topics}
        assert {"Consent", "Transparency", "Data provenance", "Privacy", "Security",
                "Accountability", "Public education", "Cost-benefit and risk",
                "Human rights"} <= names
        seeded = db.session.scalars(select(Question).where(Question.seeded.is_(True))).all()
        assert len(seeded) >= 8
        assert all(q.participant_id is None and q.status == "visible" for q in seeded)


def test_flask_seed_is_idempotent(runner, app):
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0 and "0 new question(s)" in first.output
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(Question))
        events = db.session.scalar(select(func.count()).select_from(Event))
    assert runner.invoke(args=["seed"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Question)) == count
        assert db.session.scalar(select(func.count()).select_from(Event)) == events


def test_seed_a_file_then_update_it(runner, app, tmp_path: Path):
    seed = tmp_path / "other.toml"
    seed.write_text(
        '[event]\ncode = "Taller-2"\ntitle = "Taller"\n'
        '[[topics]]\nname = "Protección de datos"\n'
        '[[questions]]\ntopic = "proteccion-de-datos"\nbody = "¿Qué datos guardamos?"\n',
        encoding="utf-8",
    )
    result = runner.invoke(args=["seed", str(seed)])
    assert result.exit_code == 0, result.output
    assert "1 new question(s)" in result.output
    seed.write_text(seed.read_text(encoding="utf-8") + '[[questions]]\nbody = "¿Y por cuánto?"\n',
                    encoding="utf-8")
    assert "1 new question(s)" in runner.invoke(args=["seed", str(seed)]).output
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.code == "taller-2"))
        assert [t.slug for t in event.topics] == ["proteccion-de-datos"]
        assert db.session.scalar(
            select(func.count()).select_from(Question).where(Question.event_id == event.id)
        ) == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not toml = = =", "not valid TOML at line 1, column 5: '=' is missing after a key."),
        ('format = 2\n[event]\ncode = "ab"\ntitle = "x"', "unknown seed format"),
        ('[[questions]]\nbody = "x"', "[event] table is missing"),
        ('[event]\ncode = "no spaces allowed"\ntitle = "x"', "event code"),
        ('[event]\ncode = "ok-code"', "'title' is required"),
        ('[event]\ncode = "ok-code"\ntitle = "x"\n[[questions]]\ntopic = "nope"\nbody = "q"',
         "unknown topic"),
        ('[event]\ncode = "ok-code"\ntitle = "x"\n[[questions]]\nbody = ""', "must not be empty"),
    ],
)
def test_broken_seed_files_are_refused_whole(text, message):
    with pytest.raises(SeedError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_seed_text(text)


def test_cli_reports_a_broken_file_clearly(runner, tmp_path: Path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[event]\n", encoding="utf-8")
    result = runner.invoke(args=["seed", str(bad)])
    assert result.exit_code != 0 and "Error:" in result.output
    missing = runner.invoke(args=["seed", str(tmp_path / "missing.toml")])
    assert missing.exit_code != 0 and "cannot read the file" in missing.output


def test_read_seed_of_the_bundled_file_has_its_questions():
    from discussion.seeding import BUNDLED

    seed = read_seed(BUNDLED)
    assert seed.event["code"] == "smartcities"
    assert len(seed.questions) >= 8


# -- the file's rules: places named, unknown keys refused, the API's codes


def _seed(extra: str = "", event: str = "") -> str:
    return f'[event]\ncode = "ok-code"\ntitle = "A title"\n{event}{extra}'


def _problem(text: str) -> SeedError:
    with pytest.raises(SeedError) as caught:
        parse_seed_text(text)
    assert caught.value.code == "invalid_seed"
    return caught.value


def test_errors_name_the_question_they_are_in():
    text = _seed("".join(f'[[questions]]\nbody = "Question {i}"\n' for i in (1, 2))
                 + f'[[questions]]\nbody = "{"x" * 501}"\n')
    assert _problem(text).message == "question 3: 'body' is longer than 500 characters."
    text = _seed('[[questions]]\nbody = "Fine"\npinned = "yes"\n')
    assert _problem(text).message == "question 1: 'pinned' must be true or false."


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (_seed(event='titel = "Typo"\n'), "[event]: unknown key 'titel'."),
        ('formt = 1\n' + _seed(), "the file: unknown key 'formt'."),
        (_seed('[[topics]]\nname = "Privacy"\nslgu = "privacy"\n'),
         "topic 1: unknown key 'slgu'."),
        (_seed('[[questions]]\nbody = "Why?"\ntopik = "privacy"\n'),
         "question 1: unknown key 'topik'."),
        (_seed('[event.es]\ntitel = "Título"\n'), "[event.es]: unknown key 'titel'."),
        (_seed('[event.fr]\ntitle = "Titre"\n'), "[event]: unknown key 'fr'."),
        (_seed('[[topics]]\nname = "Privacy"\nfr = "Vie privée"\n'), "topic 1: unknown key 'fr'."),
        (_seed('[event.translations.fr]\ntitle = "Titre"\n'),
         "[event]: unknown key 'translations'."),
        ('event = 3\n', "[event]: 'event' must be a table."),
    ],
)
def test_unknown_keys_are_refused_by_name_and_place(text, message):
    assert _problem(text).message == message


def test_the_rules_and_codes_are_the_apis():
    error = _problem(_seed(event='status = "open"\nretention_days = 0\n'))
    assert error.message == ("[event]: 'status' is draft, live or closed. "
                             "[event]: 'retention_days' is 1 to 3650.")
    assert error.problem.code == "invalid_status"
    error = _problem(_seed(f'[event.pt_BR]\ntitle = "{"t" * 201}"\n'))
    assert error.message == "[event.pt_BR]: 'title' is longer than 200 characters."
    assert error.problem.code == "too_long"
    assert _problem(_seed(event="date = 2016-12-08T10:00:00\n")).message == (
        "[event]: 'date' is YYYY-MM-DD.")
    assert _problem(_seed(event='speakers = ["A", 3]\n')).message == (
        "[event]: 'speakers' must be a string.")
    assert _problem(_seed('[[topics]]\nname = "A b"\n[[topics]]\nname = "a-b"\n')).message == (
        "topic 2: The topic 'a-b' is given twice.")


def test_many_problems_are_counted_after_the_first_five():
    text = _seed("".join(f'[[questions]]\nbody = ""\nn{i} = 1\n' for i in range(4)))
    message = _problem(text).message
    assert message.startswith("question 1: 'body' must not be empty. question 1: unknown key")
    assert message.endswith("(and 3 more problems)")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[event]\ncode = "ok"\ntitle = Smart', "not valid TOML at line 3, column 9: the value "
         "is not valid (text needs quotes, dates are YYYY-MM-DD)."),
        ('[event\n', "not valid TOML at line 1, column 7: ']' is missing at the end of a "
         "[table] header."),
        ('[event]\ncode = "a"\ncode = "b"\n', "not valid TOML at line 3, column 11: a key or "
         "table is defined twice."),
        ('[event]\ntitle = "open', "not valid TOML at the end of the file: a string is not "
         "closed (a quote is missing)."),
    ],
)
def test_toml_syntax_errors_give_line_and_column(text, message):
    assert _problem(text).message == message


# -- topics by slug or by name


def test_questions_name_topics_by_slug_or_by_any_name():
    seed = parse_seed_text(_seed(
        '[[topics]]\nname = "Data provenance"\nes = "Origen de los datos"\n'
        '[[topics]]\nslug = "priv"\nname = "Privacy"\n'
        '[[questions]]\nbody = "a"\ntopic = "data-provenance"\n'
        '[[questions]]\nbody = "b"\ntopic = "Data provenance"\n'
        '[[questions]]\nbody = "c"\ntopic = "privacy"\n'
        '[[questions]]\nbody = "d"\ntopic = "origen de los datos"\n'
        '[[questions]]\nbody = "e"\n'
    ))
    assert [q["topic"] for q in seed.questions] == [
        "data-provenance", "data-provenance", "priv", "data-provenance", None]


def test_an_unknown_or_ambiguous_topic_is_named():
    topics = '[[topics]]\nname = "Privacy"\n[[topics]]\nname = "Security"\n'
    assert _problem(_seed(topics + '[[questions]]\nbody = "a"\n[[questions]]\nbody = "b"\n'
                          'topic = "Consent"\n')).message == (
        "question 2: unknown topic 'Consent' (the topics are privacy, security).")
    ambiguous = ('[[topics]]\nname = "Privacy"\nes = "Data"\n'
                 '[[topics]]\nname = "Data"\nslug = "data-topic"\n'
                 '[[questions]]\nbody = "a"\ntopic = "data"\n')
    assert _problem(_seed(ambiguous)).message == (
        "question 1: the topic 'data' could be data-topic, privacy: give its slug.")


# -- reloads: every load logged, the status kept unless told


def _log(app, code="smartcities"):
    from discussion.models import ModerationEntry

    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.code == code))
        return [(e.action, e.user_id, e.reason) for e in db.session.scalars(
            select(ModerationEntry).where(ModerationEntry.event_id == event.id)
            .order_by(ModerationEntry.id))]


def _set_status(app, status, code="smartcities"):
    with app.app_context():
        db.session.scalar(select(Event).where(Event.code == code)).status = status
        db.session.commit()


def test_a_reload_keeps_a_closed_event_closed_and_is_logged(runner, app, client):
    _set_status(app, "closed")
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    assert "stays closed (the file says live; give --status live" in result.output
    with app.app_context():
        assert db.session.scalar(select(Event.status).where(Event.code == "smartcities")) == (
            "closed")
    assert _log(app) == [("load_seed", None, "0 question(s) added")]
    public = client.get("/api/v1/events/smartcities/moderation").get_json()["entries"]
    assert public == []  # nothing changed in public


def test_an_explicit_status_reopens_and_is_in_the_public_log(runner, app, client):
    _set_status(app, "closed")
    result = runner.invoke(args=["seed", "--status", "live"])
    assert result.exit_code == 0, result.output
    assert "stays" not in result.output
    assert _log(app) == [("status:live", None, ""), ("load_seed", None, "0 question(s) added")]
    public = client.get("/api/v1/events/smartcities/moderation").get_json()["entries"]
    assert [e["action"] for e in public] == ["status:live"]
    assert runner.invoke(args=["seed", "--status", "open"]).exit_code != 0


def test_a_new_event_takes_the_files_status(runner, app, tmp_path: Path):
    seed = tmp_path / "draft.toml"
    seed.write_text('[event]\ncode = "draft-one"\ntitle = "Draft"\nstatus = "draft"\n',
                    encoding="utf-8")
    assert runner.invoke(args=["seed", str(seed)]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(Event.status).where(Event.code == "draft-one")) == "draft"
    assert _log(app, "draft-one") == [("load_seed", None, "0 question(s) added")]


def test_the_console_upload_keeps_the_status_and_is_logged(app, client, csrf, staff_login):
    user_id = staff_login(client)
    headers = csrf(client)
    _set_status(app, "closed")
    from discussion.seeding import BUNDLED

    text = BUNDLED.read_text(encoding="utf-8")
    r = client.post("/api/v1/events/seed", json={"toml": text}, headers=headers)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["event"]["status"] == "closed" and r.get_json()["added"] == 0
    r = client.post("/api/v1/events/seed", json={"toml": text, "status": "live"},
                    headers=headers)
    assert r.status_code == 200 and r.get_json()["event"]["status"] == "live"
    assert _log(app) == [("load_seed", user_id, "0 question(s) added"),
                         ("status:live", user_id, ""),
                         ("load_seed", user_id, "0 question(s) added")]
    # The raw TOML body takes the status from the query string.
    r = client.post("/api/v1/events/seed?status=closed", data=text.encode(),
                    headers={**headers, "Content-Type": "application/toml"})
    assert r.status_code == 200 and r.get_json()["event"]["status"] == "closed"
    bad = client.post("/api/v1/events/seed", json={"toml": text, "status": "open"},
                      headers=headers)
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid_status"


def test_console_upload_errors_name_the_place_in_the_readers_language(
    client, csrf, staff_login
):
    staff_login(client)
    headers = csrf(client)
    cases = {
        "es": ("pregunta 1: 'body' tiene más de 500 caracteres.",
               "TOML no válido en la línea 3, columna 9"),
        "pt-BR": ("pergunta 1: 'body' tem mais de 500 caracteres.",
                  "TOML inválido na linha 3, coluna 9"),
    }
    for lang, (too_long, syntax) in cases.items():
        h = {**headers, "Accept-Language": lang}
        r = client.post("/api/v1/events/seed", headers=h,
                        json={"toml": _seed(f'[[questions]]\nbody = "{"x" * 501}"\n')})
        assert r.status_code == 400
        assert r.get_json()["error"] == {"code": "invalid_seed", "message": too_long}
        r = client.post("/api/v1/events/seed", headers=h,
                        json={"toml": '[event]\ncode = "ok"\ntitle = Smart'})
        assert r.get_json()["error"]["code"] == "invalid_seed"
        assert r.get_json()["error"]["message"].startswith(syntax)

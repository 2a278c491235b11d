"""English, Spanish and Brazilian Portuguese: complete catalogues, translated pages and errors.

The catalogues live in discussion/translations (``make i18n-extract i18n-update`` to refresh
them, ``make i18n-compile`` for the .mo files the app reads, which are committed so that
every install has them). These tests fail when a string in the code or templates is missing
from messages.pot, when a message lacks a translation, when a committed .mo differs from its
.po, and when a page or an error answers in the wrong language.
"""

from __future__ import annotations

import ast
import functools
import re
import shlex
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from babel.dates import format_datetime
from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "discussion" / "translations"
POT = TRANSLATIONS / "messages.pot"
LOCALES = ("es", "pt_BR")
PLURAL_FORMS = {"es": "nplurals=2; plural=(n != 1);", "pt_BR": "nplurals=2; plural=(n > 1);"}
BROWSER = {"es": "es-MX,es;q=0.9,en;q=0.5", "pt_BR": "pt-BR,pt;q=0.9,en;q=0.5"}
HTML_LANG = {"es": "es", "pt_BR": "pt-BR"}
CODE = "smartcities"


def _keywords() -> list[str]:
    """The extra extraction keywords, read from mk/i18n.mk so the test and make agree."""
    match = re.search(r"^I18N_KEYWORDS\s*:=\s*(.+)$", (ROOT / "mk" / "i18n.mk").read_text(), re.M)
    assert match, "mk/i18n.mk defines no I18N_KEYWORDS"
    return shlex.split(match.group(1))


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


def _key(message: Any) -> tuple[Any, Any]:
    return (message.context, message.id)


@functools.cache
def _translations(locale: str) -> Translations:
    translations = Translations.load(str(TRANSLATIONS), [locale])
    assert isinstance(translations, Translations), f"no compiled {locale} catalogue"
    return translations


def _tr(locale: str, msgid: str, **params: Any) -> str:
    """A message as the app shows it in ``locale``."""
    text = _translations(locale).gettext(msgid)
    return text % params if params else text


# -- the catalogues


def test_pot_is_up_to_date(tmp_path: Path) -> None:
    """Extracting again finds exactly the messages of the committed messages.pot."""
    fresh = tmp_path / "messages.pot"
    CommandLineInterface().run(
        [
            "pybabel",
            "extract",
            "-F",
            str(ROOT / "babel.cfg"),
            *_keywords(),
            "--no-location",
            "--sort-output",
            "-o",
            str(fresh),
            str(ROOT),
        ]
    )
    extracted = {_key(m) for m in _read(fresh) if m.id}
    committed = {_key(m) for m in _read(POT) if m.id}
    missing = sorted(str(k[1]) for k in extracted - committed)
    unused = sorted(str(k[1]) for k in committed - extracted)
    assert not missing, (
        "strings missing from messages.pot (run `make i18n-extract i18n-update` and translate "
        f"them in every catalogue): {missing}"
    )
    assert not unused, (
        f"messages.pot has strings the code no longer uses (run `make i18n-extract`): {unused}"
    )


def test_every_domain_error_class_is_an_extraction_keyword() -> None:
    """Domain errors are translated at the edge, so each class must be extracted."""
    from discussion import errors

    keywords = {k.split(":")[0] for k in _keywords() if k != "-k"}
    classes = {errors.DomainError.__name__}
    classes |= {cls.__name__ for cls in errors.DomainError.__subclasses__()}
    assert classes <= keywords, f"add to I18N_KEYWORDS: {sorted(classes - keywords)}"


# A message that is not a literal cannot be extracted, so it would stay in English.
NON_LITERAL_ALLOWED = {# rules.schemas and rules.problems turn a pydantic error back
                       # into the project's error: its template comes from a literal where
                       # one of our own rules raised it (`_fail(...)` is checked below),
                       # never from the input.
                       ("schemas.py", "str(error['msg'])"),
                       ("problems.py", "exc.message_template"),
                       ("problems.py", "error['msg']")}


def test_every_domain_error_message_is_a_literal_template() -> None:
    from discussion import errors

    names = {errors.DomainError.__name__, "_fail"}
    names |= {cls.__name__ for cls in errors.DomainError.__subclasses__()}
    offending = []
    for path in sorted((ROOT / "discussion").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = getattr(func, "id", None) or getattr(func, "attr", None)
            if name not in names or len(node.args) < 2:
                continue
            message = node.args[1]
            if isinstance(message, ast.Constant) and isinstance(message.value, str):
                continue
            if (path.name, ast.unparse(message)) not in NON_LITERAL_ALLOWED:
                offending.append(f"{path.name}:{node.lineno} {ast.unparse(node)[:90]}")
    assert not offending, "use a literal English template with %(name)s params: " + "; ".join(
        offending
    )


_PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[-#0 +]*\d*(?:\.\d+)?([sdifr%])")


def _placeholders(text: str) -> Counter[tuple[str | None, str]]:
    return Counter(
        (m.group(1), m.group(2)) for m in _PLACEHOLDER.finditer(text) if m.group(2) != "%"
    )


def _stray_percent(text: str) -> bool:
    """A % that is neither a placeholder nor %% would break the %-formatting."""
    return "%" in _PLACEHOLDER.sub("", text)


@pytest.mark.parametrize("locale", LOCALES)
def test_catalogue_is_complete(locale: str) -> None:
    pot = _read(POT)
    po = _read(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po", locale=locale)
    assert po.plural_forms == PLURAL_FORMS[locale]
    assert not po.fuzzy, "the catalogue header is marked fuzzy: pybabel compile skips it"
    problems: list[str] = []
    for template in pot:
        if not template.id:
            continue
        message = po.get(template.id, context=template.context)
        label = repr(template.id)
        if message is None:
            problems.append(f"missing: {label}")
            continue
        if message.fuzzy:
            problems.append(f"fuzzy: {label}")
        sources = [template.id] if isinstance(template.id, str) else list(template.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        if isinstance(template.id, tuple) and len(strings) != 2:
            problems.append(f"{len(strings)} plural forms instead of 2: {label}")
        if not all(s and s.strip() for s in strings):
            problems.append(f"untranslated: {label}")
            continue
        expected = _placeholders(sources[-1])
        for source in sources:
            assert _placeholders(source) == expected or isinstance(template.id, tuple), source
        for string in strings:
            if _placeholders(string) != _placeholders(sources[0]):
                problems.append(f"placeholders differ: {label} -> {string!r}")
            if _stray_percent(string):
                problems.append(f"stray %: {label} -> {string!r}")
    for message, errors in po.check():
        problems.extend(f"{message.id!r}: {error}" for error in errors)
    assert not problems, f"{locale}: " + "\n".join(problems)


def _compiled_messages(catalog: Catalog) -> dict[tuple[Any, Any], Any]:
    """The messages a .mo holds: what ``pybabel compile`` writes from a catalogue
    (translated or plural, not fuzzy), by context and id."""
    def plain(value: Any) -> Any:
        return tuple(value) if isinstance(value, list | tuple) else value

    return {
        (m.context, plain(m.id)): plain(m.string)
        for m in catalog
        if m.id and m.string and not m.fuzzy
    }


@pytest.mark.parametrize("locale", LOCALES)
def test_committed_catalogue_matches_its_source(locale: str) -> None:
    """The committed .mo (what every install serves) says exactly what its .po says."""
    po = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
    mo = po.with_suffix(".mo")
    hint = "run `make i18n-compile` and commit the .mo files"
    assert mo.exists(), f"{mo.relative_to(ROOT)} is missing: {hint}"
    source = _read(po, locale)
    with mo.open("rb") as fh:
        compiled = read_mo(fh)
    expected, actual = _compiled_messages(source), _compiled_messages(compiled)
    stale = sorted(str(k[1]) for k in expected.keys() - actual.keys())
    extra = sorted(str(k[1]) for k in actual.keys() - expected.keys())
    changed = sorted(str(k[1]) for k in expected.keys() & actual.keys()
                     if expected[k] != actual[k])
    assert not (stale or extra or changed), (
        f"{mo.relative_to(ROOT)} is out of date with its .po ({hint}): "
        f"missing {stale[:5]}, no longer in the .po {extra[:5]}, translated differently "
        f"{changed[:5]}"
    )
    assert compiled.plural_forms == source.plural_forms, hint


@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_catalogue_is_current(locale: str) -> None:
    """The .mo the app reads holds every message of messages.pot."""
    translations = _translations(locale)
    for template in _read(POT):
        if isinstance(template.id, str) and template.id:
            # gettext keys a message with a context (pgettext) as "context\x04id".
            key = f"{template.context}\x04{template.id}" if template.context else template.id
            assert key in translations._catalog, (  # type: ignore[attr-defined]
                f"{locale}.mo lacks {template.id!r}: run `make i18n-compile`"
            )


# -- the pages


def _html_lang(html: str) -> str:
    match = re.search(r'<html lang="([^"]+)"', html)
    assert match, "the page has no <html lang>"
    return match.group(1)


# English source strings each page must show in the reader's language.
PAGE_STRINGS = {
    "/": ["Join a session", "Join code", "Join", "Live now", "Skip to content"],
    f"/e/{CODE}": [
        "Your question",
        "Ask",
        "I agree",
        "Before you post",
        "Quote with my name",
        "Sort questions",
        "What is stored",
    ],
    f"/e/{CODE}/privacy": [
        "What is stored, and why",
        "One person, one vote, without knowing who anyone is",
        "Forget me",
        "Public moderation log",
    ],
    "/login": ["Staff login", "Password", "Log in"],
    f"/e/{CODE}/board": ["Top questions", "Join on your phone", "All topics"],
}
STAFF_PAGE_STRINGS = {
    f"/e/{CODE}/moderate": [
        "Moderator console",
        "Keyboard shortcuts",
        "Moderation log",
        "Open the board",
        "Export",
    ],
    "/staff": ["Your events", "Create an event", "Load a seed file"],
}


def _check_page(client: FlaskClient, url: str, locale: str, strings: list[str]) -> str:
    response = client.get(url, headers={"Accept-Language": BROWSER[locale]})
    assert response.status_code == 200, (url, response.status_code)
    html = response.get_data(as_text=True)
    assert _html_lang(html) == HTML_LANG[locale], url
    for msgid in strings:
        translated = _tr(locale, msgid)
        assert translated != msgid, f"{msgid!r} has no {locale} translation"
        assert str(escape(translated)) in html, f"{url} in {locale}: no {translated!r}"
    return html


# Longer UI strings whose English text must not appear on a translated page.
def _english_leftovers(html: str, locale: str) -> list[str]:
    translations = _translations(locale)
    body = html.split("</head>", 1)[-1]
    found = []
    for template in _read(POT):
        if not isinstance(template.id, str) or "%" in template.id or " " not in template.id:
            continue
        if len(template.id) < 12 or translations.gettext(template.id) == template.id:
            continue
        if str(escape(template.id)) in body or template.id in body:
            found.append(template.id)
    return found


@pytest.mark.parametrize("locale", LOCALES)
def test_public_pages_follow_the_browser_language(client: FlaskClient, locale: str) -> None:
    for url, strings in PAGE_STRINGS.items():
        html = _check_page(client, url, locale, strings)
        leftovers = _english_leftovers(html, locale)
        assert not leftovers, f"{url} in {locale} still shows English: {leftovers}"


@pytest.mark.parametrize("locale", LOCALES)
def test_staff_pages_follow_the_browser_language(
    client: FlaskClient, staff_login: Callable[..., Any], locale: str
) -> None:
    staff_login(client)
    for url, strings in STAFF_PAGE_STRINGS.items():
        html = _check_page(client, url, locale, strings)
        leftovers = _english_leftovers(html, locale)
        assert not leftovers, f"{url} in {locale} still shows English: {leftovers}"


def test_contract_names_read_naturally(client: FlaskClient) -> None:
    """The accessible names of the contract, in each language (spot checks)."""
    expected = {
        # In the page: the question box, its button, the consent button.
        "es": (
            ["Tu pregunta", "Preguntar", "Acepto"],
            # Built by the script from the page's strings: upvote and comment controls.
            {"upvote": "Apoyar", "your_comment": "Tu comentario", "comment": "Comentar"},
        ),
        "pt_BR": (
            ["Sua pergunta", "Perguntar", "Concordo"],
            {"upvote": "Apoiar", "your_comment": "Seu comentário", "comment": "Comentar"},
        ),
    }
    for locale, (names, strings) in expected.items():
        html = client.get(f"/e/{CODE}", headers={"Accept-Language": BROWSER[locale]}).get_data(
            as_text=True
        )
        for name in names:
            assert f">{name}</" in html, (locale, name)
        script_strings = _json_block(html, "page-data")["strings"]
        for key, name in strings.items():
            assert script_strings[key] == name, (locale, key)


def _json_block(html: str, element_id: str) -> Any:
    import json

    match = re.search(
        rf'<script type="application/json" id="{element_id}">(.*?)</script>', html, re.S
    )
    assert match, f"no #{element_id} block"
    return json.loads(match.group(1))


@pytest.mark.parametrize("locale", LOCALES)
def test_script_strings_are_translated(
    client: FlaskClient, staff_login: Callable[..., Any], locale: str
) -> None:
    """The strings the scripts show come translated in the pages' JSON blocks."""
    headers = {"Accept-Language": BROWSER[locale]}
    participant = _json_block(
        client.get(f"/e/{CODE}", headers=headers).get_data(as_text=True), "page-data"
    )
    assert participant["locale"] == HTML_LANG[locale]
    assert participant["strings"]["upvote"] == _tr(locale, "Upvote")
    assert participant["strings"]["your_comment"] == _tr(locale, "Your comment")
    board = _json_block(
        client.get(f"/e/{CODE}/board", headers=headers).get_data(as_text=True), "page-data"
    )
    assert board["strings"]["now_discussing"] == _tr(locale, "Now discussing")
    for key in ("questions_one", "questions_other", "here_one", "here_other"):
        assert "%(count)s" in board["strings"][key], key
    staff_login(client)
    console = _json_block(
        client.get(f"/e/{CODE}/moderate", headers=headers).get_data(as_text=True), "strings"
    )
    assert console["act_approve"] == _tr(locale, "Approve")
    assert console["done_hide"] == _tr(locale, "Question #%(id)s hidden.", id="%(id)s")
    assert "%(count)s" in console["votes_one"] and "%(count)s" in console["votes_other"]


def test_plural_forms_follow_the_language(app: Flask) -> None:
    from flask_babel import ngettext

    for accept, n, expected in [
        ("es-MX", 1, "1 pregunta"),
        ("es-MX", 0, "0 preguntas"),
        ("es-MX", 2, "2 preguntas"),
        ("pt-BR", 1, "1 pergunta"),
        ("pt-BR", 0, "0 pergunta"),
        ("pt-BR", 2, "2 perguntas"),
        ("en", 1, "1 question"),
        ("en", 0, "0 questions"),
    ]:
        with app.test_request_context("/", headers={"Accept-Language": accept}):
            got = ngettext("%(count)s question", "%(count)s questions", n, count=n)
            assert got == expected, (accept, n, got)


def test_the_switcher_cookie_overrides_the_browser(client: FlaskClient) -> None:
    portuguese = {"Accept-Language": BROWSER["pt_BR"]}
    assert _html_lang(client.get("/", headers=portuguese).get_data(as_text=True)) == "pt-BR"
    response = client.get("/lang/es?next=/", headers=portuguese)
    assert response.status_code == 302 and response.headers["Location"].endswith("/")
    assert "lang=es" in response.headers["Set-Cookie"]
    html = client.get("/", headers=portuguese).get_data(as_text=True)
    assert _html_lang(html) == "es" and _tr("es", "Join a session") in html
    client.get("/lang/en?next=/", headers=portuguese)
    html = client.get("/", headers=portuguese).get_data(as_text=True)
    assert _html_lang(html) == "en" and "Join a session" in html
    # An unknown language is ignored, and next= never leaves the site.
    response = client.get("/lang/xx?next=//evil.example/", headers=portuguese)
    assert response.headers["Location"] in ("/", "http://localhost/")
    assert _html_lang(client.get("/", headers=portuguese).get_data(as_text=True)) == "en"


@pytest.mark.parametrize("locale", LOCALES)
def test_api_errors_answer_in_the_reader_language(
    client: FlaskClient, csrf: Callable[..., dict[str, str]], locale: str
) -> None:
    headers = {**csrf(client), "Accept-Language": BROWSER[locale]}
    response = client.post(f"/api/v1/events/{CODE}/questions", json={"body": "  "}, headers=headers)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "empty"
    assert error["message"] == _tr(locale, "'%(field)s' must not be empty.", field="body")
    assert "'body'" in error["message"] and "empty" not in error["message"]

    response = client.get(f"/api/v1/events/{CODE}/questions?sort=best", headers=headers)
    error = response.get_json()["error"]
    assert error["code"] == "invalid_sort"
    assert error["message"] == _tr(locale, "'sort' is 'top' or 'new'.")

    response = client.get("/api/v1/events/no-such-event", headers=headers)
    error = response.get_json()["error"]
    assert response.status_code == 404 and error["code"] == "event_not_found"
    assert error["message"] == _tr(locale, "There is no event with this code.")


def test_api_errors_stay_english_by_default(
    client: FlaskClient, csrf: Callable[..., dict[str, str]]
) -> None:
    response = client.post(
        f"/api/v1/events/{CODE}/questions", json={"body": "  "}, headers=csrf(client)
    )
    assert response.get_json()["error"]["message"] == "'body' must not be empty."


def test_socket_errors_answer_in_the_reader_language(app: Flask, client: FlaskClient) -> None:
    from discussion.extensions import socketio

    client.get("/lang/es?next=/")
    sc = socketio.test_client(app, flask_test_client=client)
    try:
        ack = sc.emit("ask", {"body": "¿Hola?", "client_id": "c1"}, callback=True)
    finally:
        sc.disconnect()
    assert ack["ok"] is False and ack["error"]["code"] == "not_joined"
    assert ack["error"]["message"] == _tr("es", "Join an event first.")


@pytest.mark.parametrize("locale", LOCALES)
def test_dates_on_the_privacy_page_are_localised(
    app: Flask,
    client: FlaskClient,
    staff_login: Callable[..., Any],
    csrf: Callable[..., dict[str, str]],
    locale: str,
) -> None:
    staff_login(client)
    headers = csrf(client)
    questions = client.get(f"/api/v1/events/{CODE}/questions").get_json()["questions"]
    hidden = client.post(
        f"/api/v1/questions/{questions[0]['id']}/moderate",
        json={"action": "hide", "reason": "Off-topic"},
        headers=headers,
    )
    assert hidden.status_code == 200, hidden.get_json()

    html = client.get(f"/e/{CODE}/privacy", headers={"Accept-Language": BROWSER[locale]}).get_data(
        as_text=True
    )
    log = html.split('id="moderation-log"', 1)[1]
    match = re.search(r'<time datetime="([^"]+)">([^<]+)</time> · ([^<:]+)', log)
    assert match, "the public log shows no entry"
    moment = datetime.fromisoformat(match.group(1).rstrip("Z")).replace(tzinfo=UTC)
    shown = str(escape(format_datetime(moment, "medium", tzinfo=UTC, locale=locale)))
    assert match.group(2) == shown
    assert match.group(2) != format_datetime(moment, "medium", tzinfo=UTC, locale="en")
    assert match.group(3).strip() == str(escape(_tr(locale, "A question was hidden")))


@pytest.mark.parametrize("locale", LOCALES)
def test_reports_are_written_in_the_reader_language(
    client: FlaskClient, staff_login: Callable[..., Any], runner: Any, locale: str
) -> None:
    staff_login(client)
    headers = {"Accept-Language": BROWSER[locale]}
    markdown = client.get(f"/e/{CODE}/export.md", headers=headers).get_data(as_text=True)
    assert _tr(locale, "Workshop report") in markdown
    assert _tr(locale, "Summary") in markdown
    html = client.get(f"/e/{CODE}/export.html", headers=headers).get_data(as_text=True)
    assert _html_lang(html) == HTML_LANG[locale]
    assert str(escape(_tr(locale, "Licence of the contributions"))) in html
    result = runner.invoke(args=["export", CODE, "--format", "md", "--lang", locale])
    assert result.exit_code == 0, result.output
    assert _tr(locale, "Workshop report") in result.output

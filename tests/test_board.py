"""The projector board: what it renders, its QR code, and what its socket receives.

The board is public and shows only what participants see; it is server-rendered so it
reads without JavaScript, and static/js/board.js keeps it live from the join ack and
the event room's broadcasts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from html import unescape
from typing import Any

import pytest
import segno
from flask.testing import FlaskClient
from helpers import received
from markupsafe import escape as markup_escape

API = "/api/v1"
CODE = "smartcities"
BOARD = f"/e/{CODE}/board"
JOIN_URL = f"http://localhost/e/{CODE}"  # the Flask test client's host


# -- helpers -----------------------------------------------------------------


def text(value: str) -> str:
    """User text as Jinja's autoescape writes it into the page."""
    return str(markup_escape(value))


def page(client: FlaskClient, url: str = BOARD) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def section(html: str, element_id: str) -> str:
    """The markup of the element with this id, up to its closing tag (no nesting of the
    same tag inside, which holds for the board's <ol>, <section> and <p> blocks)."""
    match = re.search(rf'<(\w+)[^>]*\bid="{re.escape(element_id)}"[^>]*>', html)
    assert match, f"no element #{element_id}"
    tag = match.group(1)
    end = html.index(f"</{tag}>", match.end())
    return html[match.start() : end + len(tag) + 3]


def ids_in(html: str, element_id: str) -> list[int]:
    """The data-id of every <li> inside the element, in order."""
    return [int(i) for i in re.findall(r'<li [^>]*data-id="(\d+)"', section(html, element_id))]


def is_hidden(html: str, element_id: str) -> bool:
    tag = re.search(rf'<\w+[^>]*\bid="{re.escape(element_id)}"[^>]*>', html)
    assert tag
    return re.search(r"\shidden(\s|>|=)", tag.group(0)) is not None


def page_data(html: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', html, re.S)
    assert match, "no page-data block"
    return json.loads(match.group(1))


def public_questions(client: FlaskClient) -> list[dict[str, Any]]:
    r = client.get(f"{API}/events/{CODE}/questions?sort=top")
    assert r.status_code == 200
    return r.get_json()["questions"]


def qr_modules(svg: str) -> list[list[bool]]:
    """Decode a segno SVG back into its module matrix (quiet zone removed).

    segno draws each row's dark runs as a stroked path of relative moves and horizontal
    lines ("M4 4.5h7m1 0h2m-29 1h1..."), in module units; the light background is a
    filled path. This reads the stroked one and replays it.
    """
    path = re.search(r'<path\b[^>]*\bstroke="[^"]+"[^>]*\bd="([^"]+)"', svg)
    assert path, "no stroked path in the SVG"
    size = re.search(r'viewBox="0 0 (\d+) (\d+)"', svg) or re.search(
        r'width="(\d+)" height="(\d+)"', svg
    )
    assert size
    x = y = 0.0
    dark: set[tuple[int, int]] = set()
    for cmd, a, b in re.findall(r"([MmHh])(-?[\d.]+)(?:\s+(-?[\d.]+))?", path.group(1)):
        if cmd == "M":
            x, y = float(a), float(b)
        elif cmd == "m":
            x, y = x + float(a), y + float(b)
        else:  # h: a dark run from x, on the row whose centre line is y
            n = float(a) if cmd == "h" else float(a) - x
            for col in range(int(x), int(x + n)):
                dark.add((int(y), col))
            x += n
    rows = [r for r, _ in dark]
    cols = [c for _, c in dark]
    top, left = min(rows), min(cols)  # the finder pattern's corner: the quiet zone ends here
    width = max(cols) - left + 1
    return [[(top + r, left + c) in dark for c in range(width)] for r in range(width)]


def expected_modules(url: str) -> list[list[bool]]:
    return [[bool(v) for v in row] for row in segno.make(url, error="m", micro=False).matrix]


@pytest.fixture
def staff(
    new_client: Callable[[], FlaskClient],
    staff_login: Callable[..., Any],
    csrf: Callable[..., dict[str, str]],
) -> tuple[FlaskClient, dict[str, str]]:
    """A logged-in organiser (on its own client) and its CSRF header."""
    client = new_client()
    staff_login(client)
    return client, csrf(client)


def moderate(staff: tuple[FlaskClient, dict[str, str]], qid: int, action: str) -> Any:
    client, headers = staff
    r = client.post(
        f"{API}/questions/{qid}/moderate",
        json={"action": action, "reason": "test"},
        headers=headers,
    )
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def ask(client: FlaskClient, headers: dict[str, str], body: str, **extra: Any) -> dict[str, Any]:
    r = client.post(f"{API}/events/{CODE}/questions", json={"body": body, **extra}, headers=headers)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


# -- the page ----------------------------------------------------------------


def test_board_renders_the_seeded_questions_join_url_code_and_qr(client: FlaskClient) -> None:
    response = client.get(BOARD)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    html = response.get_data(as_text=True)

    seeded = public_questions(client)
    assert len(seeded) == 10 and all(q["seeded"] for q in seeded)
    # Every seeded question is on the board, in the "top" order (all have 0 votes: oldest first).
    assert ids_in(html, "b-list") == [q["id"] for q in seeded]
    for q in seeded:
        assert text(q["body"]) in html

    join = section(html, "b-join-url")
    assert f'href="{JOIN_URL}"' in join
    assert unescape(re.sub(r"<[^>]+>", "", join)) == f"localhost/e/{CODE}"  # the short form
    assert section(html, "b-code").endswith(f">{CODE}</span>")
    assert "Join on your phone" in html and "Now discussing" in html

    # The inline QR code is an SVG that CSS sizes, and it encodes the join URL.
    qr = section(html, "b-join")
    svg = re.search(r"<svg\b.*?</svg>", qr, re.S)
    assert svg, "no inline <svg> QR code"
    assert 'viewBox="0 0 ' in svg.group(0) and "width=" not in svg.group(0).split(">")[0]
    assert qr_modules(svg.group(0)) == expected_modules(JOIN_URL)
    assert f"<title>QR code to join: {JOIN_URL}</title>" in svg.group(0)

    # Strict CSP: no inline style or script anywhere on the page.
    assert not re.search(r"\sstyle=", html)
    scripts = re.findall(r"<script\b([^>]*)>", html)
    assert scripts and all('src="/static/' in s or 'type="application/json"' in s for s in scripts)
    # The Socket.IO client never blocks rendering.
    socket_io = r'<script src="/static/vendor/socket\.io\.min\.js\?v=[0-9a-f]{12}" defer></script>'
    assert re.search(socket_io, html)

    # Live counts in the footer, and the strings board.js needs.
    assert re.sub(r"<[^>]+>", "", section(html, "stat-questions")).strip() == "10 questions"
    assert re.sub(r"<[^>]+>", "", section(html, "stat-votes")).strip() == "0 votes"
    # A zero is not projected ("0 people here" tells the room nothing).
    assert is_hidden(html, "stat-votes") and is_hidden(html, "stat-online")
    assert not is_hidden(html, "stat-questions")
    data = page_data(html)
    assert data["event"]["code"] == CODE and data["join_url"] == JOIN_URL
    assert [q["id"] for q in data["questions"]] == [q["id"] for q in seeded]
    assert data["strings"]["now_discussing"] == "Now discussing"
    assert data["strings"]["votes_other"] == "%(count)s votes"
    # Nothing highlighted yet: the "now discussing" block is there, hidden.
    assert is_hidden(html, "now")


def test_board_is_translated(client: FlaskClient) -> None:
    assert '<html lang="en">' in page(client)
    client.set_cookie("lang", "es")
    html = client.get(BOARD).get_data(as_text=True)
    assert '<html lang="es">' in html
    # The template and the script's strings go through the same catalogue, so whatever the
    # catalogue holds, the page data carries one string per key in the page's language.
    strings = page_data(html)["strings"]
    assert {
        "now_discussing",
        "here_one",
        "here_other",
        "votes_one",
        "votes_other",
        "more_other",
        "theme_to_light",
        "theme_to_dark",
    } <= set(strings)


def test_unknown_event_is_404(client: FlaskClient) -> None:
    assert client.get("/e/no-such-event/board").status_code == 404
    assert client.get("/e/no-such-event/qr.svg").status_code == 404


def test_board_code_is_case_insensitive(client: FlaskClient) -> None:
    html = page(client, "/e/SmartCities/board")
    assert f'href="{JOIN_URL}"' in html  # always the canonical code


def test_qr_svg_route_encodes_the_join_url(client: FlaskClient) -> None:
    response = client.get(f"/e/{CODE}/qr.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    svg = response.get_data(as_text=True)
    assert svg.startswith("<?xml") and 'xmlns="http://www.w3.org/2000/svg"' in svg
    assert "style=" not in svg and "<script" not in svg
    modules = qr_modules(svg)
    # Version 3 (29x29 modules) holds this URL at error correction M.
    assert len(modules) == 29 == segno.make(JOIN_URL, error="m").symbol_size(border=0)[0]
    assert modules == expected_modules(JOIN_URL)
    # Same code whatever the case of the code in the URL.
    assert qr_modules(client.get("/e/SMARTCITIES/qr.svg").get_data(as_text=True)) == modules


def test_qr_follows_the_host_it_is_served_from(client: FlaskClient) -> None:
    svg = client.get(f"/e/{CODE}/qr.svg", base_url="https://questions.example.org").get_data(
        as_text=True
    )
    url = f"https://questions.example.org/e/{CODE}"
    assert qr_modules(svg) == expected_modules(url)
    assert qr_modules(svg) != expected_modules(JOIN_URL)


def test_board_never_shows_hidden_or_pending_questions(
    client: FlaskClient,
    new_client: Callable[[], FlaskClient],
    csrf: Callable[..., Any],
    staff_login: Callable[..., Any],
) -> None:
    author = new_client()
    headers = csrf(author)
    hidden = ask(author, headers, "A question the moderator will hide")
    staff_client = new_client()
    staff_login(staff_client)
    staff = (staff_client, csrf(staff_client))
    moderate(staff, hidden["id"], "hide")

    r = staff_client.patch(f"{API}/events/{CODE}", json={"moderation": "pre"}, headers=staff[1])
    assert r.status_code == 200, r.get_json()
    pending = ask(author, headers, "A question waiting for approval")
    assert pending["status"] == "pending"

    # Nobody's board shows them: not a stranger's, not the author's own browser (which sees
    # its pending question on the participant page), not the moderator's laptop.
    for viewer in (client, author, staff_client):
        html = page(viewer)
        assert "A question the moderator will hide" not in html
        assert "A question waiting for approval" not in html
        assert hidden["id"] not in ids_in(html, "b-list") + ids_in(html, "b-answered")
        assert pending["id"] not in ids_in(html, "b-list") + ids_in(html, "b-answered")
        assert {q["status"] for q in page_data(html)["questions"]} <= {"visible", "answered"}
        assert re.sub(r"<[^>]+>", "", section(html, "stat-questions")).strip() == "10 questions"
    # The author's participant page does show it pending, so the filter is the board's own.
    assert "A question waiting for approval" in page(author, f"/e/{CODE}")

    moderate(staff, pending["id"], "approve")
    assert ids_in(page(client), "b-list")[-1] == pending["id"]


def test_question_text_is_shown_as_text(client: FlaskClient, csrf: Callable[..., Any]) -> None:
    nasty = "<script>alert('x')</script> & <img src=x onerror=alert(1)>"
    q = ask(client, csrf(client), nasty)
    html = page(client)
    assert "<script>alert" not in html and "<img src=x" not in html
    assert text(nasty) in section(html, "b-list")
    assert [d["body"] for d in page_data(html)["questions"] if d["id"] == q["id"]] == [nasty]


def test_ranking_pills_and_answered_strip(
    client: FlaskClient,
    new_client: Callable[[], FlaskClient],
    csrf: Callable[..., Any],
    staff: tuple[FlaskClient, dict[str, str]],
) -> None:
    seeded = [q["id"] for q in public_questions(client)]
    for n, qid in ((3, seeded[4]), (1, seeded[7])):
        for _ in range(n):
            voter = new_client()
            assert voter.put(f"{API}/questions/{qid}/vote", headers=csrf(voter)).status_code == 200
    moderate(staff, seeded[6], "pin")
    moderate(staff, seeded[0], "answer")

    html = page(client)
    ranked = ids_in(html, "b-list")
    # Pinned first, then by votes, ties oldest first; the answered one is set apart.
    assert ranked[:3] == [seeded[6], seeded[4], seeded[7]]
    assert ranked[3:] == [
        i for i in seeded if i not in (seeded[6], seeded[4], seeded[7], seeded[0])
    ]
    assert ids_in(html, "b-answered") == [seeded[0]]
    assert is_hidden(html, "b-aempty")
    card = re.search(
        rf'<li class="b-card[^"]*" data-id="{seeded[4]}">.*?</li>', section(html, "b-list"), re.S
    )
    assert card and re.search(r'class="b-pill-n">3<', card.group(0))
    assert f'is-pinned" data-id="{seeded[6]}"' in html
    assert re.sub(r"<[^>]+>", "", section(html, "stat-votes")).strip() == "4 votes"


def test_highlighted_question_is_marked_now_discussing(
    client: FlaskClient,
    staff: tuple[FlaskClient, dict[str, str]],
) -> None:
    first, second = (q for q in public_questions(client)[2:4])
    assert is_hidden(page(client), "now")

    moderate(staff, first["id"], "highlight")
    html = page(client)
    now = section(html, "now")
    assert not is_hidden(html, "now")
    assert f'data-id="{first["id"]}"' in now
    assert section(html, "now-body") == (
        f'<p class="b-now-body" id="now-body">{text(first["body"])}</p>'
    )
    # It is shown alone: not repeated in the ranked list.
    assert first["id"] not in ids_in(html, "b-list")
    assert [q["id"] for q in page_data(html)["questions"] if q["highlighted"]] == [first["id"]]

    # Highlighting another one moves the mark.
    moderate(staff, second["id"], "highlight")
    html = page(client)
    assert f'data-id="{second["id"]}"' in section(html, "now")
    assert first["id"] in ids_in(html, "b-list")
    # Marking it answered ends the discussion: the block hides again.
    moderate(staff, second["id"], "answer")
    html = page(client)
    assert is_hidden(html, "now")
    assert ids_in(html, "b-answered") == [second["id"]]


def test_topic_filter_and_theme_parameters(client: FlaskClient) -> None:
    consent = [q["id"] for q in public_questions(client) if q["topic"] == "consent"]
    assert consent
    html = page(client, f"{BOARD}?topic=consent")
    assert ids_in(html, "b-list") == consent
    assert '<option value="consent" selected>' in html
    assert page_data(html)["topic"] == "consent"
    # An unknown topic shows everything rather than failing.
    assert len(ids_in(page(client, f"{BOARD}?topic=nope"), "b-list")) == 10

    assert '<body class="page-board theme-light">' in page(client, f"{BOARD}?theme=light")
    assert '<body class="page-board theme-dark">' in page(client, f"{BOARD}?theme=dark")
    assert '<body class="page-board">' in page(client, f"{BOARD}?theme=%22%3E%3Cx")
    # The toggle works without JavaScript: a link to the other theme, keeping the topic.
    toggle = section(page(client, f"{BOARD}?theme=light&topic=consent"), "theme-toggle")
    assert 'href="?theme=dark&amp;topic=consent"' in toggle


# -- live --------------------------------------------------------------------


def test_board_socket_receives_question_votes_and_presence(
    client: FlaskClient,
    new_client: Callable[[], FlaskClient],
    csrf: Callable[..., Any],
    socket_client: Callable[..., Any],
) -> None:
    page(client)  # the projector's browser loads the board (no login)
    board = socket_client(client)
    ack = board.emit("join", {"event": CODE}, callback=True)
    assert ack["ok"] is True
    assert [q["id"] for q in ack["questions"]] == [q["id"] for q in public_questions(client)]
    assert ack["online"] == 1
    board.get_received()

    phone = new_client()
    headers = csrf(phone)
    phone_socket = socket_client(phone)
    assert phone_socket.emit("join", {"event": CODE}, callback=True)["ok"] is True
    assert {"online": 2} in received(board, "presence")

    asked = ask(phone, headers, "¿Quién audita los sensores?", topic="security")
    [question] = received(board, "question")
    assert question["id"] == asked["id"] and question["body"] == "¿Quién audita los sensores?"
    assert question["status"] == "visible" and question["topic"] == "security"
    assert question["mine"] is False  # the board is not the author

    r = phone.put(f"{API}/questions/{asked['id']}/vote", headers=headers)
    assert r.status_code == 200
    assert received(board, "votes") == [{str(asked["id"]): 1}]

    phone_socket.disconnect()
    assert {"online": 1} in received(board, "presence")


def test_board_socket_sees_a_hidden_question_removed(
    csrf: Callable[..., Any],
    socket_client: Callable[..., Any],
    new_client: Callable[[], FlaskClient],
    staff_login: Callable[..., Any],
) -> None:
    board = socket_client(new_client())
    assert board.emit("join", {"event": CODE}, callback=True)["ok"] is True
    staff_client = new_client()
    staff_login(staff_client)
    staff = (staff_client, csrf(staff_client))
    moderate(staff, 5, "highlight")
    board.get_received()
    moderate(staff, 5, "hide")
    messages = board.get_received()
    assert {"id": 5} in [m["args"][0] for m in messages if m["name"] == "question_removed"]
    # Nothing of the staff shape reaches the board's room.
    assert all("original_body" not in (m["args"][0] or {}) for m in messages if m["args"])


# -- the console's shortcut letters --------------------------------------------


@pytest.mark.parametrize("lang", ["en", "es", "pt_BR"])
def test_console_keys_are_distinct_letters_in_every_language(
    client: FlaskClient, lang: str
) -> None:
    """Each language's letters come from its own labels; they must never collide, nor
    take the keys that are the same everywhere (J/K to move, / to search, ? for help)."""
    from discussion.board import console_keys

    client.set_cookie("lang", lang)
    with client.application.test_request_context(headers={"Cookie": f"lang={lang}"}):
        keys = console_keys()
    letters = [k.lower() for k in keys.values()]
    assert all(len(k) == 1 and k.isalpha() for k in letters), keys
    assert len(set(letters)) == len(letters), keys
    assert not {"j", "k"} & set(letters), keys
    if lang == "es":
        assert keys["highlight"] == "D" and keys["mute"] == "S"  # Destacar, Silenciar


# -- the rules table, a closed event, the organiser's warnings -----------------------


def test_staff_pages_and_board_read_the_rules_table(
    client: FlaskClient, staff: tuple[FlaskClient, dict[str, str]]
) -> None:
    """Statuses, actions and reason codes reach the scripts from one table, never a copy."""
    from discussion.rules.enums import ReasonCode, browser_table

    table = browser_table()
    board = page_data(page(client))
    assert board["rules"] == table
    assert board["public_statuses"] == ["visible", "answered"]

    organiser, _headers = staff
    html = page(organiser, f"/e/{CODE}/moderate")
    console = page_data(html)
    assert console["rules"] == table
    assert console["public_statuses"] == ["visible", "answered"]
    assert console["hide_reasons"] == [code.value for code in ReasonCode]
    assert set(console["mute_reasons"]) < set(table["reason_codes"])
    assert set(console["reasons"]) == set(table["reason_codes"])
    assert set(console["public_log_actions"]) >= {"hide", "merge", "status:closed"}
    # The tabs are the statuses of the table, in its order.
    assert re.findall(r'data-filter="([^"]+)"', html) == ["all", *table["question_statuses"]]

    home = page_data(page(organiser, "/staff"))
    assert home["rules"] == table
    assert home["purge_warning_days"] == console["purge_warning_days"] == 14


def test_closed_board_says_what_stopped(
    client: FlaskClient, staff: tuple[FlaskClient, dict[str, str]]
) -> None:
    html = page(client)
    assert is_hidden(html, "b-closed")
    assert ">Join on your phone<" in section(html, "b-join-label")
    assert ">Just asked: vote on your phone<" in section(html, "recent-label")

    organiser, headers = staff
    r = organiser.patch(f"{API}/events/{CODE}", json={"status": "closed"}, headers=headers)
    assert r.status_code == 200, r.get_json()
    html = page(client)
    assert not is_hidden(html, "b-closed")
    assert ">Closed: no new questions, votes or comments<" in section(html, "b-closed")
    assert ">Read the questions on your phone<" in section(html, "b-join-label")
    assert ">Also asked<" in section(html, "recent-label")
    strings = page_data(html)["strings"]
    assert strings["closed"] == "Closed: no new questions, votes or comments"
    assert strings["no_questions_closed"] == "No questions were asked."
    html = page(client, f"{BOARD}?topic=no-such-topic")  # an unknown topic shows them all
    assert not is_hidden(html, "b-closed")

    client.set_cookie("lang", "es")
    html = page(client)
    closed = section(html, "b-closed")
    assert ">Cerrado: ya no se reciben preguntas, votos ni comentarios<" in closed

    console = page(organiser, f"/e/{CODE}/moderate")
    assert not is_hidden(console, "closed-banner")
    assert "This event is closed: no new questions, votes or comments." in console


def test_console_marks_and_warnings_without_javascript(
    new_client: Callable[[], FlaskClient],
    staff: tuple[FlaskClient, dict[str, str]],
    staff_login: Callable[..., Any],
    csrf: Callable[..., dict[str, str]],
) -> None:
    """The list read without JavaScript marks possible duplicates; the retention warning
    is the organiser's (moderate.js fills it when the staff data carries purge_at)."""
    first = new_client()
    original = ask(first, csrf(first),
                   "Should facial recognition cameras be allowed in public squares and stations?")
    second = new_client()
    ask(second, csrf(second),
        "¿Deberían permitirse cámaras de reconocimiento facial en las plazas públicas?")
    organiser, _headers = staff
    html = page(organiser, f"/e/{CODE}/moderate")
    mark = f"Possible duplicate of #{original['id']}"
    assert mark in section(html, "q-list-static")
    assert 'id="purge-warning"' in html and is_hidden(html, "purge-warning")

    moderator = new_client()
    staff_login(moderator, role="moderator", events=(CODE,))
    html = page(moderator, f"/e/{CODE}/moderate")
    assert mark in html
    assert 'id="purge-warning"' not in html


def test_board_scripts_are_a_theme_script_and_a_module_importing_lib_by_fingerprint(
    client: FlaskClient,
) -> None:
    """The remembered theme is applied by a classic script before the first paint; the
    rest is an ES module whose import of lib.js carries lib.js's fingerprint, the same
    URL as the page's preload."""
    html = page(client)
    head = html.split("</head>", 1)[0]
    theme = re.search(r'<script src="/static/js/board-theme\.js\?v=[0-9a-f]{12}"></script>', head)
    module = re.search(r'<script type="module" src="(/static/js/board\.js\?v=[0-9a-f]{12})">', head)
    lib = re.search(r'<link rel="modulepreload" href="/static/js/lib\.js\?v=([0-9a-f]{12})">', head)
    assert theme and module and lib, head
    assert theme.start() < module.start()
    source = client.get(module.group(1)).get_data(as_text=True)
    assert f"from './lib.js?v={lib.group(1)}'" in source
    assert "from './lib.js'" not in source

"""What the console and the staff pages tell the organiser, in real Chromium at 1366x768:
possible duplicates with a one-click merge into the suggested original, kept live and
dismissable for the session; statuses, actions and reason codes read from the rules
table; a closed event said in full on the console and the board; and the warning before
retention removes names and links."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import EVENT, Api, BrowserServer, axe, log_in, shot

pytestmark = pytest.mark.browser

SCREEN = {"viewport": {"width": 1366, "height": 768}, "device_scale_factor": 1}
CAMERAS = "Should facial recognition cameras be allowed in public squares and stations?"
CAMERAS_AGAIN = "¿Deberían permitirse cámaras de reconocimiento facial en las plazas públicas?"
# Repeats the first seeded question (where a smart city's data sets come from).
PROVENANCE = "¿De dónde vienen los conjuntos de datos de la ciudad inteligente y quién los rastrea?"


def logged_in(new_context: Any, server: BrowserServer, path: str, label: str,
              watch: Any = None, **options: Any) -> Any:
    page = new_context(SCREEN, label, **options).new_page()
    if watch is not None:
        watch(page)  # before the page opens its socket
    log_in(page, server.url)
    page.goto(server.url + path)
    return page


def console_page(new_context: Any, server: BrowserServer, watch: Any = None,
                 **options: Any) -> Any:
    page = logged_in(new_context, server, f"{EVENT}/moderate", "console", watch, **options)
    expect(page.locator("#conn")).to_have_attribute("data-state", "connected")
    expect(page.locator("#q-list > li").first).to_be_visible()
    return page


def with_page_data(page: Any, path: str, change: str) -> None:
    """Change the page data of the page at ``path`` before its script reads it: what the
    scripts do with data the server may send (the staff data's ``purge_at``).

    ``change`` is a JavaScript function of the data. The page itself is served as is (a
    page served by the test would not be allowed to open its socket to this machine).
    """
    page.add_init_script(f"""(() => {{
      if (location.pathname !== {json.dumps(path)}) return;
      const change = {change};
      const seen = new MutationObserver(() => {{
        const el = document.getElementById('page-data');
        if (!el) return;
        let data;
        try {{ data = JSON.parse(el.textContent); }} catch (e) {{ return; }}  // not all there yet
        seen.disconnect();
        change(data);
        el.textContent = JSON.stringify(data);
      }});
      seen.observe(document, {{ childList: true, subtree: true, characterData: true }});
    }})();""")


def card(page: Any, qid: int) -> Any:
    return page.locator(f"#mq-{qid}")


class Sent:
    """What a page sends: its Socket.IO frames (as text) and its HTTP moderation requests."""

    def __init__(self) -> None:
        self.frames: list[str] = []
        self.http: list[str] = []

    def __call__(self, page: Any) -> None:
        page.on("websocket", lambda ws: ws.on(
            "framesent", lambda data: self.frames.append(data if isinstance(data, str) else "")))
        page.on("request", lambda r: self.http.append(r.url)
                if r.method == "POST" and r.url.endswith("/moderate") else None)

    def socket_events(self, name: str) -> list[Any]:
        """The payloads of the events of this name (frames like 42["name", {...}])."""
        out = []
        for frame in self.frames:
            start = frame.find("[")
            if start < 0:
                continue
            try:
                message = json.loads(frame[start:])
            except ValueError:
                continue
            if isinstance(message, list) and message and message[0] == name:
                out.append(message[1])
        return out


# -- possible duplicates ----------------------------------------------------------------


def test_possible_duplicate_merges_in_one_click(new_context, server) -> None:
    first = Api(server).ask(CAMERAS)
    author = Api(server)
    again = author.ask(CAMERAS_AGAIN)
    both = Api(server)  # votes for both: counted once after the merge
    both.vote(first["id"])
    both.vote(again["id"])
    Api(server).vote(again["id"])
    r = author.session.post(f"{server.url}/api/v1/questions/{again['id']}/comments",
                            json={"body": "Same question as the English one, I think."},
                            headers=author.headers, timeout=10)
    assert r.status_code == 201, r.text

    sent = Sent()
    page = console_page(new_context, server, sent)
    page.locator("#q-search").fill("facial")
    dup = card(page, again["id"])
    # Compact: a tag on the card's line; the hint opens with the card.
    expect(dup.locator(".tag-dup")).to_have_text(f"Possible duplicate of #{first['id']}")
    expect(dup.locator(".mq-dup")).to_be_hidden()
    expect(card(page, first["id"]).locator(".tag-dup, .mq-dup")).to_have_count(0)
    dup.locator(".mq-body").click()
    hint = dup.locator(".mq-dup")
    expect(hint).to_be_visible()
    expect(hint.locator(".mq-dup-label")).to_have_text(f"Possible duplicate of #{first['id']}")
    expect(hint.locator(".mq-dup-quote")).to_have_text(CAMERAS)
    expect(dup.locator(".tag-dup")).to_be_hidden()
    shot(page, "console-1366-possible-duplicate")
    axe(page, "console-possible-duplicate")

    # Keyboard: the merge is the card's first control; Enter asks, Enter merges.
    dup.focus()
    page.keyboard.press("Tab")
    merge = hint.get_by_role("button", name=f"Merge into #{first['id']}")
    expect(merge).to_be_focused()
    page.keyboard.press("Enter")
    dialog = page.locator("#dup-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#dup-title")).to_have_text(f"Merge #{again['id']} into #{first['id']}?")
    expect(dialog.locator("#dup-this")).to_have_text(CAMERAS_AGAIN)
    expect(dialog.locator("#dup-original")).to_have_text(CAMERAS)
    expect(dialog.locator("#dup-ok")).to_be_focused()
    shot(page, "console-1366-duplicate-dialog")
    axe(page, "console-duplicate-dialog")
    page.keyboard.press("Escape")  # the usual way out: nothing happens
    expect(dialog).to_be_hidden()
    expect(merge).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()

    # The ordinary merge, sent over the socket: votes of distinct people, the comment
    # moved, the duplicate hidden as merged, and the merge logged as a duplicate.
    expect(dup.locator(".tag-merged")).to_have_text(f"Merged into #{first['id']}")
    expect(dup.locator(".mq-dup, .tag-dup")).to_have_count(0)
    original = card(page, first["id"])
    expect(original).to_have_class(re.compile(r"is-selected"))
    expect(original.locator(".mq-votes")).to_have_text("2 votes")
    expect(original.locator(".comments-toggle")).to_have_text("1 comment")
    assert sent.socket_events("moderate") == [{
        "question_id": again["id"], "action": "merge", "into": first["id"],
        "reason_code": "duplicate",
    }]
    assert sent.http == []
    entry = page.locator("#log-list .log-entry").first
    expect(entry).to_contain_text("Merged")
    expect(entry.locator(".log-code")).to_have_text("Duplicate")
    assert [c["body"] for c in Api(server).comments(first["id"])] == [
        "Same question as the English one, I think."
    ]


def test_duplicate_marks_stay_live_and_can_be_dismissed(new_context, server) -> None:
    page = console_page(new_context, server)
    asked = Api(server).ask(PROVENANCE)
    dup = card(page, asked["id"])
    # Arrives over the socket with its mark.
    expect(dup.locator(".tag-dup")).to_have_text("Possible duplicate of #1")

    # The mark follows what the moderator does: editing the question into another one
    # publishes it without a mark, editing it back brings the mark back.
    dup.locator(".mq-body").click()
    page.keyboard.press("e")
    coffee = "What time does the coffee break start this afternoon?"
    page.locator("#edit-body").fill(coffee)
    page.locator("#edit-ok").click()
    expect(dup.locator(".mq-body")).to_have_text(coffee)
    expect(dup.locator(".mq-dup")).to_have_count(0)
    page.keyboard.press("e")
    page.locator("#edit-body").fill(PROVENANCE)
    page.locator("#edit-ok").click()
    expect(dup.locator(".mq-dup-label")).to_have_text("Possible duplicate of #1")
    # An original that can no longer take a merge (hidden) is not offered, and comes
    # back with it.
    card(page, 1).locator(".mq-body").click()
    page.keyboard.press("x")
    page.locator("#reason-chips .chip").first.click()
    page.locator("#reason-ok").click()
    expect(card(page, 1).locator(".tag-hidden")).to_be_visible()
    expect(dup.locator(".tag-dup, .mq-dup")).to_have_count(0)
    card(page, 1).locator(".mq-body").click()
    page.keyboard.press("r")
    expect(dup.locator(".tag-dup")).to_have_text("Possible duplicate of #1")

    # Dismissed for this session: gone from the card, focus kept on it, still gone
    # after a reload, back in a new tab.
    dup.locator(".mq-body").click()
    dup.get_by_role("button", name=f"Dismiss the duplicate hint on #{asked['id']}").click()
    expect(dup.locator(".mq-dup, .tag-dup")).to_have_count(0)
    expect(dup).to_be_focused()
    expect(page.locator("#announcer")).to_have_text(
        f"The duplicate hint on #{asked['id']} is dismissed until you close this tab."
    )
    page.reload()
    expect(page.locator("#conn")).to_have_attribute("data-state", "connected")
    expect(card(page, asked["id"])).to_be_visible()
    expect(card(page, asked["id"]).locator(".mq-dup, .tag-dup")).to_have_count(0)
    other = page.context.new_page()
    other.goto(f"{server.url}{EVENT}/moderate")
    expect(other.locator(f"#mq-{asked['id']} .tag-dup")).to_have_text("Possible duplicate of #1")

    # The merge dialog (M) puts the suggested original first, chosen.
    other_card = other.locator(f"#mq-{asked['id']}")
    other_card.locator(".mq-body").click()
    other.keyboard.press("m")
    target = other.locator("#merge-target")
    expect(target).to_have_value("1")
    expect(target.locator("option").first).to_contain_text("Suggested original: #1")
    other.keyboard.press("Escape")


def test_the_rules_table_decides_tabs_buttons_and_chips(new_context, server) -> None:
    page = logged_in(new_context, server, f"{EVENT}/moderate", "console-rules")
    # Without "pin" in the table's actions, the console offers no pin button.
    with_page_data(page, f"{EVENT}/moderate", """data => {
      window.rulesSeen = JSON.parse(JSON.stringify(data.rules));
      data.rules.question_actions = data.rules.question_actions.filter(
        a => a !== 'pin' && a !== 'unpin');
    }""")
    page.reload()
    expect(page.locator("#conn")).to_have_attribute("data-state", "connected")
    table = page.evaluate("window.rulesSeen")
    tabs = page.locator("[data-filter]").evaluate_all("els => els.map(e => e.dataset.filter)")
    assert tabs == ["all", *table["question_statuses"]]
    first = page.locator("#q-list > li").first
    first.locator(".mq-body").click()
    expect(first.locator('[data-act="highlight"], [data-act="unhighlight"]')).to_be_visible()
    expect(first.locator('[data-act="pin"], [data-act="unpin"]')).to_have_count(0)
    page.keyboard.press("x")
    codes = page.locator("#reason-chips .chip").evaluate_all("els => els.map(e => e.dataset.code)")
    assert codes and set(codes) <= set(table["reason_codes"])
    page.keyboard.press("Escape")


# -- a closed event ---------------------------------------------------------------------


def test_closed_event_is_said_in_full(new_context, server, board) -> None:
    page = console_page(new_context, server)
    wall = board()
    expect(wall.locator("#b-conn")).to_have_attribute("data-state", "live")
    expect(wall.locator("#b-join-label")).to_have_text("Join on your phone")

    page.get_by_role("button", name="Close event").click()
    page.locator("#reason-input").fill("Thank you all: the session is over.")
    page.locator("#reason-ok").click()
    banner = page.locator("#closed-banner")
    expect(banner).to_be_visible()
    expect(banner).to_have_text(
        "This event is closed: no new questions, votes or comments. Participants can still "
        "read everything, and you can still moderate. Reopen the event to let them post again."
    )
    expect(page.locator("#status-badge")).to_have_text("Closed")
    expect(page.locator("#mode-hint")).to_have_text("No new questions while the event is closed.")
    shot(page, "console-1366-closed")
    axe(page, "console-closed")

    # The board changes at once: what stopped, said in full, and no more invitations.
    closed = wall.locator("#b-closed")
    expect(closed).to_be_visible()
    expect(closed).to_have_text("Closed: no new questions, votes or comments")
    expect(wall.locator("#b-join-label")).to_have_text("Read the questions on your phone")
    expect(wall.locator("#recent-label")).to_have_text("Also asked")
    shot(wall, "board-1920-closed")
    # And so does a board opened now (server-rendered), here on a 1366x768 screen.
    fresh = new_context(SCREEN, "board-1366").new_page()
    fresh.goto(f"{server.url}{EVENT}/board")
    expect(fresh.locator("#b-conn")).to_have_attribute("data-state", "live")
    expect(fresh.locator("#b-closed")).to_have_text("Closed: no new questions, votes or comments")
    expect(fresh.locator("#b-join-label")).to_have_text("Read the questions on your phone")
    fresh.wait_for_timeout(600)
    shot(fresh, "board-1366-closed")
    axe(fresh, "board-closed")
    # As the banner says: a participant can read, not vote.
    person = Api(server)
    assert person.questions()
    r = person.session.put(f"{server.url}/api/v1/questions/2/vote", headers=person.headers,
                           timeout=10)
    assert r.status_code == 409 and r.json()["error"]["code"] == "event_closed"

    page.get_by_role("button", name="Reopen event").click()
    expect(banner).to_be_hidden()
    expect(page.locator("#mode-hint")).to_have_text("New questions appear at once.")
    expect(wall.locator("#b-closed")).to_be_hidden()
    expect(wall.locator("#b-join-label")).to_have_text("Join on your phone")


# -- retention --------------------------------------------------------------------------


def long_date(day: date) -> str:
    """A date as en-US ``dateStyle: long`` writes it."""
    return f"{day:%B} {day.day}, {day.year}"


@pytest.mark.parametrize(
    ("days", "shown"),
    [(5, "removed"), (14, "removed"), (-2, "due"), (15, None), (None, None)],
)
def test_console_warns_the_organiser_before_retention(new_context, server, days, shown) -> None:
    page = logged_in(new_context, server, f"{EVENT}/moderate", f"console-purge-{days}")
    day = date.today() + timedelta(days=days or 0)

    if days is not None:
        with_page_data(page, f"{EVENT}/moderate",
                       f"data => {{ data.event.purge_at = '{day.isoformat()}'; }}")
    page.reload()
    expect(page.locator("#conn")).to_have_attribute("data-state", "connected")
    warning = page.locator("#purge-warning")
    if shown is None:
        expect(warning).to_be_hidden()
        return
    expect(warning).to_be_visible()
    if shown == "removed":
        text = f"Names and links are removed on {long_date(day)}: export the report before then."
    else:
        text = f"Names and links were due to be removed on {long_date(day)}: export the report now."
    expect(warning.locator("strong")).to_have_text(text)
    link = warning.get_by_role("link", name="Printable report (HTML)")
    expect(link).to_have_attribute("href", f"{EVENT}/export.html")
    if days == 5:
        shot(page, "console-1366-retention-warning")
        axe(page, "console-retention-warning")


def test_staff_home_warns_the_organiser_before_retention(new_context, server) -> None:
    page = logged_in(new_context, server, "/staff", "staff-purge")
    soon = date.today() + timedelta(days=3)
    with_page_data(page, "/staff", f"data => {{ data.events[0].purge_at = '{soon.isoformat()}'; }}")
    page.reload()
    warning = page.locator("#purge-smartcities")
    expect(warning).to_be_visible()
    expect(warning.locator("strong")).to_have_text(
        f"Names and links are removed on {long_date(soon)}: export the report before then."
    )
    expect(warning.get_by_role("link", name="Printable report (HTML)")).to_have_attribute(
        "href", f"{EVENT}/export.html"
    )
    shot(page, "staff-1366-retention-warning")
    axe(page, "staff-retention-warning")

    # In Spanish, with the date in Spanish.
    es = logged_in(new_context, server, "/staff", "staff-purge-es", locale="es-ES")
    with_page_data(es, "/staff", f"data => {{ data.events[0].purge_at = '{soon.isoformat()}'; }}")
    es.reload()
    expect(es.locator("#purge-smartcities strong")).to_have_text(
        re.compile(r"^Los nombres y los vínculos se eliminan el \d+ de \w+ de \d{4}: "
                   r"exporta el informe antes\.$")
    )

    # Far off, or not given: nothing.
    far = logged_in(new_context, server, "/staff", "staff-purge-far")
    later = date.today() + timedelta(days=40)
    with_page_data(far, "/staff", f"data => {{ data.events[0].purge_at = '{later.isoformat()}'; }}")
    far.reload()
    expect(far.locator(".staff-event")).to_have_count(1)
    expect(far.locator(".purge-warning")).to_have_count(0)

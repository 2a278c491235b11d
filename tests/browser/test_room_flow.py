"""The room's flow on a phone: new questions brought to the reader, votes cast before
the live connection is up, who a comment is posted as, the compact ask box, forget me,
answered questions apart, a closed event, and what the author of a question is told."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import (
    CODE,
    SMALL_PHONE,
    Api,
    BrowserServer,
    StaffApi,
    agree_first,
    axe,
    card,
    ready,
    shot,
)
from .test_phone_a11y import TAP_TARGETS

pytestmark = pytest.mark.browser

SOCKET = re.compile(r"/socket\.io/")
# What Chromium logs for requests a test refuses on purpose.
REFUSED = r"ERR_FAILED|ERR_INTERNET_DISCONNECTED|WebSocket connection to|Failed to load resource"
CONSENT_Q = "meaningful consent"


def scrolled(page: Any) -> None:
    """Wait for a smooth scroll to end (the page scrolls smoothly unless motion is reduced)."""
    page.wait_for_function("""() => new Promise((done) => { let y = scrollY, n = 0;
        const check = () => { if (scrollY === y && ++n > 5) return done(true);
            if (scrollY !== y) { y = scrollY; n = 0; } requestAnimationFrame(check); };
        requestAnimationFrame(check); })""")


def outbox(page: Any) -> list[dict[str, Any]]:
    return json.loads(page.evaluate(f"() => localStorage.getItem('dq:outbox:{CODE}') || '[]'"))


def votes_of(question_id: int, server: BrowserServer) -> int:
    (q,) = [q for q in Api(server).questions() if q["id"] == question_id]
    return int(q["votes"])


def id_of(body: str, server: BrowserServer) -> int:
    (q,) = [q for q in Api(server).questions() if q["body"] == body]
    return int(q["id"])


def ask_in_page(page: Any, body: str, **fields: str) -> Any:
    """Ask through the page's own form (consent given first) and wait for the card."""
    agree_first(page)
    page.get_by_label("Your question").fill(body)
    if "topic" in fields:
        page.get_by_label("Topic", exact=True).select_option(label=fields["topic"])
    if "name" in fields:
        page.get_by_label("Your name (optional)").fill(fields["name"])
    if "quote" in fields:
        page.get_by_label("Quoting in the report").select_option(label=fields["quote"])
    page.get_by_role("button", name="Ask", exact=True).tap()
    mine = card(page, body)
    expect(mine.locator(".tag-mine")).to_have_text("yours")
    return mine


# --------------------------------------------------------------------------- new questions


def test_new_questions_reach_a_reader_scrolled_down_in_top(phone, server) -> None:
    page = ready(phone("newbar"))
    page.evaluate("() => window.scrollTo(0, 1400)")
    page.wait_for_timeout(300)
    under = page.evaluate("""() => { const li = document.elementFromPoint(195, 500).closest('li.q');
        return {id: li.id, top: li.getBoundingClientRect().top}; }""")

    bodies = ["Arrived while I was reading: who pays for the sensors?",
              "Also new: can a council switch off a camera network?"]
    other = Api(server)
    for body in bodies:
        other.ask(body)
    bar = page.locator("#new-bar")
    expect(bar).to_have_text("2 new questions")
    box = bar.bounding_box()
    assert box and 0 <= box["y"] < 80, box  # in view, at the top of the screen
    # Nothing moved under the reader's thumb.
    after = page.evaluate(
        f"() => document.getElementById({under['id']!r}).getBoundingClientRect().top"
    )
    assert abs(after - under["top"]) < 1, (under, after)
    # The floating "Write a question" button stays clear of the upvote column.
    to_ask = page.locator("#to-ask")
    expect(to_ask).to_be_visible()
    right = to_ask.bounding_box()
    lefts = page.evaluate("""() => [...document.querySelectorAll('.upvote')]
        .map(b => b.getBoundingClientRect()).filter(r => r.bottom > 0 && r.top < innerHeight)
        .map(r => r.left)""")
    assert right and lefts and right["x"] + right["width"] < min(lefts), (right, lefts)
    shot(page, "phone-newbar-scrolled")

    # Ranked by votes, they would come last; the notice brings them first, marked "new".
    ranked = [q["body"] for q in Api(server).questions("top")]
    assert ranked.index(bodies[0]) > 5
    bar.tap()
    expect(bar).to_be_hidden()
    first_two = page.locator("#q-list > li.q").nth(0), page.locator("#q-list > li.q").nth(1)
    expect(first_two[0].locator(".q-body")).to_have_text(bodies[1])
    expect(first_two[1].locator(".q-body")).to_have_text(bodies[0])
    for item in first_two:
        expect(item.locator(".tag-new")).to_have_text("new")
        expect(item).to_be_in_viewport()
    expect(first_two[0]).to_be_focused()
    scrolled(page)
    top = first_two[0].bounding_box()
    assert top and 0 <= top["y"] < 120, top  # the first arrival at the top of the screen
    shot(page, "phone-newbar-after-tap")


# --------------------------------------------------------------------------- connecting


def test_votes_asks_and_comments_while_connecting_go_over_http(phone, server, console) -> None:
    """A slow network: the page is usable before its live connection. What the reader does
    then is sent over the JSON API at once, and the page says "connecting", not "offline"."""
    console.allow(REFUSED)
    page = phone("connecting", setup=lambda p: p.route(SOCKET, lambda route: route.abort()))
    conn = page.locator("#conn")
    expect(conn).to_have_attribute("data-state", "connecting")
    expect(conn).to_have_text("Connecting…")
    target = card(page, CONSENT_Q)
    qid = int(target.get_attribute("id").removeprefix("q-"))
    before = votes_of(qid, server)
    upvote = target.get_by_role("button", name="Upvote")
    upvote.tap()
    expect(upvote).to_have_attribute("aria-pressed", "true")
    expect(target.locator(".count")).to_have_text(str(before + 1))
    for _ in range(50):
        if votes_of(qid, server) == before + 1:
            break
        page.wait_for_timeout(100)
    assert votes_of(qid, server) == before + 1

    body = "Asked before the live connection was up: is it stored?"
    ask_in_page(page, body)
    target.get_by_role("button", name=re.compile(r"^Comments \(\d+\)$")).tap()
    comment = "Commented while connecting."
    target.get_by_label("Your comment").fill(comment)
    target.get_by_role("button", name="Comment", exact=True).tap()
    sent = target.locator(".comment:not(.is-waiting) .comment-body", has_text=comment)
    expect(sent).to_have_count(1)
    assert "offline" not in page.locator("main").inner_text().lower()
    expect(conn).to_have_attribute("data-state", "connecting")
    assert outbox(page) == []
    target.scroll_into_view_if_needed()
    shot(page, "phone-vote-while-connecting")

    page.unroute(SOCKET)
    ready(page)
    expect(upvote).to_have_attribute("aria-pressed", "true")
    page.wait_for_timeout(500)
    assert votes_of(qid, server) == before + 1
    assert [q["body"] for q in Api(server).questions()].count(body) == 1
    assert [c["body"] for c in Api(server).comments(qid)].count(comment) == 1


def test_a_vote_waits_when_nothing_gets_through_and_goes_once_connected(
    phone, server, console
) -> None:
    console.allow(REFUSED)
    api_vote = re.compile(r"/api/v1/questions/\d+/vote")

    def block(page: Any) -> None:
        page.route(SOCKET, lambda route: route.abort())
        page.route(api_vote, lambda route: route.abort())

    page = phone("queued-vote", setup=block)
    target = card(page, "What should a city publish")
    qid = int(target.get_attribute("id").removeprefix("q-"))
    before = votes_of(qid, server)
    upvote = target.get_by_role("button", name="Upvote")
    upvote.tap()
    expect(upvote).to_have_attribute("aria-pressed", "true")
    note = target.locator(".card-note")
    expect(note).to_have_text("Connecting… your vote will be sent in a moment.")
    assert [(i["kind"], i["payload"]["up"]) for i in outbox(page)] == [("vote", True)]
    shot(page, "phone-vote-waiting-connecting")

    page.unroute(SOCKET)
    page.unroute(api_vote)
    ready(page)
    expect(note).to_be_hidden()
    expect(upvote).to_have_attribute("aria-pressed", "true")
    assert outbox(page) == []
    assert votes_of(qid, server) == before + 1


def test_what_a_refused_vote_waits_for_is_the_rules_table_s(phone, server, console) -> None:
    """The phone keeps a post the server refused for now (a code of the rules table's
    `retry_later`, such as `not_joined`) and drops one it refused for good (`not_votable`),
    saying why either way. Both votes go over HTTP, whose answers the test gives."""
    console.allow(REFUSED)
    answers = {"What should a city publish": (400, "not_joined", "Join an event first."),
               CONSENT_Q: (409, "not_votable", "This question cannot be voted on yet.")}
    ids: dict[int, tuple[int, str, str]] = {}

    def answer(route: Any) -> None:
        status, code, message = ids[int(route.request.url.split("/")[-2])]
        route.fulfill(status=status, json={"error": {"code": code, "message": message}})

    def block(page: Any) -> None:
        page.route(SOCKET, lambda route: route.abort())
        page.route(re.compile(r"/api/v1/questions/\d+/vote"), answer)

    page = phone("refused-votes", setup=block)
    later, never = (card(page, body) for body in answers)
    later_id = int(later.get_attribute("id").removeprefix("q-"))
    for body, refusal in answers.items():
        ids[int(card(page, body).get_attribute("id").removeprefix("q-"))] = refusal
    later.get_by_role("button", name="Upvote").tap()
    expect(later.locator(".card-error")).to_have_text("Join an event first.")
    expect(later.get_by_role("button", name="Upvote")).to_have_attribute("aria-pressed", "true")
    waiting = [("vote", later_id, True)]
    assert [(i["kind"], i["payload"]["question_id"], i["payload"]["up"])
            for i in outbox(page)] == waiting

    never.get_by_role("button", name="Upvote").tap()
    expect(never.locator(".card-error")).to_have_text("This question cannot be voted on yet.")
    expect(never.get_by_role("button", name="Upvote")).to_have_attribute("aria-pressed", "false")
    assert [(i["kind"], i["payload"]["question_id"], i["payload"]["up"])
            for i in outbox(page)] == waiting  # the vote refused for good is gone


# --------------------------------------------------------------------------- ask box


@pytest.mark.parametrize(("locale", "lang"), [("en-US", "en"), ("es-MX", "es"), ("pt-BR", "pt")])
def test_small_phone_first_screen_and_one_row_toolbar(phone, locale: str, lang: str) -> None:
    # 390 px: the sort and the topic filter share one row, in every language.
    page = ready(phone(f"phone-390-{lang}", locale=locale))
    seg, select = page.locator(".seg").bounding_box(), page.locator("#filter-topic").bounding_box()
    assert seg and select and abs(seg["y"] - select["y"]) < 6, (seg, select)
    assert select["width"] >= 120, select  # room for its text, not a sliver
    shot(page, f"phone-390x844-{lang}")

    # 360x640: the compact ask box leaves room for a question on the first screen.
    page = ready(phone(f"phone-360-{lang}", locale=locale, kind=SMALL_PHONE))
    form = page.locator("#ask-form")
    expect(form).to_have_attribute("data-state", "compact")
    expect(page.locator("#ask-topic")).to_be_hidden()
    first = page.locator("#q-list > li.q .q-body").first
    top = first.bounding_box()
    assert top and top["y"] + 24 <= 640, top  # at least its first line is on screen
    shot(page, f"phone-360x640-{lang}")
    page.locator("#ask-body").tap()
    expect(form).to_have_attribute("data-state", "open")
    expect(page.locator("#ask-topic")).to_be_visible()
    expect(page.locator("#ask-quote")).to_be_visible()
    shot(page, f"phone-360x640-{lang}-ask-open")
    axe(page, f"phone-360x640-{lang}-ask-open")


def test_asking_resets_the_topic_and_shows_the_question(phone, server) -> None:
    page = ready(phone("ask-box"))
    # The name field takes what the server takes, and says so in a sentence.
    name = page.get_by_label("Your name (optional)")
    expect(name).to_have_attribute("maxlength", "60")
    other = Api(server)
    r = other.session.post(
        f"{server.url}/api/v1/events/{CODE}/questions",
        json={"body": "A name too long", "author": "x" * 61},
        headers=other.headers, timeout=10,
    )
    assert r.status_code == 400
    assert r.json()["error"] == {
        "code": "too_long", "message": "Your name is too long: please keep it to 60 characters."
    }
    # Quoted with a name but no name: the sentence sits by the name field.
    agree_first(page)
    page.get_by_label("Your question").fill("Who keeps the logs of the parking sensors?")
    page.get_by_label("Quoting in the report").select_option(label="Quote with my name")
    page.get_by_role("button", name="Ask", exact=True).tap()
    expect(page.locator("#ask-author-error")).to_have_text(
        "To be quoted with your name, please give your name."
    )
    expect(name).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Quoting in the report").select_option(label="Quote without my name")

    body = "Who keeps the logs of the parking sensors, and for how long?"
    mine = ask_in_page(page, body, topic="Privacy")
    expect(page.get_by_label("Topic", exact=True)).to_have_value("")
    assert [q["topic"] for q in Api(server).questions() if q["body"] == body] == ["privacy"]
    show = page.get_by_role("button", name="Show my question")
    expect(show).to_be_visible()
    assert page.evaluate(TAP_TARGETS) == []
    page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    show.scroll_into_view_if_needed()
    show.tap()
    expect(mine).to_be_focused()
    scrolled(page)
    expect(mine).to_be_in_viewport(ratio=0.9)
    shot(page, "phone-show-my-question")


# --------------------------------------------------------------------------- comments


def test_a_comment_says_who_it_is_posted_as(phone, server) -> None:
    page = ready(phone("comment-identity"))
    body = "Named question: does the open data portal log who downloads?"
    mine = ask_in_page(page, body, name="Ana", quote="Quote with my name")
    qid = id_of(body, server)
    mine.get_by_role("button", name="Comments (0)").tap()
    as_line = mine.locator(".as-text")
    # Not the question's name: a comment is anonymous unless its author says otherwise.
    expect(as_line).to_have_text(re.compile(r"Posted as Anonymous.*Quote without my name"))
    mine.get_by_label("Your comment").fill("Anonymous follow-up to my own question.")
    mine.get_by_role("button", name="Comment", exact=True).tap()
    expect(mine.locator(".comment:not(.is-waiting)")).to_have_count(1)

    mine.get_by_role("button", name="Change name or quoting").tap()
    mine.locator("input[id$='-name']").fill("Bea")
    mine.locator("select[id$='-quote']").select_option(label="Quote with my name")
    expect(as_line).to_have_text(re.compile(r"Posted as Bea.*Quote with my name"))
    mine.get_by_label("Your comment").fill("Signed this time.")
    mine.get_by_role("button", name="Comment", exact=True).tap()
    expect(mine.locator(".comment:not(.is-waiting)")).to_have_count(2)
    shot(page, "phone-comment-identity")
    axe(page, "phone-comment-identity")
    authors = {c["body"]: c["author"] for c in Api(server).comments(qid)}
    assert authors == {"Anonymous follow-up to my own question.": None, "Signed this time.": "Bea"}


# --------------------------------------------------------------------------- forget me


def test_forget_me_clears_the_phone_and_says_so_after_the_reload(phone, server) -> None:
    page = ready(phone("forget-storage"))
    mine = ask_in_page(page, "Forget me too: what does this phone keep?", name="Carla",
                       quote="Quote with my name")
    mine.get_by_role("button", name="Comments (0)").tap()
    mine.get_by_role("button", name="Change name or quoting").tap()
    mine.locator("input[id$='-name']").fill("Carla")
    page.get_by_label("Your question").fill("A draft I never sent")
    page.evaluate(f"""() => {{ localStorage.setItem('dq:outbox:{CODE}', '[]');
        localStorage.setItem('dq:name', '"older global name"'); }}""")
    keys = page.evaluate("() => Object.keys(localStorage).sort()")
    for kind in ("name", "consent", "draft", "commentas"):
        assert any(k.startswith(f"dq:{kind}:{CODE}") for k in keys), keys

    page.once("dialog", lambda dialog: dialog.accept())
    forget = page.get_by_role("button", name="Forget me")
    # A jump to the foot of a long list: let the cards on the way take their real height.
    forget.scroll_into_view_if_needed()
    page.wait_for_timeout(400)
    forget.tap()
    note = page.locator("#forgotten-note")
    expect(note).to_be_visible()
    expect(note).to_contain_text("this phone no longer keeps your name, consent or drafts")
    expect(page.locator("#forget-me-status")).to_have_text(
        "Done: your posts were erased or anonymised."
    )
    ready(page)
    assert "forgotten" not in page.url
    left = [k for k in page.evaluate("() => Object.keys(localStorage)") if k.startswith("dq:")]
    assert left == [], left
    expect(page.get_by_label("Your name (optional)")).to_have_value("")
    expect(page.get_by_label("Your question")).to_have_value("")
    expect(page.locator(".q.is-mine")).to_have_count(0)
    shot(page, "phone-forget-me-done")


# --------------------------------------------------------------------------- moderation


def test_answered_apart_long_banner_and_closed_event(
    phone, own_server: BrowserServer
) -> None:
    staff = StaffApi(own_server)
    page = ready(phone("answered", on=own_server))
    target = card(page, CONSENT_Q)
    qid = int(target.get_attribute("id").removeprefix("q-"))
    staff.moderate(qid, "answer")
    answered = page.locator("#answered")
    expect(answered.locator("summary")).to_have_text("Answered (1)")
    expect(page.locator("#q-list").locator(f"#q-{qid}")).to_have_count(0)
    expect(target).to_be_hidden()  # folded away until asked for
    answered.locator("summary").tap()
    expect(target).to_be_visible()
    expect(target.locator(".tag-done")).to_have_text("✓ Answered")
    answered.locator("summary").scroll_into_view_if_needed()
    shot(page, "phone-answered-group")
    axe(page, "phone-answered-group")

    long_body = ("A long question for the banner: " + "who decides, who checks, who pays, "
                 "and who may see the data the city's sensors collect every day? " * 5)[:480]
    long_id = Api(own_server).ask(long_body)["id"]
    staff.moderate(long_id, "highlight")
    banner = page.locator("#now")
    expect(banner).to_be_visible()
    page.evaluate("() => window.scrollTo(0, 0)")
    height = banner.bounding_box()["height"]
    assert height < 200, height  # a few lines, not a screen
    more = page.get_by_role("button", name="Read more")
    expect(more).to_be_visible()
    shot(page, "phone-now-discussing-clamped")
    more.tap()
    expect(page.get_by_role("button", name="Show less")).to_have_attribute("aria-expanded", "true")
    assert banner.bounding_box()["height"] > height + 40

    staff.patch_event(status="closed")
    note = page.locator("#closed-note")
    expect(note).to_have_text("This event is closed: no new questions, votes or comments.")
    expect(page.locator("#ask-form")).to_be_hidden()
    expect(page.locator("#q-list .upvote").first).to_be_disabled()
    page.evaluate("() => window.scrollTo(0, 0)")
    shot(page, "phone-event-closed")


def _relay(sockets: list[Any]):  # type: ignore[no-untyped-def]
    """Route the page's websocket to the server unchanged, keeping a handle to speak to
    the page as the server would."""

    def relay(ws: Any) -> None:
        ws.connect_to_server()
        sockets.append(ws)

    return relay


def test_the_author_sees_what_happened_to_their_question(phone, server, console) -> None:
    """The client side of the ``notice`` message, fed through the real websocket with
    exactly the documented shape."""
    sockets: list[Any] = []
    page = phone("notice", setup=lambda p: p.route_web_socket(SOCKET, _relay(sockets)))
    ready(page)
    body = "Notice me: is the footage from the buses kept after a month?"
    ask_in_page(page, body)
    qid = id_of(body, server)
    for _ in range(50):
        if sockets:
            break
        page.wait_for_timeout(100)
    assert sockets, "the page never opened a websocket"

    def notice(**payload: Any) -> None:
        sockets[-1].send("42" + json.dumps(["notice", {
            "question_id": qid, "reason": None, "reason_code": None, "into": None, **payload}]))

    notice(action="hidden", reason="It names a driver.", reason_code="personal_data")
    cardbox = page.locator(".notice-card")
    expect(cardbox).to_have_count(1)
    expect(cardbox.locator(".notice-text")).to_have_text(f"A moderator hid your question “{body}”.")
    expect(cardbox.locator(".notice-why")).to_have_text(
        "Reason: Personal data about someone: It names a driver."
    )
    shot(page, "phone-notice-hidden")
    axe(page, "phone-notice-hidden")
    opened = len(sockets)
    page.reload()
    ready(page)
    for _ in range(50):
        if len(sockets) > opened:
            break
        page.wait_for_timeout(100)
    expect(page.locator(".notice-card")).to_have_count(1)  # kept until dismissed
    page.get_by_role("button", name="Dismiss").tap()
    expect(page.locator(".notice-card")).to_have_count(0)

    target = card(page, CONSENT_Q)
    into = int(target.get_attribute("id").removeprefix("q-"))
    notice(action="merged", into=into, reason_code="duplicate")
    merged = page.locator(".notice-card")
    expect(merged.locator(".notice-text")).to_contain_text("merged your question")
    expect(merged.locator(".notice-text")).to_contain_text("How can people give meaningful consent")
    expect(merged.locator(".notice-why")).to_have_text("Reason: Duplicate")
    page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    merged.get_by_role("button", name="Show it").tap()
    expect(target).to_be_focused()
    scrolled(page)
    expect(target).to_be_in_viewport(ratio=0.9)
    expect(page.locator(".notice-card")).to_have_count(0)


def test_a_hidden_question_s_author_is_told_by_the_server(phone, server) -> None:
    """End to end through the real moderation API: needs the server's ``notice`` message
    to the author's own sockets."""
    page = ready(phone("notice-live"))
    body = "Hide me: does the city sell the Wi-Fi logs of its buses?"
    ask_in_page(page, body)
    StaffApi(server).moderate(id_of(body, server), "hide", reason="Not about this session.",
                              reason_code="off_topic")
    notice = page.locator(".notice-card")
    expect(notice.locator(".notice-text")).to_have_text(f"A moderator hid your question “{body}”.")
    expect(notice.locator(".notice-why")).to_have_text(
        "Reason: Off-topic: Not about this session."
    )
    expect(card(page, body)).to_have_count(0)

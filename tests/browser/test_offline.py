"""Poor venue Wi-Fi: what is typed offline is kept, shown as waiting and sent once; drafts
survive a reload; after a server restart the page reconnects and resynchronises."""

from __future__ import annotations

import json
import re
import signal

import pytest
from playwright.sync_api import expect

from .conftest import CODE, Api, BrowserServer, agree_first, card, ready, shot

pytestmark = pytest.mark.browser

OUTBOX = f"dq:outbox:{CODE}"
# What Chromium logs while the network is cut or the server is down (Socket.IO's polling
# and websocket attempts failing): expected in these tests, and only in these tests.
NETWORK_DOWN = (
    r"ERR_INTERNET_DISCONNECTED|ERR_CONNECTION_REFUSED|ERR_CONNECTION_RESET"
    r"|ERR_EMPTY_RESPONSE|ERR_FAILED|ERR_NETWORK_CHANGED|WebSocket connection to"
)


def outbox(page) -> list[dict]:
    return json.loads(page.evaluate(f"() => localStorage.getItem({OUTBOX!r}) || '[]'"))


def test_a_question_asked_offline_waits_and_is_sent_once(phone, server, console) -> None:
    console.allow(NETWORK_DOWN)
    page = ready(phone("offline"))
    body = "Offline: can the city guarantee that the sensor data is deleted on schedule?"
    page.context.set_offline(True)
    expect(page.locator("#conn")).to_have_attribute("data-state", "offline")

    page.get_by_label("Your question").fill(body)
    page.get_by_role("button", name="Ask", exact=True).tap()
    page.get_by_role("dialog").get_by_role("button", name="I agree").tap()
    waiting = page.locator("#q-list > li.is-waiting")
    expect(waiting).to_have_count(1)
    expect(waiting.locator(".q-body")).to_have_text(body)
    expect(waiting.locator(".tag-wait")).to_have_text("waiting")
    expect(page.locator("#ask-status")).not_to_be_empty()
    stored = outbox(page)
    assert [(i["kind"], i["payload"]["body"]) for i in stored] == [("ask", body)]
    client_id = stored[0]["client_id"]
    assert stored[0]["payload"]["client_id"] == client_id
    waiting.scroll_into_view_if_needed()
    shot(page, "participant-offline-waiting")
    # Nothing reached the server while offline.
    assert not [q for q in Api(server).questions() if q["body"] == body]

    # A reload while still offline would lose the page, not the post: it is in storage.
    page.context.set_offline(False)
    sent = card(page, body)
    expect(sent).to_be_visible(timeout=15_000)
    expect(page.locator("#q-list > li.is-waiting")).to_have_count(0)
    expect(sent.locator(".tag-mine")).to_have_text("yours")
    expect(page.locator("#conn")).to_have_attribute("data-state", "connected")
    assert outbox(page) == []
    page.wait_for_timeout(500)  # a second send, were there one, would have landed by now
    copies = [q for q in Api(server).questions() if q["body"] == body]
    assert len(copies) == 1, copies


def test_a_comment_typed_offline_waits_and_is_sent_once(phone, server, console) -> None:
    console.allow(NETWORK_DOWN)
    page = ready(phone("offline-comment"))
    agree_first(page)
    target = card(page, "meaningful consent")
    target.get_by_role("button", name=re.compile(r"^Comments \(\d+\)$")).tap()
    expect(target.get_by_label("Your comment")).to_be_visible()
    body = "Typed in the basement, where there is no signal."
    page.context.set_offline(True)
    expect(page.locator("#conn")).to_have_attribute("data-state", "offline")
    target.get_by_label("Your comment").fill(body)
    target.get_by_role("button", name="Comment", exact=True).tap()
    waiting = target.locator(".comment.is-waiting")
    expect(waiting.locator(".comment-body")).to_have_text(body)
    expect(waiting.locator(".tag-wait")).to_have_text("waiting")
    assert [(i["kind"], i["payload"]["body"]) for i in outbox(page)] == [("comment", body)]

    page.context.set_offline(False)
    expect(target.locator(".comment.is-waiting")).to_have_count(0, timeout=15_000)
    expect(target.locator(".comment-body", has_text=body)).to_have_count(1)
    assert outbox(page) == []
    page.wait_for_timeout(500)
    assert [c["body"] for c in Api(server).comments(2)].count(body) == 1


def test_a_post_whose_acknowledgement_was_lost_is_stored_once(phone, server, console) -> None:
    """The worst moment to lose the Wi-Fi: the server stored the question, but the
    acknowledgement never reached the phone. The phone sends it again on reconnecting,
    with the same client_id, and the server answers with the stored question."""
    console.allow(NETWORK_DOWN)
    body = "Lost acknowledgement: is this question stored once or twice?"
    lost: list[str] = []

    def relay(ws) -> None:  # type: ignore[no-untyped-def]
        upstream = ws.connect_to_server()

        def from_server(message: str | bytes) -> None:
            # Socket.IO over Engine.IO: "43<id>[...]" is an acknowledgement.
            if (
                not lost
                and isinstance(message, str)
                and message.startswith("43")
                and body in message
            ):
                lost.append(message)
                ws.close()  # the phone drops off the network with the ack in flight
                return
            ws.send(message)

        upstream.on_message(from_server)

    page = phone("lost-ack")
    page.route_web_socket(re.compile(r"/socket\.io/"), relay)
    page.reload()  # the relay applies to sockets opened from now on
    ready(page)
    agree_first(page)
    page.get_by_label("Your question").fill(body)
    page.get_by_role("button", name="Ask", exact=True).tap()
    expect(card(page, body).locator(".tag-mine")).to_have_text("yours", timeout=15_000)
    expect(page.locator("#q-list > li.is-waiting")).to_have_count(0)
    assert lost, "the test never intercepted the acknowledgement (is the socket a websocket?)"
    assert outbox(page) == []
    page.wait_for_timeout(500)
    assert [q["body"] for q in Api(server).questions()].count(body) == 1


def test_drafts_survive_a_reload(phone, console) -> None:
    page = ready(phone("drafts"))
    question = "Half-typed: who owns the footage of"
    page.get_by_label("Your question").fill(question)
    target = card(page, "meaningful consent")
    target.get_by_role("button", name=re.compile(r"^Comments \(\d+\)$")).tap()
    comment = "A comment I had not finished"
    target.get_by_label("Your comment").fill(comment)
    keys = page.evaluate("() => Object.keys(localStorage).sort()")
    assert f"dq:draft:{CODE}:q" in keys and f"dq:draft:{CODE}:c:2" in keys, keys

    page.reload()
    ready(page)
    expect(page.get_by_label("Your question")).to_have_value(question)
    target = card(page, "meaningful consent")
    target.get_by_role("button", name=re.compile(r"^Comments \(\d+\)$")).tap()
    expect(target.get_by_label("Your comment")).to_have_value(comment)


def test_after_a_server_restart_the_page_reconnects_and_resynchronises(
    phone, own_server: BrowserServer, console
) -> None:
    """The server is killed and started again on the same port, database and secret key:
    the page comes back by itself, catches up on what happened meanwhile, keeps its
    identity (the cookie stays valid), and sends once what was asked while it was down."""
    console.allow(NETWORK_DOWN)
    page = ready(phone("restart", on=own_server))
    agree_first(page)
    before = "Asked before the restart"
    page.get_by_label("Your question").fill(before)
    page.get_by_role("button", name="Ask", exact=True).tap()
    expect(card(page, before).locator(".tag-mine")).to_have_text("yours")
    assert outbox(page) == []

    own_server.stop(signal.SIGKILL)
    expect(page.locator("#conn")).to_have_attribute("data-state", "reconnecting")
    down = "Asked while the server was down"
    page.get_by_label("Your question").fill(down)
    page.get_by_role("button", name="Ask", exact=True).tap()
    expect(page.locator("#q-list > li.is-waiting .q-body")).to_have_text([down])

    # Hold the page back until the new server has a question the page never saw live:
    # it can only learn of it from the join that follows the reconnect.
    socket_io = re.compile(r"/socket\.io/")
    page.route(socket_io, lambda route: route.abort())
    own_server.start()
    missed = "Added through the API while the phone was away"
    Api(own_server).ask(missed)
    page.unroute(socket_io)

    expect(page.locator("#conn")).to_have_attribute("data-state", "connected", timeout=20_000)
    # The waiting post went out once. The question the page missed (it came with the
    # join, not live) waits behind the "new questions" notice like any arrival.
    expect(page.locator("#q-list > li.is-waiting")).to_have_count(0)
    expect(card(page, down).locator(".tag-mine")).to_have_text("yours")
    bar = page.locator("#new-bar")
    expect(bar).to_have_text("1 new question")
    bar.tap()
    expect(card(page, missed)).to_be_visible()
    expect(card(page, missed).locator(".tag-new")).to_have_text("new")
    expect(card(page, missed).locator(".tag-mine")).to_have_count(0)
    expect(card(page, before).locator(".tag-mine")).to_have_text("yours")
    page.wait_for_timeout(500)
    bodies = [q["body"] for q in Api(own_server).questions()]
    assert bodies.count(down) == 1 and bodies.count(before) == 1 and bodies.count(missed) == 1
    assert outbox(page) == []
    # Still live after the restart: another phone's question arrives without a reload.
    Api(own_server).ask("And one more, live after the restart")
    expect(bar).to_be_visible()
    expect(bar).to_have_text("1 new question")

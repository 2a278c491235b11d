"""A phone back from a Wi-Fi drop asks only for what changed while it was away."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from .conftest import Api, card, ready
from .test_offline import NETWORK_DOWN

pytestmark = pytest.mark.browser


def test_a_phone_back_from_a_drop_gets_only_what_changed(phone, server, console) -> None:
    console.allow(NETWORK_DOWN)
    page = ready(phone("resync"))
    joins: list[dict] = []

    def record(text: str) -> None:
        # Socket.IO packets: 42<ack id>["join",{...}], several to an HTTP body (0x1e).
        for packet in text.split("\x1e"):
            if '["join"' in packet:
                joins.append(json.loads(packet[packet.index("["):]))

    page.on("websocket", lambda ws: ws.on(
        "framesent", lambda data: record(data if isinstance(data, str) else "")))
    page.on("request", lambda request: record(request.post_data or "")
            if "/socket.io/" in request.url and request.method == "POST" else None)
    api = Api(server)
    page.context.set_offline(True)
    expect(page.locator("#conn")).not_to_have_attribute("data-state", "connected")
    asked = api.ask("Asked while the phone was away: who keeps the camera footage?")
    api.vote(asked["id"])
    page.context.set_offline(False)
    expect(page.locator("#conn")).to_have_attribute("data-state", "connected", timeout=20_000)
    # What was asked while away waits behind the notice, like any arrival.
    bar = page.locator("#new-bar")
    expect(bar).to_have_text("1 new question")
    bar.tap()
    back = card(page, asked["body"])
    expect(back).to_be_visible()
    expect(back.locator(".tag-new")).to_have_text("new")
    # The reconnect's join carried the version the phone held: only the change came back.
    assert joins, "no join was sent over the websocket after the drop"
    event, payload = joins[-1][0], joins[-1][1]
    assert event == "join" and isinstance(payload.get("since"), int)
    expect(back.locator("[aria-pressed]").first).to_be_visible()

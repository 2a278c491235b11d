"""Vote counts on the tick: sent at once in a calm room, coalesced while it is busy.

These run the real ticker (threading mode) with ticks long enough that nothing here
depends on how fast the machine is: a leading-edge vote arrives within seconds when
the tick is half a minute, and a burst is checked by what arrives, not by when.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from helpers import received

from discussion import live

# A quiet moment can be long on a loaded machine; the leading edge is far quicker.
PATIENCE = 10.0


@pytest.fixture
def app_config(request: pytest.FixtureRequest) -> dict[str, Any]:
    tick = getattr(request, "param", 30.0)
    return {"VOTE_TICK": tick, "VOTE_TICK_MAX": tick}


def joined(socket_client):  # type: ignore[no-untyped-def]
    sc = socket_client()
    assert sc.emit("join", {"event": "smartcities"}, callback=True)["ok"] is True
    return sc


def wait_for_votes(sc, until) -> list[dict[str, int]]:  # type: ignore[no-untyped-def]
    """The ``votes`` messages a socket receives until ``until(messages)`` holds."""
    messages: list[dict[str, int]] = []
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        messages += received(sc, "votes")
        if until(messages):
            return messages
        time.sleep(0.01)
    raise AssertionError(f"votes so far: {messages}")


def vote(sc, question_id: int) -> None:  # type: ignore[no-untyped-def]
    assert sc.emit("vote", {"question_id": question_id, "up": True}, callback=True)["ok"]


def test_first_vote_goes_out_at_once_and_the_rest_of_its_tick_as_one(app, socket_client):
    """With a 30 s tick, the first vote of a calm room cannot wait for the tick."""
    a, b, c = joined(socket_client), joined(socket_client), joined(socket_client)
    vote(a, 3)
    assert wait_for_votes(c, bool) == [{"3": 1}]
    # Within the same tick: held, then one message with the latest count of each.
    vote(b, 3)
    vote(a, 4)
    vote(b, 4)
    vote(c, 5)
    time.sleep(0.2)  # a sender that did not coalesce would have sent by now
    assert received(c, "votes") == []
    live.coalescer(app).flush()  # the tick's end, without waiting half a minute for it
    assert wait_for_votes(c, bool) == [{"3": 2, "4": 2, "5": 1}]


@pytest.mark.parametrize("app_config", [2.0], indirect=True)
def test_the_ticker_sends_what_a_busy_tick_held(socket_client):
    """The tick's own end delivers the burst: every count, in two messages at most
    (the leading vote, then the rest of its tick), never one message per vote."""
    phones = [joined(socket_client) for _ in range(4)]
    watcher = phones[0]
    received(watcher)
    for phone in phones:
        vote(phone, 6)
    vote(phones[1], 7)
    expected = {"6": 4, "7": 1}

    def complete(messages: list[dict[str, int]]) -> bool:
        latest: dict[str, int] = {}
        for message in messages:
            latest.update(message)
        return latest == expected

    messages = wait_for_votes(watcher, complete)
    assert 1 <= len(messages) <= 2, messages


def test_the_tick_stretches_with_the_time_a_broadcast_takes():
    """Under load the period grows so that sending takes about three quarters of the
    time, capped."""
    coalescer = live.Coalescer()
    coalescer.tick, coalescer.max_tick = 0.1, 1.0
    assert coalescer.period(0.01) == 0.1
    assert coalescer.period(0.06) == 0.1  # within budget: the tick stays
    assert coalescer.period(0.15) == pytest.approx(0.2)
    assert coalescer.period(2.0) == 1.0
    assert coalescer.next_tick(0.15) == pytest.approx(0.05)

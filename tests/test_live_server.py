"""Against a real server process, as `make run` serves: websockets, origins, packets, crashes."""

from __future__ import annotations

import contextlib
import re
import signal
import threading

import pytest
import requests
import socketio


def phone(server):  # type: ignore[no-untyped-def]
    """A phone: load the event page for the cookie and CSRF token."""
    session = requests.Session()
    page = session.get(f"{server.url}/e/smartcities", timeout=5)
    assert page.status_code == 200
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
    return session, {"X-CSRFToken": token}


def connect(server, session=None, origin=None, transports=("websocket",)):  # type: ignore[no-untyped-def]
    client = socketio.Client(reconnection=False)
    headers = {}
    if session is not None:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in session.cookies.items())
    if origin is not None:
        headers["Origin"] = origin
    client.connect(server.url, headers=headers, transports=list(transports), wait_timeout=5)
    return client


def test_websocket_and_polling_clients_see_each_other(live_server_factory):
    server = live_server_factory()
    got = threading.Event()
    seen: list[dict] = []
    a_session, _ = phone(server)
    a = connect(server, a_session)
    b = connect(server, transports=("polling",))

    @b.on("question")
    def _question(data, *_version):  # type: ignore[no-untyped-def]
        seen.append(data)
        got.set()

    assert a.call("join", {"event": "smartcities"}, timeout=5)["ok"]
    assert b.call("join", {"event": "smartcities"}, timeout=5)["ok"]
    ack = a.call("ask", {"body": "over a real websocket", "client_id": "ws-1"}, timeout=5)
    assert ack["ok"]
    assert got.wait(5)
    assert seen[0]["body"] == "over a real websocket"
    a.disconnect()
    b.disconnect()


@pytest.mark.parametrize("transports", [("polling",), ("websocket",)])
def test_a_foreign_origin_is_refused(live_server_factory, transports):
    server = live_server_factory()
    if transports == ("websocket",):
        # websocket-client sends its own Origin; speak to the endpoint directly instead.
        import websocket

        url = server.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
        with pytest.raises(websocket.WebSocketBadStatusException):
            websocket.create_connection(url, origin="http://evil.example", timeout=5)
        ws = websocket.create_connection(url, origin=server.url, timeout=5)
        assert ws.recv().startswith("0{")  # the Engine.IO open packet
        ws.close()
        return
    with pytest.raises(socketio.exceptions.ConnectionError):
        connect(server, origin="http://evil.example", transports=transports)
    connect(server, origin=server.url, transports=transports).disconnect()


def test_an_oversized_packet_closes_that_socket_only(live_server_factory):
    server = live_server_factory()
    bystander = connect(server)
    assert bystander.call("join", {"event": "smartcities"}, timeout=5)["ok"]
    attacker = connect(server)
    attacker.call("join", {"event": "smartcities"}, timeout=5)
    with contextlib.suppress(Exception):  # the server may close the socket mid-send
        attacker.emit("ask", {"body": "x" * 200_000, "client_id": "big"})
    # The bystander's socket still works and nothing was stored.
    ack = bystander.call("join", {"event": "smartcities"}, timeout=5)
    assert ack["ok"]
    assert all(q["body"] != "x" * 200_000 for q in ack["questions"])
    bystander.disconnect()
    with contextlib.suppress(Exception):
        attacker.disconnect()


def test_nothing_acknowledged_is_lost_to_a_sigkill(live_server_factory):
    server = live_server_factory(DISCUSSION_RATELIMIT_ENABLED="false")
    session, headers = phone(server)
    client = connect(server, session)
    assert client.call("join", {"event": "smartcities"}, timeout=5)["ok"]
    acked = []
    for i in range(20):
        ack = client.call("ask", {"body": f"durable {i}", "client_id": f"d{i}"}, timeout=5)
        assert ack["ok"]
        acked.append(ack["question"]["id"])
    vote = client.call("vote", {"question_id": 1, "up": True}, timeout=5)
    response = session.post(f"{server.url}/api/v1/questions/2/comments",
                            json={"body": "acknowledged over http"}, headers=headers, timeout=5)
    assert vote["ok"] and response.status_code == 201
    server.stop(signal.SIGKILL)

    again = live_server_factory(server.database_url)
    listed = requests.get(f"{again.url}/api/v1/events/smartcities/questions",
                          timeout=5).json()["questions"]
    ids = {q["id"]: q for q in listed}
    assert set(acked) <= set(ids)
    assert ids[1]["votes"] == 1 and ids[2]["comments"] == 1

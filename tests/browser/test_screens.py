"""Every main screen in Chromium: a screenshot for a person to look at, and axe-core's
WCAG 2.2 AA rules in light and dark colour schemes (no serious or critical violation).
Also the participant page's first-load weight."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import (
    EVENT,
    PHONE,
    SCREENSHOTS,
    Api,
    BrowserServer,
    axe,
    card,
    note,
    ready,
    shot,
)

pytestmark = pytest.mark.browser

SCHEMES = ["light", "dark"]
ASKED = "Who audits the algorithms that decide where the city sends its police patrols?"
COMMENT = "In Bogotá the council asked for the source code and got a PDF of slides."


@pytest.fixture(scope="module", autouse=True)
def content(server: BrowserServer) -> dict[str, Any]:
    """A room in use: a participant's question with a name, a comment and votes."""
    author = Api(server)
    q = author.ask(ASKED, author="Lucía", quote="named", topic="transparency")
    r = author.session.post(
        f"{server.url}/api/v1/questions/{q['id']}/comments",
        json={"body": COMMENT},
        headers=author.headers,
        timeout=10,
    )
    assert r.status_code == 201, r.text
    for _ in range(3):
        Api(server).vote(q["id"])
    Api(server).vote(2)
    return q


def test_join_page(new_context, server) -> None:
    page = new_context(PHONE, "join").new_page()
    page.goto(server.url + "/")
    expect(page.get_by_label("Join code")).to_be_visible()
    expect(page.get_by_role("link", name="Smart Cities and Big Data")).to_be_visible()
    shot(page, "join")
    axe(page, "join-light")


@pytest.mark.parametrize("scheme", SCHEMES)
def test_participant_page(phone, scheme: str) -> None:
    page = ready(phone(f"participant-{scheme}", color_scheme=scheme))
    mine = card(page, ASKED)
    expect(mine).to_be_visible()
    shot(page, f"participant-{scheme}")
    axe(page, f"participant-{scheme}")

    # Comments open on the participant's question.
    toggle = mine.get_by_role("button", name="Comments (1)")
    toggle.tap()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(mine.locator(".comment-body")).to_have_text(COMMENT)
    mine.get_by_label("Your comment").scroll_into_view_if_needed()
    mine.scroll_into_view_if_needed()
    shot(page, f"participant-comments-open-{scheme}")
    axe(page, f"participant-comments-open-{scheme}")

    # The consent notice comes before the first post.
    page.get_by_label("Your question").fill("Is the QR code on the wall itself a tracker?")
    page.get_by_role("button", name="Ask", exact=True).tap()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="I agree")).to_be_visible()
    shot(page, f"consent-{scheme}")
    axe(page, f"consent-{scheme}")
    dialog.get_by_role("button", name="Not now").tap()
    expect(dialog).to_be_hidden()
    # Declined: nothing was sent, and the text is still in the box.
    expect(page.get_by_label("Your question")).to_have_value(
        "Is the QR code on the wall itself a tracker?"
    )


@pytest.mark.parametrize("scheme", SCHEMES)
def test_board(board, scheme: str) -> None:
    page = board(f"?theme={scheme}", label=f"board-{scheme}", color_scheme=scheme)
    expect(page.locator("#b-conn")).to_have_attribute("data-state", "live")
    first = page.locator("#b-list > li").first
    expect(first.locator(".b-body")).to_have_text(ASKED)
    expect(first.locator(".b-pill-n")).to_have_text("3")
    assert page.evaluate("(s) => document.documentElement.classList.contains('theme-' + s)", scheme)
    shot(page, f"board-{scheme}")
    axe(page, f"board-{scheme}")


@pytest.mark.parametrize("scheme", SCHEMES)
def test_console(staff, scheme: str) -> None:
    page = staff(f"console-{scheme}", color_scheme=scheme)
    expect(page.locator("#conn")).to_have_attribute("data-state", "connected")
    expect(page.locator(".mq").first).to_be_visible()
    shot(page, f"console-{scheme}")
    axe(page, f"console-{scheme}")


@pytest.mark.parametrize("scheme", SCHEMES)
def test_privacy_page(phone, scheme: str) -> None:
    page = phone(f"privacy-{scheme}", path=f"{EVENT}/privacy", color_scheme=scheme)
    expect(page.get_by_role("heading", level=1)).to_have_text("What is stored, and why")
    expect(page.get_by_role("button", name="Forget me")).to_be_visible()
    shot(page, f"privacy-{scheme}", full_page=True)
    axe(page, f"privacy-{scheme}")


def test_first_load_weight(new_context, server) -> None:
    """HTML, CSS and JS (the Socket.IO client included) of the participant page's first
    load, as transferred (compressed, headers included), stay under 100 KB."""
    context = new_context(PHONE, "weight")
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    seen: dict[str, dict[str, Any]] = {}
    done: dict[str, int] = {}

    def on_response(e: dict[str, Any]) -> None:
        headers = {k.lower(): v for k, v in e["response"]["headers"].items()}
        seen[e["requestId"]] = {
            "url": e["response"]["url"],
            "type": e["type"],
            "encoding": headers.get("content-encoding", ""),
        }

    cdp.on("Network.responseReceived", on_response)
    cdp.on(
        "Network.loadingFinished",
        lambda e: done.__setitem__(e["requestId"], int(e["encodedDataLength"])),
    )
    page.goto(server.url + EVENT)
    ready(page)
    page.wait_for_load_state("load")
    kinds = ("Document", "Stylesheet", "Script")
    page.wait_for_function("() => true")  # let pending protocol events arrive
    first = {rid: r for rid, r in seen.items() if r["type"] in kinds}
    assert {r["type"] for r in first.values()} == set(kinds), first
    for _ in range(50):
        if all(rid in done for rid in first):
            break
        page.wait_for_timeout(50)
    rows = sorted(
        (
            (r["type"], r["url"].replace(server.url, ""), r["encoding"], done[rid])
            for rid, r in first.items()
        ),
        key=lambda row: -row[3],
    )
    total = sum(row[3] for row in rows)
    others = sum(n for rid, n in done.items() if rid not in first)
    SCREENSHOTS.parent.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS.parent / "page-weight.json").write_text(
        json.dumps({"first_load_bytes": total, "other_bytes": others, "files": rows}, indent=2)
    )
    note(
        f"participant page first load: {total} bytes ({total / 1024:.1f} KiB) transferred "
        f"for HTML, CSS and JS; {others} bytes more for the Socket.IO handshake: "
        + ", ".join(f"{url} {n} B {enc or 'identity'}" for _, url, enc, n in rows)
    )
    uncompressed = [url for _, url, enc, n in rows if not enc and n > 1500]
    assert not uncompressed, f"sent without compression: {uncompressed}"
    assert total < 100 * 1024, rows

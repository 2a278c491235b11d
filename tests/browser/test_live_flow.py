"""Two phones, the board and the moderator in one room, in real Chromium, live."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import Api, card, ready, shot

pytestmark = pytest.mark.browser

QUESTION = "If the city sells its mobility data, who decides what counts as anonymous?"
COMMENT = "And who checks the buyers afterwards?"


def board_order(board) -> list[str]:
    return board.locator("#b-list > li").evaluate_all("els => els.map(e => e.dataset.id)")


def test_two_phones_the_board_and_the_moderator(phone, board, staff, server) -> None:
    wall = board("?theme=dark", label="board", color_scheme="dark")
    expect(wall.locator("#b-conn")).to_have_attribute("data-state", "live")
    a = ready(phone("phone-A"))
    b = ready(phone("phone-B"))
    expect(a.locator("#presence")).to_have_text("2 here")
    expect(wall.locator("#stat-online")).to_have_text("2 people here")
    before = board_order(wall)

    # Phone A asks; the consent notice comes first. A's own "new questions" bar must
    # not flash for A's own question (its broadcast may come just before the ack).
    a.evaluate("""() => { const bar = document.getElementById('new-bar'); window.barShown = 0;
        new MutationObserver(() => { if (!bar.hidden) window.barShown++; })
            .observe(bar, {attributes: true}); }""")
    a.get_by_label("Your question").fill(QUESTION)
    a.get_by_label("Topic", exact=True).select_option(label="Privacy")
    a.get_by_role("button", name="Ask", exact=True).tap()
    consent = a.get_by_role("dialog")
    expect(consent).to_be_visible()
    consent.get_by_role("button", name="I agree").tap()
    expect(consent).to_be_hidden()
    mine = card(a, QUESTION)
    expect(mine).to_be_visible()
    expect(mine.locator(".tag-mine")).to_have_text("yours")
    expect(a.get_by_label("Your question")).to_have_value("")
    assert a.evaluate("window.barShown") == 0
    (question,) = [q for q in Api(server).questions() if q["body"] == QUESTION]
    qid = str(question["id"])
    assert question["topic"] == "privacy"

    # Phone B sees it arrive live, behind the gentle "new questions" bar on Top.
    bar = b.locator("#new-bar")
    expect(bar).to_be_visible()
    expect(bar).to_have_text("1 new question")
    bar.tap()
    theirs = card(b, QUESTION)
    expect(theirs).to_be_visible()
    expect(theirs.locator(".tag-mine")).to_have_count(0)

    # The board shows it at once: last of the ranking (no votes yet, ties oldest
    # first), in the list if it has room, else in "Just asked" (the board builds only
    # the cards it shows).
    on_wall = wall.locator(f'#b-list > li[data-id="{qid}"] .b-body, '
                           f'#b-recent > li[data-id="{qid}"]:not(.is-clipped) .b-body')
    expect(on_wall).to_have_text(QUESTION)
    order = board_order(wall)
    assert order == [*before, qid][:len(order)], (order, before)

    # B upvotes: pressed state, counts everywhere, and the board re-ranks it to the top.
    upvote = theirs.get_by_role("button", name="Upvote")
    expect(upvote).to_have_attribute("aria-pressed", "false")
    upvote.tap()
    expect(upvote).to_have_attribute("aria-pressed", "true")
    expect(theirs.locator(".count")).to_have_text("1")
    expect(mine.locator(".count")).to_have_text("1")
    expect(wall.locator("#b-list > li").first).to_have_attribute("data-id", qid)
    expect(wall.locator("#b-list > li").first.locator(".b-pill-n")).to_have_text("1")
    ranked_once = board_order(wall)
    assert ranked_once != [*before, qid] and ranked_once[0] == qid

    # Two more people vote for the consent question (#2): it overtakes on the board.
    Api(server).vote(2)
    Api(server).vote(2)
    expect(wall.locator("#b-list > li").first).to_have_attribute("data-id", "2")
    assert board_order(wall)[:2] == ["2", qid]
    expect(wall.locator("#stat-votes")).to_have_text("3 votes")

    # A comments; B sees the count change live and the comment after opening the thread.
    a_toggle = mine.get_by_role("button", name="Comments (0)")
    a_toggle.tap()
    mine.get_by_label("Your comment").fill(COMMENT)
    mine.get_by_role("button", name="Comment", exact=True).tap()
    expect(mine.locator(".comment-body")).to_have_text(COMMENT)
    expect(mine.locator(".comment .tag-mine")).to_have_text("yours")
    b_toggle = theirs.get_by_role("button", name="Comments (1)")
    expect(b_toggle).to_be_visible()
    b_toggle.tap()
    expect(theirs.locator(".comment-body")).to_have_text(COMMENT)
    expect(theirs.locator(".comment .tag-mine")).to_have_count(0)
    expect(wall.locator(f'#b-list > li[data-id="{qid}"] .b-meta')).to_contain_text("1 comment")
    shot(b, "participant-live-comment")

    # The moderator highlights it from the console; the board and the phones show it.
    console = staff()
    expect(console.locator("#conn")).to_have_attribute("data-state", "connected")
    entry = console.locator(f"#mq-{qid}")
    expect(entry).to_contain_text(QUESTION)
    # Compact by default: selecting the question opens its actions.
    entry.locator(".mq-body").click()
    highlight = entry.locator('[data-act="highlight"]')
    expect(highlight).to_have_attribute("aria-pressed", "false")
    highlight.click()
    expect(entry.locator('[data-act="unhighlight"]')).to_have_attribute("aria-pressed", "true")
    now = wall.locator("#now")
    expect(now).to_be_visible()
    expect(now.get_by_role("heading", name="Now discussing")).to_be_visible()
    expect(wall.locator("#now-body")).to_have_text(QUESTION)
    expect(wall.locator(f'#b-list > li[data-id="{qid}"]')).to_have_count(0)
    expect(wall.locator("#b-announce")).to_contain_text(QUESTION)
    for p in (a, b):
        expect(p.locator("#now")).to_be_visible()
        expect(p.locator("#now-link")).to_have_text(QUESTION)
        expect(card(p, QUESTION).locator(".tag-now")).to_have_text("Now discussing")
    console.wait_for_timeout(350)  # the board's short highlight animation
    shot(wall, "board-highlighted")
    shot(console, "console-highlighted")
    shot(a, "participant-now-discussing")

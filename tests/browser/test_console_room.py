"""The moderator console in a crowded room, in real Chromium at 1366x768: ten questions
a screen, arrivals seen wherever the list is scrolled, search and topic filter, muting
in one action, dialogs whose reasons fit them (sent as codes), shortcuts in the
language shown, and menus that stay on a phone's screen."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import EVENT, Api, BrowserServer, axe, log_in, shot

pytestmark = pytest.mark.browser

CONSOLE = {"viewport": {"width": 1366, "height": 768}, "device_scale_factor": 1}
PHONE_CONSOLE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1}
TOPICS = ["privacy", "consent", "transparency", "security"]


@pytest.fixture(scope="module", autouse=True)
def crowd(server: BrowserServer) -> list[dict[str, Any]]:
    """Sixty questions from sixty people, some with votes: a list that scrolls."""
    asked = []
    for i in range(60):
        person = Api(server)
        asked.append(person.ask(
            f"Crowd question {i:02d}: how does the city keep sensor data number {i} "
            "from being sold on?",
            topic=TOPICS[i % len(TOPICS)],
        ))
    for q in asked[:12]:
        Api(server).vote(q["id"])
    return asked


def console_page(new_context: Any, server: BrowserServer, kind: dict[str, Any] = CONSOLE,
                 label: str = "console", **options: Any) -> Any:
    page = new_context(kind, label, **options).new_page()
    log_in(page, server.url)
    page.goto(f"{server.url}{EVENT}/moderate")
    expect(page.locator("#conn")).to_have_attribute("data-state", "connected")
    expect(page.locator("#q-list > li").first).to_be_visible()
    return page


def cards_in_view(page: Any) -> int:
    """Question cards wholly visible between the sticky bar and the bottom of the window."""
    return page.evaluate("""() => {
      const top = document.getElementById('list-bar').getBoundingClientRect().bottom;
      return Array.from(document.querySelectorAll('#q-list > li')).filter(li => {
        const r = li.getBoundingClientRect();
        return r.top >= top - 1 && r.bottom <= innerHeight + 1;
      }).length;
    }""")


def posts(page: Any, store: list[dict[str, Any]]) -> None:
    """Record the JSON body of every moderation request the page sends."""
    def on_request(request: Any) -> None:
        if request.method == "POST" and request.url.endswith("/moderate"):
            store.append(json.loads(request.post_data or "{}"))
    page.on("request", on_request)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_ten_questions_a_screen(new_context, server, scheme: str) -> None:
    page = console_page(new_context, server, color_scheme=scheme)
    expect(page.locator("#density-toggle")).to_have_attribute("aria-pressed", "true")
    page.locator("#q-list > li").nth(20).scroll_into_view_if_needed()
    shot(page, f"console-1366-compact-{scheme}")
    assert cards_in_view(page) >= 10, cards_in_view(page)
    # The tabs with their counts stay in view, however far the list is scrolled.
    bar = page.locator("#list-bar").bounding_box()
    assert bar and -1 <= bar["y"] <= 1, bar
    expect(page.locator("#n-visible")).to_have_text(re.compile(r"\d+"))
    axe(page, f"console-compact-{scheme}")

    # A selected question opens with its actions, its key on each button.
    page.locator("#q-list > li").nth(22).click()
    actions = page.locator("#q-list > li.is-selected .mq-actions")
    expect(actions).to_be_visible()
    expect(actions.locator('[data-act="highlight"] kbd')).to_have_text("H")
    expect(actions.locator('[data-act="mute"] kbd')).to_have_text("U")
    shot(page, f"console-1366-compact-selected-{scheme}")

    # The comfortable layout is one click away, and remembered.
    page.locator("#density-toggle").click()
    expect(page.locator("body")).not_to_have_class(re.compile(r"density-compact"))
    expect(page.locator("#q-list > li .mq-actions").first).to_be_visible()
    shot(page, f"console-1366-comfortable-{scheme}")
    page.reload()
    expect(page.locator("#density-toggle")).to_have_attribute("aria-pressed", "false")
    page.locator("#density-toggle").click()


def test_arrivals_reach_a_scrolled_moderator(new_context, server, api) -> None:
    page = console_page(new_context, server)
    base_title = page.title()
    page.get_by_role("button", name="Pre-moderation").click()
    expect(page.get_by_role("button", name="Pre-moderation")).to_have_attribute(
        "aria-pressed", "true"
    )
    page.mouse.wheel(0, 4000)
    page.wait_for_timeout(300)
    assert page.evaluate("scrollY") > 1500
    bodies = [f"Pending while scrolled {i}: who keeps the camera footage?" for i in range(3)]
    for body in bodies:
        api().ask(body)
    toast = page.locator("#toast")
    expect(toast).to_be_visible()
    expect(page.locator("#toast-text")).to_have_text("3 new questions waiting for approval")
    expect(page).to_have_title(f"(3) {base_title}")
    expect(page.locator("#n-pending")).to_have_text("3")
    bar = page.locator("#list-bar").bounding_box()
    assert bar and -1 <= bar["y"] <= 1, bar
    expect(page.locator('[data-filter="pending"]')).to_be_in_viewport()
    shot(page, "console-1366-pending-while-scrolled")

    # Optional sound: off by default, a toggle.
    expect(page.locator("#sound-toggle")).to_have_attribute("aria-pressed", "false")
    page.locator("#sound-toggle").click()
    expect(page.locator("#sound-toggle")).to_have_attribute("aria-pressed", "true")
    page.locator("#sound-toggle").click()

    # The toast takes the moderator to them: the pending queue, oldest first, selected.
    page.locator("#toast-go").click()
    expect(toast).to_be_hidden()
    expect(page.locator('[data-filter="pending"]')).to_have_attribute("aria-pressed", "true")
    first = page.locator("#q-list > li").first
    expect(first.locator(".mq-body")).to_have_text(bodies[0])
    expect(first).to_have_class(re.compile(r"is-selected"))
    expect(first).to_be_in_viewport()
    # Approved with its key: the count and the title follow.
    page.keyboard.press("v")
    expect(page.locator("#n-pending")).to_have_text("2")
    expect(page).to_have_title(f"(2) {base_title}")
    page.keyboard.press("v")
    expect(page.locator("#n-pending")).to_have_text("1")
    page.keyboard.press("v")
    expect(page).to_have_title(base_title)

    # Post-moderation: a new visible question out of view gets the toast too.
    page.get_by_role("button", name="Post-moderation").click()
    page.locator('[data-filter="all"]').click()
    page.mouse.wheel(0, 4000)
    page.wait_for_timeout(300)
    api().ask("Arrived while scrolled: who signs off on a new sensor?")
    expect(page.locator("#toast-text")).to_have_text("1 new question")
    page.locator("#toast-go").click()
    expect(page.locator('[data-sort="new"]')).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#q-list > li.is-selected .mq-body")).to_have_text(
        "Arrived while scrolled: who signs off on a new sensor?"
    )


def test_search_and_topic_filter(new_context, server, crowd) -> None:
    page = console_page(new_context, server)
    page.keyboard.press("/")
    search = page.locator("#q-search")
    expect(search).to_be_focused()
    page.keyboard.type("number 1")
    bodies = page.locator("#q-list > li .mq-body").all_inner_texts()
    assert bodies and all("number 1" in b for b in bodies), bodies
    expect(page.locator("#q-search-count")).to_have_text(f"{len(bodies)} questions match")
    page.keyboard.press("Enter")  # to the first match, where the shortcuts act
    expect(page.locator("#q-list > li").first).to_have_class(re.compile(r"is-selected"))
    search.fill("")
    page.locator("#q-topic").select_option("consent")
    metas = page.locator("#q-list > li .mq-meta").all_inner_texts()
    assert metas and all("Consent" in m for m in metas), metas
    search.fill("crowd question 05")
    expect(page.locator("#q-list > li")).to_have_count(1)
    shot(page, "console-1366-search-topic")
    search.fill("no such words anywhere")
    expect(page.locator("#empty")).to_have_text("No question matches this search.")


def test_mute_in_one_action_tags_every_post_of_the_author(new_context, server) -> None:
    author = Api(server)
    first = author.ask("Muted author's first question: why are the benches counting us?")
    second = author.ask("Muted author's second question: and who reads the counts?")
    page = console_page(new_context, server)
    sent: list[dict[str, Any]] = []
    posts(page, sent)
    page.locator("#q-search").fill("Muted author's")
    page.locator(f"#mq-{first['id']}").click()
    page.keyboard.press("u")
    dialog = page.locator("#reason-dialog")
    expect(dialog).to_be_visible()
    # Reasons about behaviour, not content.
    chips = dialog.locator("#reason-chips .chip").all_inner_texts()
    assert chips == ["Personal attack", "Spam or advertising", "Personal data about someone"]
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    for q in (first, second):
        expect(page.locator(f"#mq-{q['id']} .tag-muted")).to_have_text("Author muted")
    assert sent[-1] == {"action": "mute"}
    r = author.session.post(
        f"{server.url}/api/v1/events/smartcities/questions",
        json={"body": "Can I still ask?"}, headers=author.headers, timeout=10,
    )
    assert r.status_code == 403
    shot(page, "console-1366-muted")
    # Unmuting is one action too: the button (pressed) or the same key.
    page.locator(f"#mq-{first['id']}").click()
    page.keyboard.press("u")
    for q in (first, second):
        expect(page.locator(f"#mq-{q['id']} .tag-muted")).to_have_count(0)


def test_hide_reasons_are_sent_as_codes(new_context, server, crowd) -> None:
    page = console_page(new_context, server)
    sent: list[dict[str, Any]] = []
    posts(page, sent)
    target = crowd[40]
    page.locator("#q-search").fill(target["body"][:20])
    page.locator(f"#mq-{target['id']}").click()
    page.keyboard.press("x")
    dialog = page.locator("#reason-dialog")
    expect(dialog).to_be_visible()
    chips = dialog.locator("#reason-chips .chip")
    expect(chips).to_have_count(5)
    # Nothing chosen, nothing written: a reason is required.
    dialog.get_by_role("button", name="Hide").click()
    expect(dialog.locator("#reason-error")).to_have_text(
        "Choose a reason or write one: participants see it in the public log."
    )
    dialog.get_by_role("button", name="Off-topic").click()
    expect(dialog.get_by_role("button", name="Off-topic")).to_have_attribute("aria-pressed", "true")
    expect(dialog.locator("#reason-input-label")).to_have_text("More words (optional)")
    dialog.locator("#reason-input").fill("Ask it in the break")
    shot(page, "console-1366-hide-dialog")
    dialog.get_by_role("button", name="Hide").click()
    expect(dialog).to_be_hidden()
    expect(page.locator(f"#mq-{target['id']} .tag-hidden")).to_be_visible()
    # The chip goes as its code (the server translates it in the public log); the text
    # field carries only the extra words.
    assert sent[-1] == {
        "action": "hide", "reason": "Ask it in the break", "reason_code": "off_topic"
    }


def test_close_event_dialog_offers_no_hide_reasons(new_context, server) -> None:
    page = console_page(new_context, server)
    page.get_by_role("button", name="Close event").click()
    dialog = page.locator("#reason-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#reason-chips-box")).to_be_hidden()
    expect(dialog.locator(".chip")).to_have_count(0)
    expect(dialog.locator("#reason-input-label")).to_have_text(
        "Message to participants (optional, shown in the public log)"
    )
    shot(page, "console-1366-close-dialog")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()


def test_more_menu_stays_on_a_phone_screen(new_context, server) -> None:
    page = console_page(new_context, server, PHONE_CONSOLE, "console-phone")
    card = page.locator("#q-list > li").first
    card.locator(".mq-body").click()
    more = card.locator("details.more > summary")
    more.scroll_into_view_if_needed()
    more.click()
    menu = card.locator(".more-menu")
    expect(menu).to_be_visible()
    box = menu.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    shot(page, "console-390-more-menu")


def test_shortcuts_follow_the_language_shown(new_context, server) -> None:
    page = console_page(new_context, server, locale="es-ES")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    first = page.locator("#q-list > li").first
    first.locator(".mq-body").click()
    highlight = first.locator('[data-act="highlight"]')
    expect(highlight).to_contain_text("Destacar")
    expect(highlight.locator("kbd")).to_have_text("D")
    expect(first.locator('[data-act="mute"] kbd')).to_have_text("S")
    page.keyboard.press("h")  # the English key does nothing here
    expect(highlight).to_have_attribute("aria-pressed", "false")
    page.keyboard.press("d")
    expect(first.locator('[data-act="unhighlight"]')).to_have_attribute("aria-pressed", "true")
    help_keys = page.locator("#help .keys kbd").all_inner_texts()
    assert "D" in help_keys and "H" not in help_keys
    shot(page, "console-1366-es-shortcuts")
    page.keyboard.press("d")
    expect(first.locator('[data-act="highlight"]')).to_have_attribute("aria-pressed", "false")

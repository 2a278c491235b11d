"""The phone's "Similar questions" (issue 16): while a person types, the questions of the
room that say the same show under the ask box, in any of the three languages, with an
Upvote that takes the list's own path and leaves the draft alone."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import SMALL_PHONE, Api, agree_first, axe, card, ready, shot

pytestmark = pytest.mark.browser

# Originals of the room besides the ten English questions the workshop seeds.
SPANISH = (
    "¿Se deberían permitir cámaras de reconocimiento facial en plazas públicas y"
    " estaciones de transporte?"
)
PORTUGUESE = (
    "Como as cidades podem evitar ficar presas a um único fornecedor de tecnologia por décadas?"
)
ENGLISH = "Does predictive policing with big data discriminate against poor neighbourhoods?"
SEEDED = "Where do the data sets that feed smart city systems come from"
OTHERS = [
    "Can anonymised mobility data really be re-identified, and how easily?",
    "¿Cuánto tiempo debe guardar una ciudad los datos que recoge?",
    "Os dados coletados pelas cidades inteligentes deveriam ser abertos para todo mundo?",
]
UNRELATED = "What time is the coffee break this afternoon?"
SOCKET_IO = re.compile(r"/socket\.io/")


@pytest.fixture(scope="module", autouse=True)
def room(server) -> dict[str, int]:
    """The room: the seeded English questions and others in Spanish and Portuguese."""
    asker = Api(server)
    ids = {body: asker.ask(body)["id"] for body in [SPANISH, PORTUGUESE, ENGLISH, *OTHERS]}
    return ids


def votes_of(server, body: str) -> int:
    return next(q["votes"] for q in Api(server).questions() if q["body"].startswith(body))


def region(page: Any, name: str = "Similar questions") -> Any:
    return page.get_by_role("region", name=name)


def list_top(page: Any) -> float:
    return page.evaluate("() => document.getElementById('q-list').getBoundingClientRect().top")


def test_a_restatement_in_another_language_shows_the_original(phone, server) -> None:
    page = ready(phone("similar"))
    page.evaluate("""() => { window.shifts = 0; new PerformanceObserver((l) => {
      for (const e of l.getEntries()) if (!e.hadRecentInput) window.shifts += e.value; })
      .observe({type: 'layout-shift', buffered: false}); }""")
    box = page.get_by_label("Your question")
    box.tap()
    top = list_top(page)
    draft = "Should we allow face recognition cameras in plazas and train stations?"
    box.press_sequentially(draft, delay=15)
    similar = region(page)
    expect(similar).to_be_visible()
    item = similar.locator("li").filter(has_text=SPANISH)
    expect(item).to_have_count(1)
    expect(similar.locator("li")).to_have_count(1)
    # Appearing moved nothing: the list is where it was, and no unexpected shift.
    assert list_top(page) == top
    assert page.evaluate("window.shifts") == 0
    expect(page.locator("#announcer")).to_have_text("1 similar question below the ask box")
    shot(page, "similar-390x844")
    axe(page, "similar-open")

    before = votes_of(server, SPANISH)
    upvote = item.get_by_role("button", name="Upvote")
    box_size = upvote.bounding_box()
    assert box_size and box_size["width"] >= 44 and box_size["height"] >= 44
    expect(upvote).to_have_attribute("aria-pressed", "false")
    count = item.locator(".count")
    shown = int(count.inner_text())
    agree_first(page)
    upvote.tap()
    expect(upvote).to_have_attribute("aria-pressed", "true")
    expect(count).to_have_text(str(shown + 1))
    # The same vote as the list's: its card agrees, and so does the server.
    expect(card(page, SPANISH).locator(".upvote")).to_have_attribute("aria-pressed", "true")
    expect(card(page, SPANISH).locator(".count")).to_have_text(str(shown + 1))
    for _ in range(50):
        if votes_of(server, SPANISH) == before + 1:
            break
        page.wait_for_timeout(100)
    assert votes_of(server, SPANISH) == before + 1
    # The draft is kept, and the region stays for the person to ask anyway.
    expect(box).to_have_value(draft)
    expect(similar).to_be_visible()

    # Jump to it in the list: the region goes, the card is shown, the draft stays.
    item.get_by_role("button", name="Show in the list").tap()
    expect(similar).to_be_hidden()
    expect(card(page, SPANISH)).to_be_focused()
    expect(card(page, SPANISH)).to_be_in_viewport()
    expect(box).to_have_value(draft)

    # Back in the box: it returns; asking hides it, and the question is asked as typed.
    box.focus()
    expect(similar).to_be_visible()
    page.get_by_role("button", name="Ask", exact=True).tap()
    expect(similar).to_be_hidden()
    expect(card(page, draft).locator(".tag-mine")).to_have_text("yours")


def test_unrelated_text_shows_nothing_and_clearing_hides(phone) -> None:
    page = ready(phone("similar-none"))
    box = page.get_by_label("Your question")
    box.tap()
    box.fill(UNRELATED)
    page.wait_for_timeout(1500)  # the pause, the lookup and its answer
    expect(region(page)).to_be_hidden()
    expect(page.locator("#similar-list > li")).to_have_count(0)

    # Short text never asks; a real match shows; clearing the box hides it.
    box.fill("How long should a city keep the data it collects?")
    expect(region(page)).to_be_visible()
    expect(region(page).locator("li").first).to_contain_text("Cuánto tiempo")
    box.fill("")
    expect(region(page)).to_be_hidden()
    box.fill("Predictive")
    page.wait_for_timeout(900)
    expect(region(page)).to_be_hidden()
    # Escape dismisses it until the text changes.
    box.fill("is big data predictive policing discriminatory towards poor neighborhoods?")
    expect(region(page).locator("li").first).to_contain_text(ENGLISH)
    box.press("Escape")
    expect(region(page)).to_be_hidden()
    expect(box).to_be_focused()


def test_portuguese_phone_over_http_while_connecting(phone, server, console) -> None:
    """No socket yet: the lookup goes over HTTP, the vote through the outbox's HTTP path,
    and an answer for older text is dropped."""
    console.allow(r"socket\.io|ERR_FAILED|Failed to load resource")
    held: list[Any] = []

    def setup(page: Any) -> None:
        page.route(SOCKET_IO, lambda route: route.abort())

    page = phone("similar-pt", kind=SMALL_PHONE, locale="pt-BR", setup=setup)
    expect(page.locator("#conn")).not_to_have_attribute("data-state", "connected")
    agree_first(page)
    box = page.get_by_label("Sua pergunta")
    box.tap()

    # An answer that arrives after the text changed is ignored.
    page.route(re.compile(r"/similar\?"), lambda route: held.append(route))
    box.fill("De onde vêm os conjuntos de dados usados pelas cidades inteligentes?")
    for _ in range(40):
        if held:
            break
        page.wait_for_timeout(50)
    assert len(held) == 1
    box.fill(UNRELATED)
    for _ in range(40):
        if len(held) == 2:
            break
        page.wait_for_timeout(50)
    assert len(held) == 2
    held[1].continue_()
    page.wait_for_timeout(300)
    held[0].continue_()
    page.wait_for_timeout(600)
    expect(region(page, "Perguntas parecidas")).to_be_hidden()
    page.unroute(re.compile(r"/similar\?"))

    draft = (
        "De onde vêm os conjuntos de dados usados pelas cidades inteligentes e quem consegue"
        " rastrear a origem deles?"
    )
    with page.expect_response(re.compile(r"/similar\?")) as answer:
        box.fill(draft)
    assert answer.value.ok
    similar = region(page, "Perguntas parecidas")
    expect(similar).to_be_visible()
    item = similar.locator("li").filter(has_text=SEEDED)
    expect(item).to_have_count(1)
    expect(similar.get_by_role("heading")).to_have_text("Perguntas parecidas")
    # Below the fold on a small phone: the page scrolls just enough to show the first
    # suggestion, and the ask box stays in view.
    expect(item).to_be_in_viewport(ratio=1)
    expect(box).to_be_in_viewport()
    shot(page, "similar-360x640-pt")
    axe(page, "similar-pt-small")

    before = votes_of(server, SEEDED)
    upvote = item.get_by_role("button", name="Apoiar")
    with page.expect_response(re.compile(r"/vote$")):
        upvote.tap()
    expect(upvote).to_have_attribute("aria-pressed", "true")
    assert votes_of(server, SEEDED) == before + 1
    expect(box).to_have_value(draft)

"""The event's texts in the room's languages, in real Chromium: the console's settings
edit the texts as written or one language's, and each board follows its own language
live."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from .conftest import BOARD, EVENT, LAPTOP, BrowserServer, log_in, shot

pytestmark = pytest.mark.browser

TITLE_EN = "Smart Cities and Big Data: Boundless Opportunities?"
TITLE_ES = "Ciudades inteligentes y big data: ¿oportunidades sin límites?"


def board(new_context: Any, server: BrowserServer, locale: str) -> Any:
    page = new_context(BOARD, f"board-{locale}", locale=locale).new_page()
    page.goto(f"{server.url}{EVENT}/board")
    return page


def test_the_console_edits_one_languages_texts_and_boards_follow(new_context, server) -> None:
    board_es, board_en = board(new_context, server, "es-MX"), board(new_context, server, "en-US")
    expect(board_es.locator("#b-title")).to_have_text(TITLE_ES)
    expect(board_en.locator("#b-title")).to_have_text(TITLE_EN)

    page = new_context(LAPTOP, "console", locale="es-MX").new_page()
    log_in(page, server.url)
    page.goto(f"{server.url}{EVENT}/moderate")
    expect(page.locator("#event-title")).to_have_text(TITLE_ES)
    page.locator("details.settings > summary").click()
    # As written: the English texts, whatever the console's language.
    expect(page.locator("#set-title")).to_have_value(TITLE_EN)
    page.select_option("#set-lang", "es")
    expect(page.locator("#set-title")).to_have_value(TITLE_ES)
    expect(page.locator("#set-topics")).to_have_value(
        "Consentimiento\nTransparencia\nOrigen de los datos\nPrivacidad\nSeguridad\n"
        "Rendición de cuentas\nEducación pública\nCosto-beneficio y riesgo\nDerechos humanos")
    expect(page.locator("#set-topics-lang-hint")).to_be_visible()
    page.fill("#set-title", "Ciudades inteligentes 2016")
    topics = page.locator("#set-topics").input_value().split("\n")
    topics[0] = "Consentimiento informado"
    page.fill("#set-topics", "\n".join(topics))
    page.click("#settings-save")
    expect(page.locator("#settings-error")).to_have_text("")
    expect(page.locator("#event-title")).to_have_text("Ciudades inteligentes 2016")
    shot(page, "console-1366-es-settings-texts-in-spanish")

    # Each board hears the change in its own language.
    expect(board_es.locator("#b-title")).to_have_text("Ciudades inteligentes 2016")
    expect(board_es.locator('#b-topic option[value="consent"]')).to_have_text(
        "Consentimiento informado")
    expect(board_en.locator("#b-title")).to_have_text(TITLE_EN)
    expect(board_en.locator('#b-topic option[value="consent"]')).to_have_text("Consent")

    # The texts as written were not touched, nor the other languages.
    page.select_option("#set-lang", "")
    expect(page.locator("#set-title")).to_have_value(TITLE_EN)
    event = requests.get(f"{server.url}/api/v1/events/smartcities",
                         headers={"Accept-Language": "pt-BR"}, timeout=5).json()
    assert event["original"]["title"] == TITLE_EN
    assert event["title"] == "Cidades inteligentes e big data: oportunidades sem limites?"
    assert event["translations"]["es"]["title"] == "Ciudades inteligentes 2016"
    assert event["translations"]["es"]["place"] == "Guadalajara, México"
    consent = next(t for t in event["topics"] if t["slug"] == "consent")
    assert consent["translations"] == {"es": "Consentimiento informado",
                                       "pt_BR": "Consentimento"}

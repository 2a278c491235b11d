"""Forget me from the participant page: one button, a confirmation, and the posts are gone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import agree_first, card, ready

pytestmark = pytest.mark.browser


def test_forget_me_from_the_participant_page(phone, api) -> None:
    page = ready(phone("forget"))
    agree_first(page)
    body = "Forget me: who may keep what I typed here, and for how long?"
    page.get_by_label("Your question").fill(body)
    page.get_by_role("button", name="Ask", exact=True).click()
    expect(card(page, body)).to_have_count(1)
    assert any(q["body"] == body for q in api().questions())

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Forget me").click()
    expect(page.locator("#forget-me-status")).to_have_text(
        "Done: your posts were erased or anonymised."
    )
    # The question nobody else engaged with is erased, for everyone.
    assert not any(q["body"] == body for q in api().questions())
    # After the page starts again, nothing on it is "yours".
    page.wait_for_load_state("load")
    ready(page)
    expect(card(page, body)).to_have_count(0)
    expect(page.locator("#q-list .q.is-mine")).to_have_count(0)

"""The phone page without sight or mouse: keyboard only, a polite live region, 44 px tap
targets, and the accessible names of the public contract in every language."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from babel.support import Translations
from playwright.sync_api import expect

from .conftest import CONSENT, ROOT, Api, axe, card, ready, shot

pytestmark = pytest.mark.browser

TRANSLATIONS = ROOT / "discussion" / "translations"

FOCUS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const cs = getComputedStyle(el);
  const ring = (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2)
    || (cs.boxShadow && cs.boxShadow !== 'none');
  return {tag: el.tagName, id: el.id, cls: el.className, text: (el.getAttribute('aria-label')
    || el.textContent || '').trim().slice(0, 40), visible: el.matches(':focus-visible') && ring};
}"""


def tab_to(page: Any, test: str, limit: int = 30) -> dict[str, Any]:
    """Press Tab until the focused element passes ``test`` (a JS predicate on it)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(
            f"() => {{ const el = document.activeElement; return !!el && ({test}); }}"
        ):
            focus = page.evaluate(FOCUS)
            assert focus and focus["visible"], f"focus is not visible on {focus}"
            return focus
    raise AssertionError(f"Tab never reached {test}; focus is on {page.evaluate(FOCUS)}")


def test_keyboard_only(phone, server) -> None:
    page = ready(phone("keyboard"))
    page.locator("body").focus()
    body = "Asked with the keyboard alone: who maintains the city's data catalogue?"
    tab_to(page, "el.id === 'ask-body'")
    page.keyboard.type(body)
    tab_to(page, "el.id === 'ask-submit'")
    page.keyboard.press("Enter")

    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    assert page.evaluate(
        "() => document.getElementById('consent').contains(document.activeElement)"
    )
    tab_to(page, "el.id === 'consent-agree'", limit=5)
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    mine = card(page, body)
    expect(mine.locator(".tag-mine")).to_have_text("yours")
    assert page.evaluate("() => document.activeElement.id") == "ask-submit"

    focus = tab_to(page, "el.classList.contains('upvote')")
    assert focus["text"] == "Upvote"
    upvote = page.locator("button.upvote:focus")
    expect(upvote).to_have_attribute("aria-pressed", "false")
    page.keyboard.press("Space")
    expect(upvote).to_have_attribute("aria-pressed", "true")
    expect(upvote).to_be_focused()
    assert page.evaluate(FOCUS)["visible"], "focus is no longer visible after voting"
    shot(page, "participant-keyboard-focus")
    assert [q["body"] for q in Api(server).questions()].count(body) == 1


def test_new_questions_are_announced_politely_in_one_message(phone, server) -> None:
    page = ready(phone("announcer"))
    announcer = page.locator("#announcer")
    expect(announcer).to_have_attribute("aria-live", "polite")
    # The list itself is not live (that would read every arrival), and nothing shouts.
    assert page.evaluate("() => document.querySelectorAll('[aria-live=assertive]').length") == 0
    assert page.evaluate("() => document.getElementById('q-list').closest('[aria-live]')") is None
    page.evaluate("""() => { window.said = []; const a = document.getElementById('announcer');
      new MutationObserver(() => window.said.push(a.textContent))
        .observe(a, {childList: true, characterData: true, subtree: true}); }""")
    other = Api(server)
    for n in range(3):
        other.ask(f"Arrival number {n + 1} in a burst of three")
    expect(page.locator("#new-bar")).to_have_text("3 new questions")
    expect(announcer).to_have_text("3 new questions")
    said = [s for s in page.evaluate("window.said") if s.strip()]
    assert said == ["3 new questions"], said


TAP_TARGETS = """() => {
  const bad = [];
  const sel = 'a[href], button, input:not([type=hidden]), select, textarea, summary, '
    + '[role=button], [tabindex]:not([tabindex="-1"])';
  for (const el of document.querySelectorAll(sel)) {
    if (!el.checkVisibility({visibilityProperty: true})) continue;
    if (el.closest('.sr-only')) continue;
    const r = el.getBoundingClientRect();
    if (r.width <= 1 && r.height <= 1) continue;
    // Inline text links inside a paragraph are exempt (WCAG 2.5.8, "inline").
    const inline = getComputedStyle(el).display === 'inline';
    if (el.tagName === 'A' && inline && el.closest('p')) continue;
    if (r.width < 44 || r.height < 44) {
      const name = (el.getAttribute('aria-label') || el.textContent).trim().slice(0, 30);
      const what = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + '.' + el.className;
      bad.push(`${what} "${name}" ${Math.round(r.width)}x${Math.round(r.height)}`);
    }
  }
  return bad;
}"""


def test_tap_targets_are_at_least_44px(phone) -> None:
    page = ready(phone("tap-targets"))
    assert page.evaluate(TAP_TARGETS) == []
    # With a thread open, the "yours" and "Delete" controls, and the consent notice.
    page.evaluate(f"() => localStorage.removeItem({CONSENT!r})")
    target = card(page, "meaningful consent")
    target.get_by_role("button", name=re.compile(r"^Comments \(\d+\)$")).tap()
    expect(target.get_by_label("Your comment")).to_be_visible()
    assert page.evaluate(TAP_TARGETS) == []
    page.locator("summary", has_text="About this session").tap()
    page.locator(".langs summary").tap()
    assert page.evaluate(TAP_TARGETS) == []
    page.locator(".langs summary").tap()
    page.get_by_label("Your question").fill("Tap targets in the consent notice")
    page.get_by_role("button", name="Ask", exact=True).tap()
    expect(page.get_by_role("dialog")).to_be_visible()
    assert page.evaluate(TAP_TARGETS) == []


def translated(lang: str) -> Any:
    """What the app's own catalogue says (English where there is none yet)."""
    return Translations.load(str(TRANSLATIONS), [lang]).gettext


def catalogue(lang: str) -> Path:
    return TRANSLATIONS / lang / "LC_MESSAGES" / "messages.mo"


@pytest.mark.parametrize(("locale", "lang"), [("en-US", "en"), ("es-MX", "es"), ("pt-BR", "pt_BR")])
def test_accessible_names_in_every_language(phone, locale: str, lang: str) -> None:
    """The contract's controls have their names in the reader's language (the app's own
    catalogue, compiled, is the reference), and no control anywhere is nameless."""
    _ = translated(lang)
    page = ready(phone(f"names-{locale}", locale=locale))
    assert page.evaluate("document.documentElement.lang").replace("-", "_") == lang
    names = {
        "Your question": "textbox",
        "Ask": "button",
        "Upvote": "button",
        "Your comment": "textbox",
        "Comment": "button",
        "I agree": "button",
    }
    found: dict[str, str] = {}

    def check(msgid: str, scope: Any = page) -> None:
        name = _(msgid)
        control = scope.get_by_role(names[msgid], name=name, exact=True).first
        expect(control).to_be_visible()
        expect(control).to_have_accessible_name(re.compile(r"\S"))
        found[msgid] = name

    check("Your question")
    check("Ask")
    check("Upvote")
    assert page.get_by_role("button", name=_("Upvote"), exact=True).count() >= 10
    first = page.locator("#q-list > li.q").first
    toggle = first.locator("button.q-toggle")
    expect(toggle).to_have_accessible_name(_("Comments (%(num)s)") % {"num": 0})
    toggle.tap()
    check("Your comment", first)
    check("Comment", first)
    page.get_by_role("textbox", name=_("Your question"), exact=True).fill("¿Quién decide?")
    page.get_by_role("button", name=_("Ask"), exact=True).tap()
    dialog = page.get_by_role("dialog")
    check("I agree", dialog)

    # Nothing interactive without a name, in this language (the browser's own tree).
    tree = page.context.new_cdp_session(page).send("Accessibility.getFullAXTree")["nodes"]
    roles = {"button", "link", "textbox", "combobox", "checkbox", "radio", "ListBox"}
    nameless = [
        n
        for n in tree
        if not n.get("ignored")
        and n.get("role", {}).get("value") in roles
        and not str(n.get("name", {}).get("value", "")).strip()
    ]
    assert not nameless, nameless
    axe(page, f"participant-consent-{locale}")
    if lang != "en" and catalogue(lang).exists():
        english = {m for m in found if found[m] == m}
        assert len(english) < len(found), f"{locale}: every name is still English: {found}"
    dialog.get_by_role("button", name=_("Not now"), exact=True).tap()
    shot(page, f"participant-{locale}")

"""How well similar questions finds the question someone was about to ask again.

Loads the evaluation set (tests/data/similar_eval.toml) into a real app database: the
bundled workshop's seeded questions are there already, the others are asked through
the API. Every restatement and every unrelated probe then goes through the real
``GET /events/<code>/similar`` route. Reported (run with ``-s`` to see it): recall in
the top three (the original is among the suggestions) and the share of unrelated
probes that bring any suggestion, on the tuned set and on the held-out set written
after tuning.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from helpers import csrf_headers

from discussion.similar.text import content_words, fold, guess_language

EVAL = Path(__file__).parent / "data" / "similar_eval.toml"
CODE = "smartcities"
SIMILAR = f"/api/v1/events/{CODE}/similar"


def _load() -> dict[str, Any]:
    with EVAL.open("rb") as fh:
        return tomllib.load(fh)


def _room(app: Flask, data: dict[str, Any]) -> tuple[FlaskClient, dict[str, int]]:
    """A phone in the room, and the id of each original by its text."""
    client = app.test_client()
    headers = csrf_headers(client)
    listed = client.get(f"/api/v1/events/{CODE}/questions").get_json()["questions"]
    ids = {q["body"]: q["id"] for q in listed}
    for original in data["questions"]:
        if original.get("seeded"):
            assert original["body"] in ids, "a seeded original is not in the bundled workshop"
            continue
        r = client.post(f"/api/v1/events/{CODE}/questions", json={"body": original["body"]},
                        headers=headers)
        assert r.status_code == 201, r.get_json()
        ids[original["body"]] = r.get_json()["id"]
    return client, ids


def _suggested(client: FlaskClient, text: str) -> list[int]:
    r = client.get(SIMILAR, query_string={"q": text})
    assert r.status_code == 200, r.get_json()
    questions = r.get_json()["questions"]
    assert len(questions) <= 3
    return [q["id"] for q in questions]


def _measure(client: FlaskClient, probes: list[tuple[int, str]],
             unrelated: list[str]) -> tuple[float, float, list[str]]:
    """recall@3 over (original id, restatement), share of unrelated probes answered, and
    what went wrong (for the report)."""
    notes = []
    found = 0
    for original, text in probes:
        suggested = _suggested(client, text)
        if original in suggested:
            found += 1
        else:
            notes.append(f"missed #{original}: {text!r} -> {suggested}")
    answered = 0
    for text in unrelated:
        suggested = _suggested(client, text)
        if suggested:
            answered += 1
            notes.append(f"unrelated answered: {text!r} -> {suggested}")
    return found / len(probes), answered / len(unrelated), notes


def _report(title: str, recall: float, noise: float, n: int, m: int, notes: list[str]) -> None:
    print(f"\n{title}: recall@3 = {recall:.3f} over {n} restatements; "
          f"unrelated with a suggestion = {noise:.3f} over {m} probes")
    for note in notes:
        print("  " + note)


def test_the_set_is_as_described() -> None:
    data = _load()
    restatements = sum(len(q["restatements"]) for q in data["questions"])
    assert restatements >= 150
    unrelated = data["unrelated"]
    assert len(unrelated["off_topic"]) >= 20 and len(unrelated["near_miss"]) >= 20
    bodies = [q["body"] for q in data["questions"]]
    assert len(set(bodies)) == len(bodies)
    for held in data["held_out"]:
        assert sum(b.startswith(held["of"]) for b in bodies) == 1, held["of"]


def test_recall_and_unrelated_suggestions(app: Flask) -> None:
    data = _load()
    client, ids = _room(app, data)
    probes = [(ids[q["body"]], r) for q in data["questions"] for r in q["restatements"]]
    unrelated = [*data["unrelated"]["off_topic"], *data["unrelated"]["near_miss"]]
    recall, noise, notes = _measure(client, probes, unrelated)
    _report("similar questions, evaluation set", recall, noise, len(probes), len(unrelated), notes)

    held = [
        (next(i for b, i in ids.items() if b.startswith(h["of"])), r)
        for h in data["held_out"] for r in h["restatements"]
    ]
    held_unrelated = [*data["held_out_unrelated"]["off_topic"],
                      *data["held_out_unrelated"]["near_miss"]]
    h_recall, h_noise, h_notes = _measure(client, held, held_unrelated)
    _report("similar questions, held out", h_recall, h_noise, len(held), len(held_unrelated),
            h_notes)

    assert recall >= 0.9
    assert noise <= 0.10
    # The held-out set was never tuned on: a looser guard, so that a change that loses
    # much of what carries over to new wordings does not pass unnoticed.
    assert h_recall >= 0.7
    assert h_noise <= 0.10


@pytest.mark.parametrize(
    ("text", "words", "lang"),
    [
        ("¿Quién decide qué datos se guardan?", ["decide", "datos", "guardan"], "es"),
        ("Quem decide os dados que são guardados?", ["decide", "dados", "guardados"], "pt"),
        ("Who decides which data is kept?", ["decides", "data", "kept"], "en"),
        ("WHO DECIDES", ["decides"], "en"),
    ],
)
def test_content_words_and_language(text: str, words: list[str], lang: str) -> None:
    assert content_words(text) == (words, lang)


def test_folding() -> None:
    assert fold("ＡÇÃO Privacidade Ñandú ﬁ") == "acao privacidade nandu fi"
    assert guess_language("", []) == "en"

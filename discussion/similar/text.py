"""From a question's text to the features it is matched on.

A question is read in whichever of English, Spanish or Portuguese it is written
(guessed cheaply from its function words and letters), folded (NFKC, case, accents),
stripped of stop words, and described by two bags of features:

* words: each content word's concept in the shared lexicon (``words.LEXICON``) when it
  has one, so "datos" meets "data", else its Snowball stem in the guessed language;
* grams: character n-grams of the folded content words, so a typo ("survelliance")
  or a shared root across languages ("privac-") still meets its word.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

import snowballstemmer

from .words import ALL_STOP_WORDS, MARKERS, STOP_WORDS, lexicon_lines

LANGUAGES = ("en", "es", "pt")
_STEMMERS = {"en": "english", "es": "spanish", "pt": "portuguese"}
_WORD = re.compile(r"[0-9a-z]+")
GRAM_SIZES = (3, 4)


def fold(text: str) -> str:
    """Compatibility-normalised, case-folded, without accents: "Ação" -> "acao"."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def guess_language(raw: str, tokens: list[str]) -> str:
    """The likeliest of en, es and pt, from marker words and letters; English when unsure."""
    lowered = raw.casefold()
    scores = {lang: sum(t in MARKERS[lang] for t in tokens) for lang in LANGUAGES}
    scores["es"] += 2 * sum(lowered.count(c) for c in "ñ¿¡") + lowered.count("ción")
    scores["pt"] += 2 * sum(lowered.count(c) for c in "ãõç") + lowered.count("ção")
    best = max(LANGUAGES, key=lambda lang: scores[lang])
    return best if scores[best] > 0 else "en"


class _Stemmers:
    """One Snowball stemmer per language, with a memo (a room repeats its words)."""

    def __init__(self) -> None:
        self._stemmers = {lang: snowballstemmer.stemmer(name) for lang, name in _STEMMERS.items()}

    @functools.lru_cache(maxsize=50_000)  # noqa: B019  (one shared instance, never freed)
    def stem(self, lang: str, word: str) -> str:
        return str(self._stemmers[lang].stemWord(word))


STEMMERS = _Stemmers()


def _build_lexicon() -> dict[tuple[str, str], tuple[str, ...]]:
    """(language, stem) and ("", folded word) -> the concepts they belong to."""
    table: dict[tuple[str, str], list[str]] = {}
    for number, line in enumerate(lexicon_lines()):
        concept = f"c{number}"
        for lang, part in zip(LANGUAGES, line.split("|"), strict=True):
            for word in part.split():
                for key in (("", word), (lang, STEMMERS.stem(lang, word))):
                    concepts = table.setdefault(key, [])
                    if concept not in concepts:
                        concepts.append(concept)
    return {key: tuple(value) for key, value in table.items()}


_LEXICON = _build_lexicon()


@dataclass(frozen=True, slots=True)
class Features:
    """What a text is matched on: weighted word and character n-gram features."""

    words: dict[str, float]
    grams: dict[str, float]


def word_features(token: str, lang: str) -> tuple[str, ...]:
    """A content word's features: its concepts, else its stem in the text's language."""
    concepts = _LEXICON.get(("", token)) or _LEXICON.get((lang, STEMMERS.stem(lang, token)))
    if concepts:
        return concepts
    return ("w" + STEMMERS.stem(lang, token),)


def content_words(text: str) -> tuple[list[str], str]:
    """The folded words of a text that carry meaning, and the language they are in."""
    tokens = _WORD.findall(fold(text))
    lang = guess_language(text, tokens)
    stop = STOP_WORDS[lang]
    # Stop words of the text's own language always go; those of the other languages only
    # when very short (a, e, o, de, no ...), since "dado" or "pode" may carry meaning.
    words = [
        t
        for t in tokens
        if t not in stop and not (len(t) <= 3 and t in ALL_STOP_WORDS) and len(t) > 1
    ]
    return words, lang


def features(text: str) -> Features:
    """The features of a text, each weighted 1 + log(count)."""
    import math

    words, lang = content_words(text)
    word_counts: Counter[str] = Counter()
    gram_counts: Counter[str] = Counter()
    for token in words:
        word_counts.update(word_features(token, lang))
        padded = f" {token} "
        for n in GRAM_SIZES:
            gram_counts.update(padded[i : i + n] for i in range(len(padded) - n + 1))
    return Features(
        words={f: 1.0 + math.log(c) for f, c in word_counts.items()},
        grams={f: 1.0 + math.log(c) for f, c in gram_counts.items()},
    )

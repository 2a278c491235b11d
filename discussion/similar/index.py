"""An in-memory index of one event's questions, scored by rarity-weighted cosine.

Two cosines are blended: one over word features (concepts and stems), one over
character n-grams. Each feature is weighted by its rarity among the event's
searchable questions (an IDF: a word every question uses, like "data" in a data
workshop, says little about which question is meant). Only searchable questions
(visible or answered) are in the postings; the index knows nothing of the database.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from .text import Features, features

# How much the word cosine counts against the n-gram cosine, and the scores above which
# a question is suggested to someone typing, and marked for staff as a likely duplicate.
WORD_WEIGHT = 0.7
SUGGEST_THRESHOLD = 0.36
DUPLICATE_THRESHOLD = 0.45
# Up to this many questions every one sharing a feature is scored; beyond, the best
# CANDIDATES by their rarer features are (see EventIndex.search).
EXHAUSTIVE_UP_TO = 300
CANDIDATES = 40


@dataclass(slots=True)
class _Space:
    """One bag of features over the searchable documents: postings, counts, norms."""

    postings: dict[str, dict[int, float]] = field(default_factory=dict)
    norms: dict[int, float] = field(default_factory=dict)

    def idf(self, feature: str, total: int) -> float:
        posting = self.postings.get(feature)
        df = len(posting) if posting else 0
        return math.log((total + 1) / (df + 1)) + 1.0

    def add(self, doc: int, weights: dict[str, float]) -> None:
        for f, w in weights.items():
            self.postings.setdefault(f, {})[doc] = w

    def remove(self, doc: int, weights: dict[str, float]) -> None:
        for f in weights:
            posting = self.postings.get(f)
            if posting is not None:
                posting.pop(doc, None)
                if not posting:
                    del self.postings[f]
        self.norms.pop(doc, None)

    def norm(self, weights: dict[str, float], total: int) -> float:
        return math.sqrt(sum((w * self.idf(f, total)) ** 2 for f, w in weights.items())) or 1.0

    def query(self, weights: dict[str, float], total: int) -> tuple[dict[str, float], float]:
        """The query's weight of each feature (times its rarity twice, ready to multiply
        by a document's count) and the query's norm."""
        out: dict[str, float] = {}
        norm = 0.0
        for f, w in weights.items():
            idf = self.idf(f, total)
            norm += (w * idf) ** 2
            out[f] = w * idf * idf
        return out, math.sqrt(norm) or 1.0

    def cosine(
        self, query: dict[str, float], qnorm: float, doc: int, weights: dict[str, float]
    ) -> float:
        """The cosine of a prepared query with one document, from the document's counts."""
        if len(weights) < len(query):
            dot = sum(query[f] * w for f, w in weights.items() if f in query)
        else:
            dot = sum(q * weights[f] for f, q in query.items() if f in weights)
        return dot / (qnorm * self.norms[doc])


class EventIndex:
    """The searchable questions of one event, with what is needed to keep it in step."""

    def __init__(self) -> None:
        self.known: dict[int, tuple[bool, str]] = {}  # id -> (searchable, body)
        self.docs: dict[int, Features] = {}
        self.words = _Space()
        self.grams = _Space()
        self._normed_at = 0  # number of documents when the norms were last computed

    def __len__(self) -> int:
        return len(self.docs)

    def put(self, question_id: int, body: str, searchable: bool, *, renorm: bool = True) -> None:
        """Add or update one question (its text or whether it may be suggested)."""
        if self.known.get(question_id) == (searchable, body):
            return
        self.drop(question_id, renorm=False)
        self.known[question_id] = (searchable, body)
        if searchable:
            feats = features(body)
            self.docs[question_id] = feats
            self.words.add(question_id, feats.words)
            self.grams.add(question_id, feats.grams)
            if renorm:
                self._renorm(question_id, feats)
        elif renorm:
            self._renorm(None, None)

    def drop(self, question_id: int, *, renorm: bool = True) -> None:
        """Forget one question (deleted)."""
        self.known.pop(question_id, None)
        feats = self.docs.pop(question_id, None)
        if feats is not None:
            self.words.remove(question_id, feats.words)
            self.grams.remove(question_id, feats.grams)
            if renorm:
                self._renorm(None, None)

    def sync(self, rows: Iterable[tuple[int, str, bool]]) -> None:
        """Bring the index in step with the event's questions as (id, body, searchable).

        A few changes are applied one by one; many (a first build, another process's
        burst) all at once, with the norms computed once at the end.
        """
        rows = list(rows)
        seen = {question_id for question_id, _body, _searchable in rows}
        changed = [r for r in rows if self.known.get(r[0]) != (r[2], r[1])]
        gone = [q for q in self.known if q not in seen]
        bulk = len(changed) + len(gone) > max(2, len(self.docs) // 20)
        for question_id in gone:
            self.drop(question_id, renorm=not bulk)
        for question_id, body, searchable in changed:
            self.put(question_id, body, searchable, renorm=not bulk)
        if bulk:
            self._renorm(None, None, force=True)

    def _renorm(self, doc: int | None, feats: Features | None, *, force: bool = False) -> None:
        """Keep document norms current as rarity changes.

        A new document's norm is computed at once; everyone's are recomputed when the
        number of documents has drifted by more than a twentieth since the last time,
        so each change costs little and rarity is never far from the truth.
        """
        total = len(self.docs)
        if force or abs(total - self._normed_at) > max(2, total // 20):
            self._normed_at = total
            for other, f in self.docs.items():
                self.words.norms[other] = self.words.norm(f.words, total)
                self.grams.norms[other] = self.grams.norm(f.grams, total)
        elif doc is not None and feats is not None:
            self.words.norms[doc] = self.words.norm(feats.words, total)
            self.grams.norms[doc] = self.grams.norm(feats.grams, total)

    def score(self, query: Features, doc: int) -> float:
        """The blended score of a text with one searchable question (0 if not searchable)."""
        feats = self.docs.get(doc)
        if feats is None:
            return 0.0
        total = len(self.docs)
        words, wnorm = self.words.query(query.words, total)
        grams, gnorm = self.grams.query(query.grams, total)
        return WORD_WEIGHT * self.words.cosine(words, wnorm, doc, feats.words) + (
            1 - WORD_WEIGHT
        ) * self.grams.cosine(grams, gnorm, doc, feats.grams)

    def search(
        self,
        query: Features,
        *,
        threshold: float = SUGGEST_THRESHOLD,
        limit: int = 3,
        before: int | None = None,
        exclude: int | None = None,
    ) -> list[tuple[int, float]]:
        """The best matching searchable questions as (id, score), best first.

        ``before`` keeps only questions with a smaller id (asked earlier); ``exclude``
        leaves one out (the question itself).

        In a small event every question sharing a feature is scored. In a large one,
        candidates come from the features that at most a twentieth of the questions
        share (a feature most questions have cannot tell them apart), ranked by what
        those features give, and only the best candidates get their exact score.
        """
        total = len(self.docs)
        if not total:
            return []
        words, wnorm = self.words.query(query.words, total)
        grams, gnorm = self.grams.query(query.grams, total)
        common = total if total <= EXHAUSTIVE_UP_TO else max(20, total // 20)
        partial: dict[int, float] = {}
        for space, prepared, norm, share in (
            (self.words, words, wnorm, WORD_WEIGHT),
            (self.grams, grams, gnorm, 1 - WORD_WEIGHT),
        ):
            norms = space.norms
            for f, q in prepared.items():
                posting = space.postings.get(f)
                if not posting or len(posting) > common:
                    continue
                weight = share * q / norm
                for doc, dw in posting.items():
                    partial[doc] = partial.get(doc, 0.0) + weight * dw / norms[doc]
        if before is not None or exclude is not None:
            partial = {
                d: v for d, v in partial.items() if d != exclude and (before is None or d < before)
            }
        if total > EXHAUSTIVE_UP_TO:
            candidates = heapq.nlargest(CANDIDATES, partial, key=partial.__getitem__)
            partial = {}
            for doc in candidates:
                feats = self.docs[doc]
                partial[doc] = WORD_WEIGHT * self.words.cosine(words, wnorm, doc, feats.words) + (
                    1 - WORD_WEIGHT
                ) * self.grams.cosine(grams, gnorm, doc, feats.grams)
        found = [(doc, score) for doc, score in partial.items() if score >= threshold]
        found.sort(key=lambda item: (-item[1], item[0]))
        return found[:limit]

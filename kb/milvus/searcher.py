"""Search a published generation in Milvus with the same answers as ``kb.search.Searcher``.

Each half of the hybrid search runs on the server with the same filter (validity on a day,
statuses, documents, places) written as a Milvus ``filter`` expression, and takes its
``candidates`` best passages; the fusion is computed here exactly as ``kb.search`` computes
it: ``bm25_weight`` x (BM25 x prior / the question's top BM25 x prior) + ``dense_weight`` x
cosine x prior over the union of both lists, each candidate scored by both retrievers, or
reciprocal rank fusion. Raw server scores are never added unnormalised. Hits are built from
the fields Milvus returns alone; no local store is read.

Server differences guarded against here:

- BM25 distances: a Milvus server returns BM25 scores as positive distances (larger is
  better), Milvus Lite 3.x returns them negated. Both are read as their magnitude
  (``bm25_score``): a BM25 score is never negative, so the magnitude is the score on both.
- Cosines are computed here from the returned vectors, as SQLite computes them
  (``vectors @ query``), so the dense half's scores do not depend on the server's arithmetic.
- A reader that resolved the alias just before a publication dropped the collection it named
  retries once through the alias, which then names the new collection.

Not done on Milvus yet (``kb.search`` does them over its local index): query expansion and
term weighting (the server scores the question's own terms, each counted once per
occurrence), the abstain checks (``abstain`` is accepted and ignored), familiarity-dependent
fusion weights (the model's fixed weights are used) and re-ranking. The prior (place and
answered documents) multiplies each half's scores after the server has cut its list, where
SQLite cuts the weighted list: with the default settings (no place, no confirmed answers)
the two are the same.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kb.cite import match_spans, snippet
from kb.errors import InvalidQuestion
from kb.fusion import reciprocal_rank_fusion
from kb.jurisdiction import NATIONAL, is_local_to, places_named
from kb.milvus.schema import HIT_FIELDS, PUBLICATION_PROPERTY, SPARSE_FIELD, VECTOR_FIELD, terms_text
from kb.normalize import normalize_for_matching, without_whitespace
from kb.search import (
    DEFAULT_TOP_K,
    FUSIONS,
    MAX_TOP_K,
    MODES,
    SUPERVISED_WEIGHTS,
    UNSUPERVISED_WEIGHTS,
    Hit,
    SearchFilters,
    SearchResult,
    SearchSettings,
    clean_question,
)
from kb.types import IN_FORCE

if TYPE_CHECKING:
    from kb.embedding import EmbeddingModel
    from kb.knowledge_base import KnowledgeBase
    from kb.tokenize import PolicyTokenizer

log = logging.getLogger(__name__)


def bm25_score(distance: float) -> float:
    """The BM25 score of a Milvus BM25 distance: positive from a server, negated by Milvus
    Lite 3.x; a BM25 score is never negative, so its magnitude is the score on both."""
    return abs(float(distance))


def _literal(values: Sequence[str]) -> str:
    """A Milvus list literal of strings (JSON's escaping is the expression language's)."""
    return json.dumps(list(values), ensure_ascii=False)


def filter_expression(filters: SearchFilters, day: int, excluded_places: Sequence[str] = ()) -> str:
    """``filters`` as a Milvus boolean expression over the passage fields (``kb.search``'s mask)."""
    allowed = []
    if IN_FORCE in filters.statuses:
        allowed.append(f"(effective <= {day} and expires >= {day} and superseded_from > {day})")
    others = [status for status in filters.statuses if status != IN_FORCE]
    if others:
        allowed.append(f"status in {_literal(others)}")
    expression = "(" + " or ".join(allowed) + ")"
    if filters.doc_ids:
        expression += f" and doc_id in {_literal(filters.doc_ids)}"
    if excluded_places:
        expression += f" and jurisdiction not in {_literal(excluded_places)}"
    return expression


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def _ordered(ranked: list[tuple[str, float]]) -> list[tuple[str, float]]:
    return sorted(ranked, key=lambda item: (-item[1], item[0]))


class MilvusSearcher:
    """Answers questions from the collection a knowledge base's alias names."""

    def __init__(self, client: Any, alias: str, tokenizer: PolicyTokenizer, model: EmbeddingModel | None,
                 settings: SearchSettings | None = None) -> None:
        self.client = client
        self.alias = alias
        self.tokenizer = tokenizer
        self.model = model
        self.settings = settings or SearchSettings()
        description = self.describe()
        self.generation = str(description.get("generation") or "")
        if model is not None and description.get("model_id") not in (None, model.model_id):
            log.warning("the collection was published with model %s, not %s: answering with BM25 only",
                        description.get("model_id"), model.model_id)
            self.model = None
        self._places = [p for p in description.get("places", []) if p != NATIONAL]
        auto = SUPERVISED_WEIGHTS if description.get("supervised") else UNSUPERVISED_WEIGHTS
        self._weights = (auto[0] if self.settings.bm25_weight is None else self.settings.bm25_weight,
                         auto[1] if self.settings.dense_weight is None else self.settings.dense_weight)

    def describe(self) -> dict[str, Any]:
        """What the publication recorded in the collection (generation, model, places, BM25)."""
        properties = self.client.describe_collection(self.alias).get("properties") or {}
        return json.loads(properties.get(PUBLICATION_PROPERTY) or "{}")

    def _prior(self, entity: dict[str, Any], named: set[str]) -> float:
        """``kb.search``'s prior of one passage: place, other regions, answered documents."""
        jurisdiction = entity["jurisdiction"] or None
        if jurisdiction in named:
            return 1.0
        place = self.settings.place
        weight = self.settings.place_weight if jurisdiction in place else \
            1.0 if is_local_to(jurisdiction, place) else self.settings.foreign_weight
        return weight * (1.0 + self.settings.answered_weight * math.log1p(int(entity["answers"])))

    def _excluded_places(self, named: set[str]) -> list[str]:
        """Regions a zero ``foreign_weight`` removes (kb.search drops passages weighted 0)."""
        if self.settings.foreign_weight > 0:
            return []
        return [p for p in self._places if p not in named and not is_local_to(p, self.settings.place)]

    def _search(self, data: list[Any], field: str, metric: str, limit: int, expression: str) -> list[Any]:
        from pymilvus import MilvusException

        for attempt in (1, 2):
            try:
                return list(self.client.search(self.alias, data=data, anns_field=field, limit=limit,
                                               filter=expression, output_fields=HIT_FIELDS,
                                               search_params={"metric_type": metric})[0])
            except MilvusException as error:
                if attempt == 2:
                    raise
                log.info("search through %s failed (%s); retrying once, as after an alias switch", self.alias, error)
        raise AssertionError("unreachable")

    def search(self, question: str, *, top_k: int = DEFAULT_TOP_K, filters: SearchFilters | None = None,
               mode: str = "hybrid", candidates: int | None = None, rrf_k: int | None = None,
               fusion: str | None = None, max_top_k: int = MAX_TOP_K, abstain: bool = True) -> SearchResult:
        """Rank passages for ``question``; the signature and result of ``kb.search.Searcher.search``."""
        if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= max_top_k:
            raise InvalidQuestion(f"top_k must be an integer from 1 to {max_top_k}", "top_k_invalid")
        if mode not in MODES:
            raise InvalidQuestion(f"mode must be one of {', '.join(MODES)}", "mode_invalid")
        fusion = fusion or self.settings.fusion
        if fusion not in FUSIONS:
            raise InvalidQuestion(f"fusion must be one of {', '.join(FUSIONS)}", "fusion_invalid")
        text = clean_question(question)
        filters = filters or SearchFilters()
        terms = self.tokenizer.tokenize_query(text)
        if not terms:
            return SearchResult(text, [], [], mode, self.generation, reason="no_searchable_terms")
        if mode != "bm25" and self.model is None:
            mode = "bm25"
        day = int((filters.as_of or date.today().isoformat()).replace("-", ""))
        named = places_named(normalize_for_matching(text), self._places)
        expression = filter_expression(filters, day, self._excluded_places(named))
        count = max(candidates or self.settings.candidates, top_k)
        entities: dict[str, dict[str, Any]] = {}
        bm25: dict[str, float] | None = None
        bm25_top: list[tuple[str, float]] = []
        dense_top: list[tuple[str, float]] = []
        cosines: dict[str, float] = {}
        query_text = terms_text(terms)
        if mode in ("hybrid", "bm25"):
            bm25 = {}
            for hit in self._search([query_text], SPARSE_FIELD, "BM25", count, expression):
                entity = hit["entity"]
                entities[entity["segment_id"]] = entity
                bm25[entity["segment_id"]] = bm25_score(hit["distance"])
            bm25_top = [(sid, score * self._prior(entities[sid], named)) for sid, score in bm25.items()]
            bm25_top = [(sid, score) for sid, score in bm25_top if score > 0]
        query = None
        if mode in ("hybrid", "dense"):
            assert self.model is not None
            query = self.model.encode([self.model.prepare_query(text, terms)])[0]
            if np.any(query):
                for hit in self._search([query.tolist()], VECTOR_FIELD, "IP", count, expression):
                    entity = hit["entity"]
                    entities[entity["segment_id"]] = entity
                    weighted = self._cosine(entity, query) * self._prior(entity, named)
                    if weighted > 0:
                        dense_top.append((entity["segment_id"], weighted))
            else:
                query = None
        if query is not None:
            cosines = {sid: self._cosine(entity, query) for sid, entity in entities.items()}
        if mode == "hybrid" and fusion == "rrf":
            fused = reciprocal_rank_fusion([_ordered(bm25_top), _ordered(dense_top)],
                                           rrf_k=self.settings.rrf_k if rrf_k is None else rrf_k)
        elif mode == "hybrid":
            assert bm25 is not None
            fused = self._weighted(bm25_top, dense_top, bm25, query_text, cosines, entities, named)
        else:
            fused = _ordered(bm25_top or dense_top)
        hits = self._hits(fused[:top_k], terms, entities, bm25, cosines if query is not None else None)
        # the generation that answered: a publication may have switched the alias since this searcher began
        generation = entities[hits[0].segment_id]["generation"] if hits else self.generation
        return SearchResult(text, hits, terms, mode, generation, reason=None if hits else "no_match")

    @staticmethod
    def _cosine(entity: dict[str, Any], query: np.ndarray) -> float:
        return float(np.asarray(entity[VECTOR_FIELD], dtype=np.float32) @ query)

    def _weighted(self, bm25_top: list[tuple[str, float]], dense_top: list[tuple[str, float]],
                  bm25: dict[str, float], query_text: str, cosines: dict[str, float],
                  entities: dict[str, dict[str, Any]], named: set[str]) -> list[tuple[str, float]]:
        """``kb.search``'s linear fusion: every candidate scored by both retrievers."""
        union = sorted({sid for sid, _ in bm25_top} | {sid for sid, _ in dense_top})
        missing = [sid for sid in union if sid not in bm25]
        if missing and bm25_top:  # the dense-only candidates' BM25 scores, from the same collection
            for hit in self._search([query_text], SPARSE_FIELD, "BM25", len(missing),
                                    f"segment_id in {_literal(missing)}"):
                bm25[hit["entity"]["segment_id"]] = bm25_score(hit["distance"])
        top = max((score for _, score in bm25_top), default=0.0)
        fused = []
        for sid in union:
            prior = self._prior(entities[sid], named)
            score = self._weights[0] * bm25.get(sid, 0.0) * prior / top if top > 0 else 0.0
            if sid in cosines:
                score += self._weights[1] * max(cosines[sid], 0.0) * prior
            fused.append((sid, score))
        return _ordered(fused)

    def _hits(self, top: list[tuple[str, float]], terms: list[str], entities: dict[str, dict[str, Any]],
              bm25: dict[str, float] | None, cosines: dict[str, float] | None) -> list[Hit]:
        hits: list[Hit] = []
        first_rank_of_text: dict[str, int] = {}
        for segment_id, score in top:
            entity = entities[segment_id]
            text = entity["text"]
            spans = match_spans(text, terms)
            rank = len(hits) + 1
            first_rank = first_rank_of_text.setdefault(without_whitespace(normalize_for_matching(text)), rank)
            start = int(entity["start"])
            hits.append(Hit(
                rank=rank, score=round(float(score), 6), segment_id=segment_id, doc_id=entity["doc_id"],
                title=entity["title"], doc_number=entity["doc_number"] or None, issuer=entity["issuer"] or None,
                date=entity["date"] or None, status=entity["status"], superseded_by=entity["superseded_by"] or None,
                kind=entity["kind"], section_path=json.loads(entity["section_path"]), locator=entity["locator"],
                departments=json.loads(entity["departments"]), text=text, snippet=snippet(text, spans),
                start=start, end=int(entity["end"]), highlights=[(start + s, start + e) for s, e in spans],
                scores={"bm25": None if bm25 is None else _round(bm25.get(segment_id, 0.0)),
                        "dense": None if cosines is None else _round(cosines.get(segment_id))},
                same_text_as=first_rank if first_rank < rank else None,
            ))
        return hits


def open_searcher(knowledge_base: KnowledgeBase, record: dict[str, Any], *, client: Any | None = None) -> MilvusSearcher:
    """The searcher a knowledge base's recorded Milvus backend answers with (its model read from
    ``kb_dir``, as the SQLite index reads it)."""
    from kb.embedding import load_model
    from kb.errors import EmbeddingModelError
    from kb.milvus.publish import connect

    client = client or connect(record["uri"], token=record.get("token"))
    probe = MilvusSearcher(client, record["alias"], knowledge_base.tokenizer, None, knowledge_base.search_settings)
    description = probe.describe()
    model = None
    if description.get("model"):
        reference = description["model"]
        path = knowledge_base.kb_dir / reference
        try:
            model = load_model(str(path) if path.exists() else str(Path(reference)))
        except EmbeddingModelError as error:
            log.error("%s; answering from Milvus with BM25 only", error)
    return MilvusSearcher(client, record["alias"], knowledge_base.tokenizer, model, knowledge_base.search_settings)

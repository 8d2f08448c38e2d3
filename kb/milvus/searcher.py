"""Search a published generation in Milvus with the same answers as ``kb.search.Searcher``.

The server finds the candidates; policykb scores them. Each half of the hybrid search runs
on the server with the same filter as SQLite's mask (validity on a day, statuses,
documents, places) written as a Milvus ``filter`` expression: BM25 over the question's
terms and its expansion terms, and inner product over the passage vectors, each taking
``BM25_DEPTH`` or ``DENSE_DEPTH`` x ``candidates`` passages. Each candidate comes back with its terms and
its vector, and is then scored here exactly as ``kb.search`` scores it: BM25 with the
generation's own statistics, the question's term weights and expansion weights
(``kb.bm25.PassageScorer``), the cosine of its vector, the prior (place, answered
documents); the ``candidates`` best of each half are fused by the same weighted or
reciprocal-rank fusion, with the same familiarity-dependent weights and optional
re-ranking. Raw server scores never enter a ranking, so a server's BM25 variant (Lucene's
IDF, IDF per segment, the sign of its distances) can change which passages are candidates
but never how they are ordered.

What answers a question: the Milvus collection (candidates, every citation field, vectors)
and the generation's query-side state in ``kb_dir`` (the embedding model, vocabulary and
document frequencies, the off-topic classifier, the confirmed questions' vectors). The
SQLite store's passages are not read.

Server differences guarded against here:

- BM25 distances: a Milvus server returns BM25 scores as positive distances (larger is
  better), Milvus Lite 3.x returns them negated. Both are read as their magnitude
  (``bm25_score``); they only order the server's candidates.
- A reader that resolved the alias just before a publication dropped the collection it named
  retries once through the alias, which then names the new collection. Milvus Lite 2.5 has
  no aliases: the searcher resolves the alias' pointer collection itself
  (``kb.milvus.aliases``), once, and again when a search fails.
- What the publication recorded is read from the collection's properties, or where a server
  dropped them (Milvus Lite 2.5) from its description.

A result names the generation whose query side answered (the one ``kb_dir`` serves, which
its build published); the collection may already hold a later one's passages on a replica
that has not followed ``CURRENT`` yet.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np

from kb.bm25 import PassageScorer
from kb.errors import BackendUnavailable, IndexMismatch
from kb.fusion import reciprocal_rank_fusion
from kb.jurisdiction import is_local_to, places_named
from kb.milvus.aliases import get_rows, has_aliases, pointed
from kb.milvus.schema import (
    DEPARTMENT_LIST_FIELD,
    HIT_FIELDS,
    PUBLICATION_PROPERTY,
    SPARSE_FIELD,
    TERMS_FIELD,
    VECTOR_FIELD,
    term_for_analyzer,
)
from kb.normalize import normalize_for_matching
from kb.ranker import Candidates, gather
from kb.rerank import Reranker, passage_head
from kb.search import (
    DEFAULT_TOP_K,
    MAX_TOP_K,
    SearchFilters,
    SearchResult,
    Searcher,
    cited_hits,
    reorder_head,
)
from kb.term_weights import term_weights
from kb.types import IN_FORCE

if TYPE_CHECKING:
    from kb.knowledge_base import KnowledgeBase

log = logging.getLogger(__name__)

#: Each half asks the server for this many times ``candidates``; policykb re-scores them and
#: keeps ``candidates``. The server orders BM25 candidates by its own BM25 (no term weights,
#: expansion terms counted in full, Lucene's IDF), so that half reaches deeper: over the full
#: corpus, 4 x 100 gave the hotline-over-laws test split R@100 .720 where 2 x 100 gave .702
#: (SQLite: .726); the top ten were the same. Vector candidates are ordered by the cosine
#: itself, times the prior here.
BM25_DEPTH = 4
DENSE_DEPTH = 2
#: Milvus' largest ``limit``.
SERVER_MAX_LIMIT = 16384
#: What a search returns of each candidate: what policykb scores it with (its terms, its place
#: and its document's confirmed answers), never its text or vector, which only the passages
#: kept need (``CITATION_FIELDS``; vectors for BM25's candidates): on Milvus Lite 2.5 the full
#: rows of 400 candidates took 50 ms to return where these took 10 ms.
CANDIDATE_FIELDS = ["segment_id", TERMS_FIELD, "jurisdiction", "answers"]
CITATION_FIELDS = [field for field in HIT_FIELDS if field != VECTOR_FIELD]
#: The pause before a search retries through the alias (an alias switch takes milliseconds).
RETRY_PAUSE_SECONDS = 0.05


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
    if filters.places:
        expression += f" and jurisdiction in {_literal(filters.places)}"
    if filters.departments:
        expression += f" and array_contains_any({DEPARTMENT_LIST_FIELD}, {_literal(filters.departments)})"
    if excluded_places:
        expression += f" and jurisdiction not in {_literal(excluded_places)}"
    return expression


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def _ordered(ranked: list[tuple[str, float]]) -> list[tuple[str, float]]:
    return sorted(ranked, key=lambda item: (-item[1], item[0]))


def _passage(entity: dict[str, Any]) -> dict[str, Any]:
    """A returned row's citation fields as ``kb.search.cited_hits`` reads them."""
    return {**entity, "doc_number": entity["doc_number"] or None, "issuer": entity["issuer"] or None,
            "date": entity["date"] or None, "superseded_by": entity["superseded_by"] or None,
            "section_path": json.loads(entity["section_path"]), "departments": json.loads(entity["departments"])}


class MilvusSearcher:
    """Answers questions from the collection a knowledge base's alias names.

    ``local`` is the SQLite searcher of the same generation: its query side (tokenizer,
    model, statistics, abstention, expansion, familiarity, re-ranker) is reused, its
    passages are not.
    """

    def __init__(self, client: Any, alias: str, local: Searcher) -> None:
        self.client = client
        self.alias = alias
        self.local = local
        self.index = local.index
        self.store = local.store
        self.tokenizer = local.tokenizer
        self.settings = local.settings
        self.model = local.index.model
        self.degraded = local.index.degraded
        try:
            self._scorer = PassageScorer(local.index.bm25)
        except ValueError as error:  # a generation built before format 4
            raise IndexMismatch(f"{error} (`policykb build`), then `policykb publish --full`") from error
        self._aliases = has_aliases(client)
        self._resolved: str | None = None
        description = self.describe()
        if self.model is not None and description.get("model_id") not in (None, self.model.model_id):
            log.warning("the collection was published with model %s, not %s: answering with BM25 only "
                        "until `policykb publish` brings it up to date", description.get("model_id"),
                        self.model.model_id)
            self.model = None
            self.degraded = self.degraded or "published_with_another_model"

    @property
    def collection(self) -> str:
        """The name searches address: the alias, or on a server without aliases (Milvus Lite
        2.5) the collection its pointer names, resolved once and again after a failed search."""
        if self._aliases:
            return self.alias
        if self._resolved is None:
            self._resolved = pointed(self.client, self.alias) or self.alias
        return self._resolved

    def describe(self) -> dict[str, Any]:
        """What the publication recorded in the collection (generation, model, places, BM25):
        its property, or where a server dropped properties (Milvus Lite 2.5) its description."""
        from pymilvus import MilvusException

        try:
            info = self.client.describe_collection(self.collection)
        except MilvusException as error:
            raise BackendUnavailable(f"Milvus cannot describe {self.alias}: {error}") from error
        recorded = (info.get("properties") or {}).get(PUBLICATION_PROPERTY) or info.get("description") or "{}"
        try:
            return json.loads(recorded)
        except ValueError:  # a description that is not a publication's record
            return {}

    def server_version(self) -> str:
        """What the server calls its version ("" where it has no ``GetVersion``)."""
        from kb.milvus.publish import server_version

        return server_version(self.client)

    def prepare(self) -> None:
        """Fit the query side now, as ``Searcher.prepare``."""
        self.local.prepare()

    def _place_prior(self, entity: dict[str, Any], named: set[str]) -> float:
        """``kb.search``'s place prior of one passage: the place served, national, other regions."""
        jurisdiction = entity["jurisdiction"] or None
        place = self.settings.place
        weight = self.settings.place_weight if jurisdiction in place else \
            1.0 if is_local_to(jurisdiction, place) else self.settings.foreign_weight
        return max(weight, self.settings.place_weight) if jurisdiction in named else weight

    def _prior(self, entity: dict[str, Any], named: set[str]) -> float:
        """``kb.search``'s prior of one passage: place, other regions, answered documents."""
        return self._place_prior(entity, named) * (1.0 + self.settings.answered_weight * math.log1p(int(entity["answers"])))

    def _excluded_places(self, named: set[str]) -> list[str]:
        """Regions a zero ``foreign_weight`` removes (kb.search drops passages weighted 0)."""
        if self.settings.foreign_weight > 0:
            return []
        return [p for p in self.local._places if p not in named and not is_local_to(p, self.settings.place)]

    def _through_alias(self, call: Callable[[str], Any], what: str) -> Any:
        """``call(collection)``, retried once through the alias when it fails: the collection a
        reader resolved may have been dropped by a publication that moved the alias on."""
        from pymilvus import MilvusException

        for attempt in (1, 2):
            try:
                return call(self.collection)
            except MilvusException as error:
                if attempt == 2:
                    raise BackendUnavailable(f"Milvus did not answer {what} through {self.alias}: {error}") from error
                log.info("%s through %s failed (%s); retrying once, as after an alias switch", what, self.alias, error)
                self._resolved = None
                time.sleep(RETRY_PAUSE_SECONDS)
        raise AssertionError("unreachable")

    def _search(self, data: list[Any], field: str, metric: str, limit: int, expression: str) -> list[Any]:
        return self._through_alias(lambda collection: list(self.client.search(
            collection, data=data, anns_field=field, limit=min(limit, SERVER_MAX_LIMIT), filter=expression,
            output_fields=CANDIDATE_FIELDS, search_params={"metric_type": metric})[0]), "a search")

    def _rows(self, segment_ids: list[str], fields: list[str]) -> dict[str, dict[str, Any]]:
        """``fields`` of these passages, by primary key (those deleted since are absent)."""
        if not segment_ids:
            return {}
        rows = self._through_alias(lambda collection: get_rows(self.client, collection, segment_ids, fields),
                                   "a passage lookup")
        return {row["segment_id"]: row for row in rows}

    def search(self, question: str, *, top_k: int = DEFAULT_TOP_K, filters: SearchFilters | None = None,
               mode: str = "hybrid", candidates: int | None = None, rrf_k: int | None = None,
               fusion: str | None = None, max_top_k: int = MAX_TOP_K, abstain: bool = True) -> SearchResult:
        """Rank passages for ``question``; the signature and result of ``kb.search.Searcher.search``."""
        settings, local = self.settings, self.local
        admitted = local.admit(question, top_k=top_k, mode=mode, fusion=fusion, max_top_k=max_top_k,
                               abstain=abstain, has_model=self.model is not None, degraded=self.degraded)
        if isinstance(admitted, SearchResult):
            return admitted
        text, terms, mode, fusion = admitted
        filters = filters or SearchFilters()
        generation = self.index.generation  # whose query side answers; builds publish it to Milvus
        degraded = self.degraded
        day = int((filters.as_of or date.today().isoformat()).replace("-", ""))
        named = places_named(normalize_for_matching(text), local._places)
        expression = filter_expression(filters, day, self._excluded_places(named))
        count = max(candidates or settings.candidates, top_k)
        entities: dict[str, dict[str, Any]] = {}  # each candidate's CANDIDATE_FIELDS
        cosines: dict[str, float] = {}
        bm25: dict[str, float] | None = None  # each candidate's BM25, scored once
        query_weights: dict[str, float] = {}
        extra: dict[str, float] | None = None
        bm25_top: list[tuple[str, float]] = []
        dense_top: list[tuple[str, float]] = []
        query = None
        if mode in ("hybrid", "bm25"):
            extra = local.expansion.expand(text, terms) if settings.expansion else None
            weights = term_weights(terms, local._specificity) if settings.term_weighting else None
            # keyed as the terms field holds them (kb.milvus.schema escapes every term)
            query_weights = {term_for_analyzer(term): weight
                             for term, weight in self._scorer.query(terms, extra, weights).items()}
            if query_weights:
                for hit in self._search([" ".join(sorted(query_weights))], SPARSE_FIELD, "BM25",
                                        BM25_DEPTH * count, expression):
                    entities[hit["entity"]["segment_id"]] = hit["entity"]
            bm25 = {sid: self._bm25(entity, query_weights) for sid, entity in entities.items()}
            bm25_top = self._best(bm25, entities, named, count)
        if mode in ("hybrid", "dense"):
            assert self.model is not None
            query = self.model.encode([self.model.prepare_query(text, terms)])[0]
            if np.any(query):
                for hit in self._search([query.tolist()], VECTOR_FIELD, "IP", DENSE_DEPTH * count, expression):
                    segment_id = hit["entity"]["segment_id"]
                    entities.setdefault(segment_id, hit["entity"])
                    cosines[segment_id] = float(hit["distance"])  # inner product of unit vectors
                dense_top = self._best(cosines, entities, named, count)
            else:
                query = None
        if bm25 is not None:  # fusion scores the vectors' candidates by their BM25 too
            bm25.update({sid: self._bm25(entities[sid], query_weights) for sid, _ in dense_top if sid not in bm25})
        if query is not None and mode == "hybrid":  # fusion scores BM25's candidates by their cosine too
            missing = [sid for sid, _ in bm25_top if sid not in cosines]
            cosines.update({sid: self._cosine(row, query)
                            for sid, row in self._rows(missing, ["segment_id", VECTOR_FIELD]).items()})
        if mode == "hybrid" and fusion == "rrf":
            fused = reciprocal_rank_fusion([bm25_top, dense_top], rrf_k=settings.rrf_k if rrf_k is None else rrf_k)
        elif mode == "hybrid":
            fused = self._weighted(bm25_top, dense_top, bm25 or {}, cosines if query is not None else None,
                                   entities, named, local._weights_for(query))
        else:
            fused = bm25_top or dense_top
        reranking = mode == "hybrid" and fusion == "weighted" and settings.rerank  # as the SQLite searcher
        if reranking and local.reranker is not None:
            reranker = local.reranker

            def heads(ids: Sequence[str]) -> dict[str, str]:
                return {sid: passage_head(row["title"], row["text"])
                        for sid, row in self._rows(list(ids), ["segment_id", "title", "text"]).items()}

            def candidates_of(head: list[tuple[str, float]]) -> Candidates:
                # BM25 times the prior, over the question's best, as the SQLite searcher reads it
                best = max((score for _, score in bm25_top), default=0.0) or 1.0
                relative = {sid: (bm25 or {}).get(sid, 0.0) * self._prior(entities[sid], named) / best
                            for sid, _ in head}
                places = {sid: self._place_prior(entities[sid], named) for sid, _ in head}
                return self._candidates(text, terms, list(extra or ()), local._weights_for(query)[0], head, relative,
                                        bm25_top, cosines if query is not None else {}, dense_top, places,
                                        reranker, heads)

            head = fused[: settings.rerank]
            head += self._scanned(text, head, filters, named, bm25, query_weights, bm25_top,
                                  cosines if query is not None else None, query, entities,
                                  local._weights_for(query))
            fused = reorder_head(head, local.learned_ranker, reranker, text, fused, heads, candidates_of)
            degraded = degraded or local.learned_ranker_missing()
        elif reranking and degraded is None:
            degraded = "pretrained_encoder_unavailable"

        def scores(segment_id: str) -> dict[str, float | None]:
            return {"bm25": None if bm25 is None else _round(bm25[segment_id]),
                    "dense": None if query is None else _round(cosines.get(segment_id))}

        shown = self._rows([sid for sid, _ in fused[:top_k]], CITATION_FIELDS)  # a passage deleted since: left out
        hits = cited_hits(fused[:top_k], terms, {sid: _passage(row) for sid, row in shown.items()}, scores)
        return SearchResult(text, hits, terms, mode, generation, reason=None if hits else "no_match",
                            degraded=degraded)

    def _candidates(self, text: str, terms: list[str], expansion: list[str], bm25_weight: float,
                    head: list[tuple[str, float]],
                    bm25_relative: dict[str, float], bm25_top: list[tuple[str, float]], cosines: dict[str, float],
                    dense_top: list[tuple[str, float]], places: dict[str, float], reranker: Reranker,
                    heads: Callable[[Sequence[str]], dict[str, str]]) -> Candidates:
        """What the learned ranker reads of ``head``, as the SQLite searcher gives it: the passages
        from the collection, their position in their document from the store (0 where it lacks them)."""
        rows = self._rows([sid for sid, _ in head], ["segment_id", "doc_id", "title", "text"])
        head = [(sid, score) for sid, score in head if sid in rows]  # deleted since: left out, as from the hits
        ids = [sid for sid, _ in head]
        ordinals = self.local.store.ranking_passages(ids)
        passages = {sid: (row["doc_id"], row["text"], ordinals[sid][2] if sid in ordinals else 0, row["title"])
                    for sid, row in rows.items()}
        return gather(text, terms, expansion, head, bm25_weight=bm25_weight, bm25=bm25_relative, bm25_order=[sid for sid, _ in bm25_top],
                      dense=cosines, dense_order=[sid for sid, _ in dense_top],
                      cosines=reranker.cosine_pair(text, ids, heads) if ids else (np.zeros(0),) * 2, passages=passages,
                      places=places, answers=self.local.passage_answers)

    def _scanned(self, text: str, head: list[tuple[str, float]], filters: SearchFilters, named: set[str],
                 bm25: dict[str, float] | None, query_weights: dict[str, float], bm25_top: list[tuple[str, float]],
                 cosines: dict[str, float] | None, query: np.ndarray | None, entities: dict[str, dict[str, Any]],
                 weights: tuple[float, float]) -> list[tuple[str, float]]:
        """The passages the local head scan adds to the ranker's candidates (``kb.head_scan``),
        and the neighbours of the first, as the SQLite searcher adds them, fetched and scored as
        this searcher's fusion scores its own; ``entities``, ``bm25`` and ``cosines`` learn them."""
        if not head or self.local.learned_ranker is None:  # the cosine mix reads the fused list alone
            return []
        local = self.local
        allowed_weight = local._weight_for(filters, text)[1]
        ids = [local.index.segment_ids[i] for i in local.joining(text, [sid for sid, _ in head], allowed_weight)]
        rows = self._rows(ids, [*CANDIDATE_FIELDS, VECTOR_FIELD])
        ids = [sid for sid in ids if sid in rows]  # deleted since the build: left out, as from the hits
        top = max((score for _, score in bm25_top), default=0.0)
        for sid in ids:
            entities[sid] = rows[sid]
            if bm25 is not None:
                bm25[sid] = self._bm25(rows[sid], query_weights)
            if cosines is not None and query is not None:
                cosines[sid] = self._cosine(rows[sid], query)
        return [(sid, self._fused_score(sid, bm25 or {}, cosines, entities, named, top, weights)) for sid in ids]

    def _best(self, scores: dict[str, float], entities: dict[str, dict[str, Any]], named: set[str],
              count: int) -> list[tuple[str, float]]:
        """The ``count`` best candidates by score x prior, best first (``kb.search``'s cut);
        candidates scoring zero are dropped."""
        ranked = [(sid, score * self._prior(entities[sid], named)) for sid, score in scores.items()]
        return _ordered([(sid, value) for sid, value in ranked if value > 0])[:count]

    def _bm25(self, entity: dict[str, Any], query: dict[str, float]) -> float:
        return self._scorer.score(entity[TERMS_FIELD].split(), query) if query else 0.0

    @staticmethod
    def _cosine(entity: dict[str, Any], query: np.ndarray) -> float:
        return float(np.asarray(entity[VECTOR_FIELD], dtype=np.float32) @ query)

    def _weighted(self, bm25_top: list[tuple[str, float]], dense_top: list[tuple[str, float]],
                  bm25: dict[str, float], cosines: dict[str, float] | None, entities: dict[str, dict[str, Any]],
                  named: set[str], weights: tuple[float, float]) -> list[tuple[str, float]]:
        """``kb.search``'s linear fusion: every candidate of the union scored by both retrievers."""
        union = sorted({sid for sid, _ in bm25_top} | {sid for sid, _ in dense_top})
        top = max((score for _, score in bm25_top), default=0.0)
        return _ordered([(sid, self._fused_score(sid, bm25, cosines, entities, named, top, weights)) for sid in union])

    def _fused_score(self, sid: str, bm25: dict[str, float], cosines: dict[str, float] | None,
                     entities: dict[str, dict[str, Any]], named: set[str], top: float,
                     weights: tuple[float, float]) -> float:
        """``kb.search``'s fused score of one passage: BM25 over the question's best ``top`` and
        the clipped cosine, each times the passage's prior."""
        prior = self._prior(entities[sid], named)
        score = weights[0] * bm25.get(sid, 0.0) * prior / top if top > 0 else 0.0
        if cosines is not None:
            score += weights[1] * max(cosines.get(sid, 0.0), 0.0) * prior
        return score


def open_searcher(knowledge_base: KnowledgeBase, record: dict[str, Any], *, client: Any | None = None) -> MilvusSearcher:
    """The searcher a knowledge base's recorded Milvus backend answers with: its collection,
    and the query side of the generation ``kb_dir`` serves."""
    from kb.milvus.publish import connect

    client = client or connect(record["uri"], token=record.get("token"))
    return MilvusSearcher(client, record["alias"], knowledge_base.local_searcher())

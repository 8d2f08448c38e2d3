"""Hybrid search over one loaded index generation: BM25, dense, fused, filtered, cited.

Both retrievers see the same filter mask and take their ``candidates`` best segments;
weighted fusion (the default) or reciprocal rank fusion merges the two lists, ties broken
by segment id. A question with no searchable term (only punctuation, emoji or filler such
as 你好) gets no hits and a ``reason`` instead of random passages. A hit whose passage text
repeats a higher hit's (a notice republished under several ids) says so in
``same_text_as`` instead of being dropped: each copy cites its own document.
"""

from __future__ import annotations

import functools
import logging
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from kb.abstain import (
    DEFAULT_MAX_REFUSED,
    DEFAULT_MIN_SPECIFICITY,
    DomainSpecificity,
    OffTopicClassifier,
    examples_digest,
    fit_off_topic,
    known_examples,
)
from kb.cite import match_spans, snippet
from kb.errors import InvalidFilter, InvalidQuestion
from kb.expansion import QueryExpansion, load_lexicon
from kb.familiarity import Familiarity, fusion_weights
from kb.fusion import DEFAULT_RRF_K, reciprocal_rank_fusion
from kb.index import LoadedIndex
from kb.jurisdiction import NATIONAL, is_local_to, places_named, short_name
from kb.normalize import INVISIBLE, normalize_for_matching, without_whitespace
from kb.pretrained import find_pretrained
from kb.ranker import Candidates, LearnedRanker, bundled_ranker, gather
from kb.head_matrix import HeadMatrix
from kb.head_scan import DEFAULT_HEAD_CANDIDATES, SCAN_DEPTH, HeadScan, order_digest
from kb.query_adapter import bundled_adapter
from kb.rerank import DEFAULT_RERANK, Reranker, encoder_name, passage_head
from kb.sentence_encoder import load_sentence_encoder
from kb.selection import largest
from kb.store import Store
from kb.term_weights import term_weights
from kb.tokenize import PolicyTokenizer
from kb.types import EXPIRED, IN_FORCE, STATUSES, SUPERSEDED
from kb.word_vectors import load_word_vectors

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 2000
MAX_TOP_K = 100
DEFAULT_TOP_K = 5
DEFAULT_CANDIDATES = 100
#: Fused candidates whose neighbours in their document, ``NEIGHBOUR_SPAN`` passages either side,
#: join the ranker's candidates (full corpus, fresh, rankers refitted on the same folds with and
#: without them: STARD test recall@10 / @100 .560 / .727 -> .577 / .743, hotline-over-laws @100
#: .857 -> .869; the first 20 at 1 either side gained half of what these did before refitting).
DEFAULT_NEIGHBOUR_CANDIDATES = 30
NEIGHBOUR_SPAN = 2
MODES = ("hybrid", "bm25", "dense")
#: Departments or places one filter may name, and the longest name.
MAX_FILTER_VALUES = 20
MAX_FILTER_CHARS = 100
#: What a filter may call national laws and rules.
NATIONAL_NAMES = frozenset({NATIONAL, "全国", "国家"})
#: An ISO day, e.g. "2020-03-01".
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FUSIONS = ("weighted", "rrf")
#: How the first candidates are re-ordered: the learned ranker (kb.ranker) or the cosine mix (kb.rerank).
RANKERS = ("learned", "cosine")
#: (BM25, dense) weights of weighted fusion, by how the embedding model was trained.
SUPERVISED_WEIGHTS = (0.4, 0.6)
UNSUPERVISED_WEIGHTS = (0.8, 0.2)


def _is_day(text: object) -> bool:
    """A real calendar day written YYYY-MM-DD ("2019-13-45" and "2021-02-29" are not)."""
    if not isinstance(text, str) or not _ISO_DAY.match(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class SearchFilters:
    """Which segments may be returned: by document, validity, responsible department and place.

    By default only documents in force today are searched: in force means taken effect,
    not expired and not replaced by a later version on that day. ``as_of`` asks the same
    of another day (history); ``statuses`` widens the search to expired or superseded
    documents whatever the day. ``departments`` keeps passages that name one of these
    responsible departments; ``places`` keeps documents of one of these jurisdictions
    ("national" or 全国 for national laws and rules).
    """

    doc_ids: tuple[str, ...] = ()
    statuses: tuple[str, ...] = (IN_FORCE,)
    as_of: str | None = None
    departments: tuple[str, ...] = ()
    places: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.as_of is not None and not _is_day(self.as_of):
            raise InvalidFilter(f"as_of must be a date like 2020-03-01, not {self.as_of!r}")
        for name, values in (("departments", self.departments), ("places", self.places)):
            if len(values) > MAX_FILTER_VALUES:
                raise InvalidFilter(f"at most {MAX_FILTER_VALUES} {name}")
            if any(not isinstance(v, str) or not v.strip() or len(v) > MAX_FILTER_CHARS for v in values):
                raise InvalidFilter(f"each of {name} must be a name of 1 to {MAX_FILTER_CHARS} characters")
        object.__setattr__(self, "places", tuple(NATIONAL if p.strip() in NATIONAL_NAMES else p.strip()
                                                 for p in self.places))
        object.__setattr__(self, "departments", tuple(d.strip() for d in self.departments))
        unknown = [s for s in self.statuses if s not in STATUSES]
        if unknown:
            raise InvalidFilter(f"unknown status {unknown[0]!r}; use one of {', '.join(STATUSES)}")
        if not self.statuses:
            raise InvalidFilter("at least one status must be allowed")

    @classmethod
    def from_options(cls, *, doc_ids: Any = None, statuses: Any = None, include_expired: bool = False,
                     include_superseded: bool = False, as_of: str | None = None, departments: Any = None,
                     places: Any = None) -> SearchFilters:
        wanted = list(statuses) if statuses else [IN_FORCE]
        if include_expired and EXPIRED not in wanted:
            wanted.append(EXPIRED)
        if include_superseded and SUPERSEDED not in wanted:
            wanted.append(SUPERSEDED)
        return cls(doc_ids=tuple(doc_ids or ()), statuses=tuple(wanted), as_of=as_of,
                   departments=tuple(departments or ()), places=tuple(places or ()))


@dataclass(frozen=True)
class Hit:
    """One cited passage, as the CLI, the service and evaluation report it."""

    rank: int
    score: float
    segment_id: str
    doc_id: str
    title: str
    doc_number: str | None
    issuer: str | None
    date: str | None
    status: str
    superseded_by: str | None
    kind: str
    section_path: list[str]
    locator: str
    departments: list[str]
    text: str
    snippet: str
    start: int
    end: int
    highlights: list[tuple[int, int]]
    scores: dict[str, float | None] = field(default_factory=dict)
    same_text_as: int | None = None  # rank of a higher hit with the same passage text

    def as_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["highlights"] = [list(span) for span in self.highlights]
        return data


@dataclass(frozen=True)
class SearchResult:
    question: str
    hits: list[Hit]
    terms: list[str]
    mode: str
    generation: str
    reason: str | None = None
    degraded: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"question": self.question, "hits": [h.as_dict() for h in self.hits], "terms": self.terms,
                "mode": self.mode, "generation": self.generation, "reason": self.reason,
                "degraded": self.degraded}


def clean_question(question: str) -> str:
    """The question with invisible characters removed and surrounding space stripped."""
    if not isinstance(question, str):
        raise InvalidQuestion("the question must be a string", "question_invalid")
    if len(question) > MAX_QUESTION_CHARS * 4:  # refuse absurd input before any work on it
        raise InvalidQuestion(f"the question is longer than {MAX_QUESTION_CHARS} characters", "question_too_long")
    text = INVISIBLE.sub("", question).strip()
    if not text:
        raise InvalidQuestion("the question is empty", "question_empty")
    if len(text) > MAX_QUESTION_CHARS:
        raise InvalidQuestion(f"the question is longer than {MAX_QUESTION_CHARS} characters", "question_too_long")
    return text


def _top(scores: np.ndarray, weight: np.ndarray, count: int,
         positions: np.ndarray | None = None) -> list[tuple[int, float]]:
    """(index position, score) of the ``count`` best positive ``scores`` x ``weight``.

    ``weight`` is the filter and the jurisdiction prior in one array (0 where the filter
    excludes a passage). ``scores`` is either every passage's score (BM25's, ``positions``
    None) or the scores of the passages at ``positions`` (``scores[j]`` is passage
    ``positions[j]``'s: the dense candidates). Every passage's scores are weighted and picked
    from whole, not first listed where they match: a common word matches most of 155k passages,
    and listing them cost 0.9 ms a question, picking from the whole array 0.2.
    """
    weighted = scores * (weight if positions is None else weight[positions])
    picked = largest(weighted, count)
    picked = picked[weighted[picked] > 0]
    found = picked if positions is None else positions[picked]
    return [(int(i), float(score)) for i, score in zip(found, weighted[picked])]


def _codes(values: Sequence[str]) -> tuple[dict[str, int], np.ndarray]:
    """({distinct value: code}, the code of each value) in first-seen order."""
    codes: dict[str, int] = {}
    return codes, np.fromiter((codes.setdefault(v, len(codes)) for v in values), dtype=np.int32, count=len(values))


#: Filter masks kept per searcher (by day, statuses, documents and places named).
MASK_CACHE_SIZE = 32


@dataclass(frozen=True)
class FirstStage:
    """One question's retrieval before re-ranking: both retrievers' candidates (index position,
    score; unordered) and each candidate's position by segment id, every passage's BM25 score,
    the question's vector, the filter x prior weights, and the fused list (segment id, score),
    best first."""

    text: str
    terms: list[str]
    expansion: list[str]
    fused: list[tuple[str, float]]
    bm25_top: list[tuple[int, float]]
    dense_top: list[tuple[int, float]]
    bm25_all: np.ndarray | None
    query: np.ndarray | None
    weight: np.ndarray
    bm25_weight: float  # BM25's weight in the fusion (kb.familiarity moves it for a trained model)
    dense_weight: float
    positions: dict[str, int]  # each candidate's index position: every fused passage is one of them
    named: np.ndarray  # the jurisdiction codes of the places the question names


def _best_first(top: list[tuple[int, float]], index_ids: Sequence[str]) -> list[str]:
    """The segment ids of one retriever's candidates (index position, score), best first."""
    return [index_ids[i] for i, _ in sorted(top, key=lambda item: (-item[1], index_ids[item[0]]))]


def kept_below(ranked: list[tuple[str, float]], count: int) -> list[tuple[str, float]]:
    """``ranked`` whose first ``count`` were re-ordered, with no later score above the last of
    them: the scanned candidates join the head with fused scores lower than the tail's."""
    if count >= len(ranked) or count == 0:
        return ranked
    floor = ranked[count - 1][1]
    return ranked[:count] + [(segment_id, min(score, floor)) for segment_id, score in ranked[count:]]


def reorder_head(head: list[tuple[str, float]], learned: LearnedRanker | None, reranker: Reranker, question: str,
                 fused: list[tuple[str, float]], text_of: Callable[[Sequence[str]], dict[str, str]],
                 candidates_of: Callable[[list[tuple[str, float]]], Candidates]) -> list[tuple[str, float]]:
    """``fused`` with ``head`` (its first candidates, and for the learned ranker the passages the
    head scan adds) re-ordered above the rest, whatever the backend: by the ``learned`` ranker
    (``kb.ranker``; ``candidates_of`` says what it reads of them) or, without one, by the
    encoder's cosine mix (``kb.rerank``; ``text_of`` gives the heads of passages without a
    stored vector)."""
    listed = {segment_id for segment_id, _ in head}
    tail = [item for item in fused if item[0] not in listed]
    if learned is None:
        return reranker.rerank(question, head + tail, len(head), text_of)
    candidates = candidates_of(head)
    if len(candidates.segment_ids) < 2:
        return fused
    return kept_below(learned.order(candidates) + tail, len(candidates.segment_ids))


@dataclass(frozen=True)
class SearchSettings:
    """How retrieval is combined; stored with the knowledge base, overridable per call.

    ``fusion`` "weighted" adds ``bm25_weight`` x (BM25 / the question's top BM25) and
    ``dense_weight`` x cosine, which beat reciprocal rank fusion at the top of the list in
    the experiments recorded in RETRIEVAL-NOTES; "rrf" is the reference (k = ``rrf_k``).
    Weights left at None follow the model: 0.8/0.2 for one trained on the passages alone (such
    a model relates a statute's words to one another, not a citizen's to a statute's: BM25
    leads); for one trained on real question pairs they move to 0.4/0.6 as the question comes
    close to the confirmed questions (``kb.familiarity``; measured: see README).
    ``place`` is the chain the knowledge base serves (e.g. 常熟市, 苏州市, 江苏省): its own
    documents are multiplied by ``place_weight`` (a 常熟 caller asks about 常熟 first), as are
    those of a place the question names; other regions' by ``foreign_weight``. Documents that
    confirmed answers (``policykb train`` pairs) point to are multiplied by
    1 + ``answered_weight`` x ln(1 + answers): citizens ask about the same laws again.
    ``expansion`` also searches BM25 for the statutes' words for the citizens' words of the
    question (``kb.expansion``). ``term_weighting`` lets a question's everyday words (老板, 说)
    count less in BM25 than its policy words (``kb.term_weights``). ``rerank`` > 0 re-orders that many first candidates of a
    weighted hybrid search; 0 turns it off. ``ranker`` "learned" orders them by the bundled
    LambdaMART model (``kb.ranker``), "cosine" by a 50/50 mix of fused score and the pretrained
    encoder's cosine (``kb.rerank``); both read the encoder's cosine of question and passage head
    (the heads' vectors are made at build time, a question costs one encoding, about 6 ms).
    ``head_candidates`` more candidates join them from the adapted encoder's scan of every
    passage head (``kb.head_scan``), passages the retrievers missed; 0 turns the scan off.
    The first ``neighbour_candidates`` of the fused list bring the passages up to
    ``NEIGHBOUR_SPAN`` either side of them in their document (a statute puts what belongs
    together side by side: who must pay in, and next to it when the fund may be withdrawn); 0
    turns that off.
    """

    place: tuple[str, ...] = ()
    fusion: str = "weighted"
    bm25_weight: float | None = None
    dense_weight: float | None = None
    rrf_k: int = DEFAULT_RRF_K
    candidates: int = DEFAULT_CANDIDATES
    foreign_weight: float = 0.5
    place_weight: float = 1.5
    answered_weight: float = 0.1
    min_specificity: float = DEFAULT_MIN_SPECIFICITY
    max_refused: float = DEFAULT_MAX_REFUSED
    expansion: bool = True
    term_weighting: bool = True
    rerank: int = DEFAULT_RERANK
    ranker: str = "learned"
    head_candidates: int = DEFAULT_HEAD_CANDIDATES
    neighbour_candidates: int = DEFAULT_NEIGHBOUR_CANDIDATES

    def __post_init__(self) -> None:
        if self.fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {', '.join(FUSIONS)}")
        if self.ranker not in RANKERS:
            raise ValueError(f"ranker must be one of {', '.join(RANKERS)}")
        if not 0 <= self.foreign_weight <= 1:
            raise ValueError("foreign_weight must be between 0 and 1")
        if not 1 <= self.place_weight <= 10:
            raise ValueError("place_weight must be between 1 and 10")
        if not 0 <= self.max_refused <= 0.5:
            raise ValueError("max_refused must be between 0 and 0.5")
        if not 0 <= self.rerank <= 100:
            raise ValueError("rerank must be between 0 and 100")
        if not 0 <= self.head_candidates <= 100:
            raise ValueError("head_candidates must be between 0 and 100")
        if not 0 <= self.neighbour_candidates <= 100:
            raise ValueError("neighbour_candidates must be between 0 and 100")

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "place": list(self.place)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SearchSettings:
        return cls(**{**data, "place": tuple(data.get("place", ()))})


class Searcher:
    """Answers questions from one loaded generation and the store."""

    def __init__(self, index: LoadedIndex, store: Store, tokenizer: PolicyTokenizer,
                 settings: SearchSettings | None = None, *, lexicon: dict[str, list[str]] | None = None) -> None:
        self.index = index
        self._lexicon = lexicon if lexicon is not None else load_lexicon(None)
        self._expansion: QueryExpansion | None = None
        self._reranker: Reranker | None | bool = None  # False: wanted but the encoder is not installed
        self.store = store
        self.tokenizer = tokenizer
        self.settings = settings or SearchSettings()
        # documents, statuses and places as codes into their distinct values: a new generation
        # is made ready beside the one answering, and 155k-string arrays cost it a second
        status_names, status_code = _codes(index.statuses)
        self._status_mask = {status: status_code == status_names.get(status, -1) for status in STATUSES}
        self._doc_codes, self._doc = _codes(index.doc_ids)
        self._jurisdiction_codes, self._jurisdiction = _codes([j or "" for j in index.jurisdictions])
        self._effective = np.asarray(index.effective, dtype=np.int64)
        self._expires = np.asarray(index.expires, dtype=np.int64)
        self._superseded_from = np.asarray(index.superseded_from, dtype=np.int64)
        self._places = sorted({j for j in self._jurisdiction_codes if j and j != NATIONAL})
        supervised = bool((index.manifest.get("embedding") or {}).get("supervised"))
        self.supervised = supervised
        auto = SUPERVISED_WEIGHTS if supervised else UNSUPERVISED_WEIGHTS
        self._weights = (auto[0] if self.settings.bm25_weight is None else self.settings.bm25_weight,
                         auto[1] if self.settings.dense_weight is None else self.settings.dense_weight)
        # weights left to the model follow each question's familiarity (kb.familiarity)
        self._follow_familiarity = supervised and self.settings.bm25_weight is None \
            and self.settings.dense_weight is None
        self._familiarity: Familiarity | None = None
        places = list(self._jurisdiction_codes)
        local = np.array([is_local_to(j or None, self.settings.place) for j in places], dtype=bool)[self._jurisdiction]
        own = np.array([j in self.settings.place for j in places], dtype=bool)[self._jurisdiction]
        answered = store.confirmed_answers_per_document()
        # the learned ranker reads how many stored pairs point to each passage
        self.passage_answers = store.confirmed_answers_per_segment()
        popularity = np.array([1.0 + self.settings.answered_weight * math.log1p(answered.get(d, 0))
                               for d in self._doc_codes], dtype=np.float32)[self._doc]
        # the place alone, which the learned ranker reads; the fusion's prior adds the popularity
        self._place_prior = np.where(own, self.settings.place_weight,
                                     np.where(local, 1.0, self.settings.foreign_weight)).astype(np.float32)
        self._popularity = popularity
        self._prior = (self._place_prior * popularity).astype(np.float32)
        self._specificity = DomainSpecificity(index.bm25, tokenizer.background_probability)
        self._place_names = {name for place in self._places for name in (place, short_name(place))}
        self._off_topic: OffTopicClassifier | None = None
        self._weights_cache: dict[tuple[Any, ...], tuple[np.ndarray, np.ndarray, int]] = {}

    @property
    def degraded(self) -> str | None:
        """Why part of the index is out of use (e.g. the model is missing), or None."""
        return self.index.degraded

    @property
    def off_topic(self) -> OffTopicClassifier:
        """The chit-chat classifier on the bundled examples and the knowledge base's own
        questions (confirmed pairs, FAQ items) of at most ``kb.abstain.MAX_EXAMPLE_CHARS``: as
        the build fitted it, or fitted now when the examples changed since."""
        if self._off_topic is None:
            known = known_examples(self.store.known_questions())
            state = self.index.off_topic
            if state is not None and state.get("examples") == examples_digest(known):
                self._off_topic = OffTopicClassifier.from_state(state, max_refused=self.settings.max_refused)
            else:  # no state kept, or FAQ questions stored since the build
                self._off_topic = fit_off_topic(known, max_refused=self.settings.max_refused)
        return self._off_topic

    @property
    def expansion(self) -> QueryExpansion:
        """Citizens' words -> statutes' words (``kb.expansion``), made on first use."""
        if self._expansion is None:
            available = find_pretrained()
            vectors = load_word_vectors(available.files) if available.files is not None else None
            bm25 = self.index.bm25
            self._expansion = QueryExpansion(self._lexicon, self.tokenizer, bm25.vocabulary,
                                             bm25.document_frequency, bm25.document_count, vectors)
        return self._expansion

    @property
    def reranker(self) -> Reranker | None:
        """The pretrained re-ranker, or None where the encoder is not installed."""
        if self._reranker is None:
            available = find_pretrained()
            if available.files is None:
                log.warning("rerank is set but %s: answering without it", available.reason)
                self._reranker = False
            else:
                encoder, name = load_sentence_encoder(available.files), encoder_name(available.files)
                self._reranker = Reranker(encoder, stored=lambda ids: self._stored_heads(name, encoder.dim, ids),
                                          adapter=bundled_adapter(name), name=name)
        return self._reranker or None

    def _stored_heads(self, encoder: str, dim: int, segment_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The head vectors by ``encoder`` of ``segment_ids``: the build's matrix
        (``kb.head_matrix``) where it holds them, else the store's."""
        matrix = self._head_matrix
        if matrix is None or matrix.vectors.shape[1] != dim:
            return self.store.head_vectors(encoder, segment_ids, dim)
        position = self._position_of
        placed = [(segment_id, at) for segment_id in segment_ids if (at := position.get(segment_id)) is not None]
        vectors, found = matrix.vectors_at([at for _, at in placed])
        stored = {segment_id: vector for (segment_id, _), vector, ok in zip(placed, vectors, found) if ok}
        rest = [segment_id for segment_id in segment_ids if segment_id not in stored]
        return {**stored, **self.store.head_vectors(encoder, rest, dim)} if rest else stored

    @functools.cached_property
    def _head_matrix(self) -> HeadMatrix | None:
        """The build's head vectors for this index (``kb.head_matrix``), or None (no encoder, or
        none written for it yet)."""
        reranker = self.reranker
        if reranker is None or reranker.name is None:
            return None
        return HeadMatrix.load(self.store.path.parent, self.index.segment_ids, reranker.name, order=self._order_digest)

    @property
    def learned_ranker(self) -> LearnedRanker | None:
        """The bundled ranker for this index's model (``kb.ranker``: one fitted for a model
        trained on question pairs, one for a model that knows the passages alone), or None with
        ``ranker`` "cosine" or where it cannot be read."""
        return bundled_ranker(trained=self.supervised) if self.settings.ranker == "learned" else None

    def learned_ranker_missing(self) -> str | None:
        """``"learned_ranker_unavailable"`` where the learned ranker is wanted and cannot be read
        (the cosine mix re-orders instead), else None."""
        return "learned_ranker_unavailable" if self.settings.ranker == "learned" and self.learned_ranker is None \
            else None

    def _passage_heads(self, segment_ids: Sequence[str]) -> dict[str, str]:
        return {sid: passage_head(title, text)
                for sid, (_doc, text, _ordinal, title) in self.store.ranking_passages(list(segment_ids)).items()}

    def prepare(self) -> None:
        """Fit now what is otherwise fitted at the first question (about 2-3 s over the full
        corpus): the off-topic classifier, the query expansion, the head scan, the passages'
        reading order and the confirmed questions' embeddings."""
        _ = self.off_topic
        if self.settings.expansion:
            _ = self.expansion
        if self.settings.rerank:
            _ = self.learned_ranker
            _ = self._head_matrix
            if self.settings.head_candidates:
                _ = self._head_scan  # reads KB_DIR/head_scan.npz (87 MB over the full corpus)
            if self.settings.neighbour_candidates:
                _ = self._reading_order
        if self._follow_familiarity:
            _ = self.familiarity

    @property
    def familiarity(self) -> Familiarity | None:
        """The confirmed questions embedded by the model, on first use (None without a model)."""
        if self._familiarity is None and self.index.familiar is not None:
            self._familiarity = Familiarity.from_vectors(self.index.familiar)
        elif self._familiarity is None and self.index.model is not None:
            questions = sorted({question for question, _ in self.store.training_pairs()})
            self._familiarity = Familiarity(questions, self.index.model, self.tokenizer)
        return self._familiarity

    @functools.cached_property
    def _position_of(self) -> dict[str, int]:
        """Each passage's position (a delta's passage after the base's copy it replaces)."""
        return {segment_id: i for i, segment_id in enumerate(self.index.segment_ids)}

    def _weights_for(self, query: np.ndarray | None) -> tuple[float, float]:
        """Fusion weights for this question: fixed, or following its familiarity."""
        familiarity = self.familiarity if self._follow_familiarity else None
        if familiarity is None or query is None:
            return self._weights
        return fusion_weights(familiarity.of(query), UNSUPERVISED_WEIGHTS, SUPERVISED_WEIGHTS)

    def _mask(self, filters: SearchFilters) -> np.ndarray:
        day = int((filters.as_of or date.today().isoformat()).replace("-", ""))
        in_force = (self._effective <= day) & (day <= self._expires) & (day < self._superseded_from)
        others = [self._status_mask[status] for status in filters.statuses if status != IN_FORCE]
        allowed = np.logical_or.reduce([in_force, *others]) if IN_FORCE in filters.statuses else \
            np.logical_or.reduce(others)
        if filters.doc_ids:
            allowed &= np.isin(self._doc, [self._doc_codes[d] for d in filters.doc_ids if d in self._doc_codes])
        if filters.places:
            allowed &= np.isin(self._jurisdiction, [self._jurisdiction_codes[p] for p in filters.places
                                                    if p in self._jurisdiction_codes])
        if filters.departments:
            named = np.zeros(len(allowed), dtype=bool)
            named[[i for sid in self.store.segments_naming(filters.departments)
                   if (i := self._position_of.get(sid)) is not None]] = True
            allowed &= named
        if self.index.live is not None:  # base passages a later version of their document replaced
            allowed &= self.index.live
        return allowed

    def _weight_for(self, filters: SearchFilters, question: str) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
        """(allowed, allowed x prior, how many allowed, the codes of the places the question names)
        for this filter and question: a named place's documents count as the place served's.

        Both arrays are made once per filter, day and set of places named, then reused:
        building them touches every passage, which a question otherwise never has to.
        """
        day = filters.as_of or date.today().isoformat()
        named = tuple(sorted(places_named(normalize_for_matching(question), self._places)))
        key = (day, filters.statuses, filters.doc_ids, filters.departments, filters.places, named)
        cached = self._weights_cache.get(key)
        if cached is None:
            allowed = self._mask(filters)
            codes = np.asarray([self._jurisdiction_codes[n] for n in named if n in self._jurisdiction_codes],
                               dtype=self._jurisdiction.dtype)
            prior = (self._named_place_prior(codes) * self._popularity).astype(np.float32) \
                if len(codes) else self._prior
            cached = (allowed, np.where(allowed, prior, 0).astype(np.float32), int(allowed.sum()), codes)
            if len(self._weights_cache) >= MASK_CACHE_SIZE:
                self._weights_cache.clear()
            self._weights_cache[key] = cached
        return cached

    def _named_place_prior(self, codes: np.ndarray) -> np.ndarray:
        """The place prior of every passage when the question names the places ``codes``: a
        named place counts as the place served (``place_weight``) for this question, above
        national texts ("安徽省疫情防控期间为哪些物资运送提供了绿色通道" wants 安徽's notice
        first, "海陵区老人…" 海陵区's), and never below its own weight."""
        named = np.maximum(self._place_prior, self.settings.place_weight)
        return np.where(np.isin(self._jurisdiction, codes), named, self._place_prior)

    def admit(self, question: str, *, top_k: int, mode: str, fusion: str | None, max_top_k: int, abstain: bool,
              has_model: bool, degraded: str | None) -> tuple[str, list[str], str, str] | SearchResult:
        """Check a question's options and decide whether it is searched at all, whatever the
        backend: ``(cleaned text, terms, mode, fusion)`` to search with (BM25 alone without a
        model), or the answer already known (no searchable term, or off the subject).

        Raises ``InvalidQuestion`` for an option out of range.
        """
        if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= max_top_k:
            raise InvalidQuestion(f"top_k must be an integer from 1 to {max_top_k}", "top_k_invalid")
        if mode not in MODES:
            raise InvalidQuestion(f"mode must be one of {', '.join(MODES)}", "mode_invalid")
        fusion = fusion or self.settings.fusion
        if fusion not in FUSIONS:
            raise InvalidQuestion(f"fusion must be one of {', '.join(FUSIONS)}", "fusion_invalid")
        text = clean_question(question)
        terms = self.tokenizer.tokenize_query(text)
        generation = self.index.generation
        if not terms:
            return SearchResult(text, [], [], mode, generation, reason="no_searchable_terms", degraded=degraded)
        if abstain and (self._specificity.question(self._subject_terms(text, terms), places=self._place_names)
                        < self.settings.min_specificity or self.off_topic.is_off_topic(text)):
            return SearchResult(text, [], terms, mode, generation, reason="no_answer", degraded=degraded)
        return text, terms, mode if mode == "bm25" or has_model else "bm25", fusion

    def _subject_terms(self, text: str, terms: list[str]) -> list[str]:
        """What the question is about, for the off-topic test: its terms, and the lexicon's formal
        words for its expressions (低保 is rare in statutes, which say 最低生活保障, yet a question
        about it is no chit-chat)."""
        return [*terms, *self.expansion.formal_terms(text, words=terms)] if self.settings.expansion else terms

    def search(self, question: str, *, top_k: int = DEFAULT_TOP_K, filters: SearchFilters | None = None,
               mode: str = "hybrid", candidates: int | None = None, rrf_k: int | None = None,
               fusion: str | None = None, max_top_k: int = MAX_TOP_K, abstain: bool = True) -> SearchResult:
        """Rank passages for ``question``.

        ``max_top_k`` bounds ``top_k``: the public CLI and HTTP contract keeps the default
        (100, enough for Recall@100); evaluation may go deeper.
        With ``abstain`` (the default) a question none of whose words is characteristic of
        the knowledge base gets no hits and the reason "no_answer" (see ``kb.abstain``).
        """
        admitted = self.admit(question, top_k=top_k, mode=mode, fusion=fusion, max_top_k=max_top_k,
                              abstain=abstain, has_model=self.index.model is not None, degraded=self.degraded)
        if isinstance(admitted, SearchResult):
            return admitted
        text, terms, mode, fusion = admitted
        found = self._first_stage(text, terms, filters or SearchFilters(), mode, fusion,
                                  max(candidates or self.settings.candidates, top_k), rrf_k)
        fused, degraded = found.fused, self.degraded
        # re-ranking reads the weighted score it was fitted against; rank-based RRF scores are
        # too flat for it (the cosine alone would order the head)
        reranking = mode == "hybrid" and fusion == "weighted" and self.settings.rerank
        if reranking and self.reranker is not None:
            fused = self._reranked(found)
            degraded = degraded or self.learned_ranker_missing()
        elif reranking and degraded is None:
            degraded = "pretrained_encoder_unavailable"
        hits = self._hits(fused[:top_k], terms, found.positions, found.bm25_all, found.query)
        reason = None if hits else "no_match"
        return SearchResult(text, hits, terms, mode, self.index.generation, reason=reason, degraded=degraded)

    def _first_stage(self, text: str, terms: list[str], filters: SearchFilters, mode: str, fusion: str,
                     count: int, rrf_k: int | None) -> FirstStage:
        """Both retrievers' ``count`` best allowed passages and their fusion, before re-ranking."""
        settings = self.settings
        allowed, weight, allowed_count, named = self._weight_for(filters, text)
        bm25_all = query = extra = None
        bm25_top: list[tuple[int, float]] = []
        dense_top: list[tuple[int, float]] = []
        if mode in ("hybrid", "bm25"):
            extra = self.expansion.expand(text, terms) if settings.expansion else None
            weights = term_weights(terms, self._specificity) if settings.term_weighting else None
            bm25_all = self.index.bm25.scores(terms, extra, weights)
            bm25_top = _top(bm25_all, weight, count)
        if mode in ("hybrid", "dense"):
            assert self.index.model is not None and self.index.dense is not None
            query = self.index.model.encode([self.index.model.prepare_query(text, terms)])[0]
            if np.any(query):
                positions, cosines = self.index.dense.candidates(query, allowed, allowed_count)
                dense_top = _top(cosines, weight, count, positions)
            else:
                query = None
        weights = self._weights_for(query)
        if mode == "hybrid" and fusion == "rrf":
            fused = reciprocal_rank_fusion([self._ordered(bm25_top), self._ordered(dense_top)],
                                           rrf_k=settings.rrf_k if rrf_k is None else rrf_k)
        elif mode == "hybrid":
            fused = self._weighted(bm25_top, dense_top, bm25_all, query, weight, weights)
        else:
            fused = self._ordered(bm25_top or dense_top)
        ids = self.index.segment_ids
        return FirstStage(text, terms, list(extra or ()), fused, bm25_top, dense_top, bm25_all, query, weight,
                          weights[0], weights[1], {ids[i]: i for i, _ in [*bm25_top, *dense_top]}, named)

    def _reranked(self, found: FirstStage) -> list[tuple[str, float]]:
        reranker = self.reranker
        assert reranker is not None
        # the learned ranker was fitted with the scanned candidates; the cosine mix reads the fused list alone
        head = self._head(found, reranker, scan=self.learned_ranker is not None)
        return reorder_head(head, self.learned_ranker, reranker, found.text, found.fused, self._passage_heads,
                            lambda candidates: self._candidates(found, candidates, reranker))

    def _head(self, found: FirstStage, reranker: Reranker, *, scan: bool = True) -> list[tuple[str, float]]:
        """The candidates the ranker orders: the fused list's first ``rerank`` and, with
        ``scan``, the passages the head scan adds and the neighbours of the first (each with its
        fused score)."""
        head = found.fused[: self.settings.rerank]
        if not scan:
            return head
        chosen = np.asarray(self.joining(found.text, [segment_id for segment_id, _ in head], found.weight),
                            dtype=np.int64)
        if not len(chosen) or not head:
            return head
        ids = self.index.segment_ids
        fused = self._fused_scores(chosen, found.bm25_all, found.bm25_top, found.query, found.weight,
                                   (found.bm25_weight, found.dense_weight))
        for i in chosen.tolist():
            found.positions[ids[i]] = i
        return head + [(ids[i], score) for i, score in zip(chosen.tolist(), fused.tolist())]

    def joining(self, question: str, head: Sequence[str], weight: np.ndarray) -> list[int]:
        """Index positions of the passages that join the ranker's candidates ``head`` (segment
        ids, best first): the head scan's (:meth:`scanned`), then the neighbours of the first
        (:meth:`neighbours`), none twice and none of ``head``."""
        listed = set(head)
        scanned = self.scanned(question, listed, weight)
        listed.update(self.index.segment_ids[i] for i in scanned)
        return scanned + self.neighbours(head, listed, weight)

    @functools.cached_property
    def _reading_order(self) -> tuple[np.ndarray, np.ndarray]:
        """The index positions in reading order (document by document, each in its order) and
        each position's place in that order (-1 for a passage the store no longer holds): the
        index itself keeps passages in id order (``#a10`` before ``#a2``). About 0.2 s over the
        full corpus."""
        position = self._position_of
        order = np.asarray([at for segment_id in self.store.segments_in_reading_order()
                            if (at := position.get(segment_id)) is not None], dtype=np.int64)
        place = np.full(len(self.index.segment_ids), -1, dtype=np.int64)
        place[order] = np.arange(len(order))
        return order, place

    def neighbours(self, first: Sequence[str], listed: set[str], weight: np.ndarray) -> list[int]:
        """Index positions of the passages up to ``NEIGHBOUR_SPAN`` either side of each of the
        first ``neighbour_candidates`` of ``first`` (segment ids, best first) in its document's
        reading order, that ``weight`` (filter x prior) admits and that are not ``listed``
        already; nearest first."""
        count = self.settings.neighbour_candidates
        if not count:
            return []
        ids, documents = self.index.segment_ids, self.index.doc_ids
        order, place = self._reading_order
        position = self._position_of
        chosen: list[int] = []
        seen = set(listed)
        for segment_id in first[:count]:
            at = position.get(segment_id)
            if at is None or place[at] < 0:
                continue
            for step in range(1, NEIGHBOUR_SPAN + 1):
                for k in (place[at] - step, place[at] + step):
                    if not 0 <= k < len(order):
                        continue
                    j = int(order[k])
                    if documents[j] == documents[at] and weight[j] > 0 and ids[j] not in seen:
                        seen.add(ids[j])
                        chosen.append(j)
        return chosen

    def scanned(self, question: str, listed: set[str], weight: np.ndarray) -> list[int]:
        """Index positions of the passages the head scan adds for ``question`` (``kb.head_scan``):
        the first ``head_candidates`` by adapted cosine x ``weight`` (filter and place prior),
        less those ``listed`` already; none without the scan."""
        count = self.settings.head_candidates
        reranker = self.reranker
        if not count or reranker is None or reranker.adapter is None:
            return []
        scan = self._head_scan  # read only where the scan is wanted
        if scan is None:
            return []
        adapted = reranker.adapter.apply(question, reranker.question_vectors([question])[0])
        rough = scan.top(adapted, weight, SCAN_DEPTH * count)
        if not len(rough):
            return []
        ids = self.index.segment_ids
        exact = reranker.passage_vectors([ids[i] for i in rough.tolist()], self._passage_heads) @ adapted
        best = rough[np.argsort(-exact * weight[rough], kind="stable")[:count]]
        return [i for i in best.tolist() if ids[i] not in listed]

    @functools.cached_property
    def _head_scan(self) -> HeadScan | None:
        """The head scan of this knowledge base's folder for this index, or None (no encoder, no
        adapter with a basis, or no scan made for them yet)."""
        reranker = self.reranker
        if reranker is None or reranker.name is None:
            return None
        return HeadScan.load(self.store.path.parent, self.index.segment_ids, bundled_adapter(reranker.name),
                             order=self._order_digest)

    @functools.cached_property
    def _order_digest(self) -> str:
        """The digest of this index's passage order, which the head matrix and the head scan each
        compare with their file's (``kb.head_scan.order_digest``): 8.8 ms over 155k ids, worked out once."""
        return order_digest(self.index.segment_ids)

    def _candidates(self, found: FirstStage, head: Sequence[tuple[str, float]], reranker: Reranker) -> Candidates:
        """What the learned ranker reads of the candidates ``head`` of ``found``."""
        passages = self.store.ranking_passages([segment_id for segment_id, _ in head])
        # a passage deleted since the build is left out here as it is from the hits
        head = [(segment_id, score) for segment_id, score in head if segment_id in passages]
        ids = [segment_id for segment_id, _ in head]
        index_ids = self.index.segment_ids
        idx = np.asarray([found.positions[segment_id] for segment_id in ids], dtype=np.int64)
        bm25: dict[str, float] = {}
        if found.bm25_all is not None and found.bm25_top and ids:
            best = max(score for _, score in found.bm25_top)
            bm25 = dict(zip(ids, (found.bm25_all[idx] * found.weight[idx] / best).tolist()))
        dense: dict[str, float] = {}
        if found.query is not None and ids:
            assert self.index.dense is not None
            dense = dict(zip(ids, self.index.dense.scores_of(idx, found.query).tolist()))
        return gather(found.text, found.terms, found.expansion, head, bm25_weight=found.bm25_weight, bm25=bm25,
                      bm25_order=_best_first(found.bm25_top, index_ids), dense=dense,
                      dense_order=_best_first(found.dense_top, index_ids),
                      cosines=reranker.cosine_pair(found.text, ids, self._passage_heads) if ids else (np.zeros(0),) * 2,
                      passages=passages,
                      places=dict(zip(ids, self._named_place_prior(found.named)[idx].tolist())),
                      answers=self.passage_answers)

    def candidates(self, question: str, *, filters: SearchFilters | None = None) -> Candidates | None:
        """What the learned ranker reads of ``question``'s first candidates in the default hybrid
        search (``evaluation/fit_ranker.py`` fits the ranker on these), or None where the question
        is refused, nothing matches, or the pretrained encoder is not installed."""
        admitted = self.admit(question, top_k=1, mode="hybrid", fusion="weighted", max_top_k=MAX_TOP_K,
                              abstain=True, has_model=self.index.model is not None, degraded=self.degraded)
        reranker = self.reranker
        if isinstance(admitted, SearchResult) or reranker is None or admitted[2] != "hybrid":
            return None
        text, terms, mode, fusion = admitted
        found = self._first_stage(text, terms, filters or SearchFilters(), mode, fusion, self.settings.candidates, None)
        candidates = self._candidates(found, self._head(found, reranker), reranker)
        return candidates if candidates.segment_ids else None

    def _weighted(self, bm25_top: list[tuple[int, float]], dense_top: list[tuple[int, float]],
                  bm25_all: np.ndarray | None, query: np.ndarray | None,
                  weight: np.ndarray, weights: tuple[float, float]) -> list[tuple[str, float]]:
        """Linear fusion over the union of both candidate lists, each scored by both retrievers
        (``weight``: the filter times the jurisdiction prior, as for the candidates)."""
        union = sorted({i for i, _ in bm25_top} | {i for i, _ in dense_top})
        if not union:
            return []
        fused = self._fused_scores(np.asarray(union), bm25_all, bm25_top, query, weight, weights)
        return self._ordered(list(zip(union, fused.tolist())))

    def _fused_scores(self, idx: np.ndarray, bm25_all: np.ndarray | None, bm25_top: list[tuple[int, float]],
                      query: np.ndarray | None, weight: np.ndarray, weights: tuple[float, float]) -> np.ndarray:
        """The weighted fusion's score of the passages at index positions ``idx``: BM25 over the
        question's best BM25 and the clipped cosine, each times ``weight``."""
        fused = np.zeros(len(idx), dtype=np.float64)
        if bm25_all is not None and bm25_top:
            top = max(score for _, score in bm25_top)
            fused += weights[0] * (bm25_all[idx] * weight[idx]) / top
        if query is not None:
            assert self.index.dense is not None
            fused += weights[1] * np.clip(self.index.dense.scores_of(idx, query), 0, None) * weight[idx]
        return fused

    def _ordered(self, ranked: list[tuple[int, float]]) -> list[tuple[str, float]]:
        ids = self.index.segment_ids
        return sorted(((ids[i], score) for i, score in ranked), key=lambda item: (-item[1], item[0]))

    def _hits(self, top: list[tuple[str, float]], terms: list[str], position: dict[str, int],
              bm25_all: np.ndarray | None, query: np.ndarray | None) -> list[Hit]:
        segments = self.store.segments_by_ids([sid for sid, _ in top])
        cosines: dict[int, float] = {}
        if query is not None and self.index.dense is not None and top:
            found = [position[sid] for sid, _ in top if sid in position]
            cosines = dict(zip(found, self.index.dense.scores_of(np.asarray(found), query).tolist()))
        documents = self.store.documents_by_ids(seg["doc_id"] for seg in segments.values())
        passages = {}
        for segment_id, segment in segments.items():
            document = documents[segment["doc_id"]]
            passages[segment_id] = {
                **segment, "title": document["title"], "doc_number": document["doc_number"],
                "issuer": document["issuer"], "date": document["date"], "status": document["status"],
                "superseded_by": document["superseded_by"],
                "kind": str(document["metadata"].get("kind") or "document")}

        def scores(segment_id: str) -> dict[str, float | None]:
            i = position[segment_id]
            return {"bm25": None if bm25_all is None else _round(float(bm25_all[i])), "dense": _round(cosines.get(i))}

        return cited_hits(top, terms, passages, scores)


CITATION_FIELDS = ("doc_id", "title", "doc_number", "issuer", "date", "status", "superseded_by", "kind",
                   "section_path", "locator", "departments", "text", "start", "end")


def cited_hits(top: Sequence[tuple[str, float]], terms: Sequence[str], passages: Mapping[str, Mapping[str, Any]],
               scores: Callable[[str], dict[str, float | None]]) -> list[Hit]:
    """The hits for ``top`` (segment id, fused score), best first, whatever store they come from.

    ``passages`` holds each passage's ``CITATION_FIELDS``; a passage missing from it (deleted
    since the index was built) is left out and the ranks close up. ``scores`` gives a
    passage's per-retriever scores. Highlights and the snippet are made here, and a passage
    whose text repeats a higher hit's says so in ``same_text_as``.
    """
    hits: list[Hit] = []
    first_rank_of_text: dict[str, int] = {}
    for segment_id, score in top:
        passage = passages.get(segment_id)
        if passage is None:
            continue
        text = passage["text"]
        spans = match_spans(text, terms)
        rank = len(hits) + 1
        first_rank = first_rank_of_text.setdefault(without_whitespace(normalize_for_matching(text)), rank)
        start = int(passage["start"])
        hits.append(Hit(
            rank=rank,
            score=round(float(score), 6),
            segment_id=segment_id,
            doc_id=passage["doc_id"],
            title=passage["title"],
            doc_number=passage["doc_number"],
            issuer=passage["issuer"],
            date=passage["date"],
            status=passage["status"],
            superseded_by=passage["superseded_by"],
            kind=passage["kind"],
            section_path=passage["section_path"],
            locator=passage["locator"],
            departments=passage["departments"],
            text=text,
            snippet=snippet(text, spans),
            start=start,
            end=int(passage["end"]),
            highlights=[(start + s, start + e) for s, e in spans],
            scores=scores(segment_id),
            same_text_as=first_rank if first_rank < rank else None,
        ))
    return hits


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)

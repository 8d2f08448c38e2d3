"""BM25 as a sparse matrix precomputed at index time (the bm25s approach).

rank-bm25's ``BM25Okapi`` defines the scores: the same IDF (with negative IDFs floored at
``epsilon`` times the mean IDF), the same term-frequency saturation and length
normalisation. But where ``BM25Okapi.get_scores`` walks every document in Python for
every query term (about a second per question over 147k law articles), this module
stores each (document, term) contribution once, so a question costs one sparse column
slice and a dot product: a few milliseconds. ``tests/kb/test_bm25.py`` keeps the two
equal.

The matrix is kept as its three CSC arrays, each in its own ``.npy`` file, memory-mapped
at load: loading costs no parse, and several worker processes share one copy of the pages.
A question adds up only its terms' columns (their posting lists), never touching the
other terms' weights.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from scipy import sparse

    from kb.delta import LayeredBM25 as LayeredBM25Like

#: The matrix as one file (generations built before the arrays were kept apart).
MATRIX_FILE = "bm25_matrix.npz"
ARRAY_FILES = {"data": "bm25_data.npy", "indices": "bm25_indices.npy", "indptr": "bm25_indptr.npy"}
VOCAB_FILE = "bm25_vocabulary.json"


@dataclass(frozen=True)
class BM25Parameters:
    """Okapi BM25 parameters; ``epsilon`` floors negative IDFs as rank-bm25 does."""

    k1: float = 1.2
    b: float = 0.75
    epsilon: float = 0.25

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


class BM25Index:
    """Term-major (CSC) matrix of per-document BM25 term weights."""

    def __init__(self, matrix: sparse.csc_matrix | None, vocabulary: list[str], parameters: BM25Parameters, *,
                 arrays: tuple[np.ndarray, np.ndarray, np.ndarray, int] | None = None,
                 average_length: float | None = None, idf_floor: float | None = None) -> None:
        """From a matrix, or from its CSC arrays ``(data, indices, indptr, rows)`` (memory-mapped).

        ``average_length`` and ``idf_floor`` are the statistics the weights were made with;
        passages can be added to the index (``build(reference=...)``) only when they are known.
        """
        if matrix is not None:
            matrix.sort_indices()  # per-column row lists sorted
            arrays = (matrix.data, matrix.indices, matrix.indptr, int(matrix.shape[0]))
        assert arrays is not None
        self.data, self.indices, self.indptr, self._rows = arrays
        self._matrix = matrix
        self.vocabulary = vocabulary
        self.term_ids = {term: i for i, term in enumerate(vocabulary)}
        self.parameters = parameters
        self.average_length = average_length
        self.idf_floor = idf_floor
        #: How many passages hold each term.
        self.document_frequency = np.diff(self.indptr)

    @property
    def matrix(self) -> sparse.csc_matrix:
        """The whole matrix as scipy sees it (made on first use from the arrays)."""
        if self._matrix is None:
            from scipy import sparse  # imported only where the whole matrix is wanted

            self._matrix = sparse.csc_matrix((self.data, self.indices, self.indptr),
                                             shape=(self._rows, len(self.vocabulary)), copy=False)
        return self._matrix

    @property
    def document_count(self) -> int:
        return int(self._rows)

    @classmethod
    def build(cls, corpus: Sequence[Sequence[str]], parameters: BM25Parameters | None = None, *,
              reference: BM25Index | None = None) -> BM25Index:
        """Index ``corpus``, a list of documents given as lists of terms.

        With ``reference`` the documents are new passages added to that index
        (``kb.delta``): IDF counts the reference's passages and document frequencies with
        these, and the average length and the IDF floor are the reference's, so the two
        indexes' scores add up as if they were one (up to the statistics the added
        passages would have moved, which the next full build brings up to date).
        """
        parameters = reference.parameters if reference is not None else (parameters or BM25Parameters())
        term_ids: dict[str, int] = {}
        lengths = np.fromiter((len(doc) for doc in corpus), dtype=np.int64, count=len(corpus))
        flat = np.fromiter(
            (term_ids.setdefault(term, len(term_ids)) for doc in corpus for term in doc),
            dtype=np.int64,
            count=int(lengths.sum()),
        )
        rows = np.repeat(np.arange(len(corpus), dtype=np.int64), lengths)
        # term-major keys: sorted, they are the CSC order (by term, then passage)
        n_rows = max(len(corpus), 1)
        keys, tf = np.unique(flat * n_rows + rows, return_counts=True)
        term_index, doc_index = np.divmod(keys, n_rows)

        n_docs = len(corpus)  # for IDF: with the reference's passages
        df = np.bincount(term_index, minlength=len(term_ids)).astype(np.float64)
        if reference is not None:
            n_docs += reference.document_count
            known = np.array([reference.term_ids.get(term, -1) for term in term_ids], dtype=np.int64)
            if len(known):
                df += np.where(known >= 0, reference.document_frequency[np.maximum(known, 0)], 0)
        idf = np.log(n_docs - df + 0.5) - np.log(df + 0.5)
        if reference is not None:
            floor, avgdl = reference.idf_floor, reference.average_length
            idf[idf < 0] = floor
        else:
            floor = parameters.epsilon * (idf.sum() / len(idf)) if len(idf) else 0.0
            idf[idf < 0] = floor
            avgdl = lengths.sum() / n_docs if n_docs else 0.0
        norm = parameters.k1 * (1 - parameters.b + parameters.b * lengths / (avgdl or 1.0))
        tf = tf.astype(np.float64)
        weights = idf[term_index] * tf * (parameters.k1 + 1) / (tf + norm[doc_index])
        indptr = np.zeros(len(term_ids) + 1, dtype=np.int32 if len(keys) < 2**31 else np.int64)
        indptr[1:] = np.cumsum(np.bincount(term_index, minlength=len(term_ids)))
        vocabulary = [""] * len(term_ids)
        for term, i in term_ids.items():
            vocabulary[i] = term
        arrays = (weights.astype(np.float32), doc_index.astype(np.int32), indptr, len(corpus))
        return cls(None, vocabulary, parameters, arrays=arrays, average_length=float(avgdl), idf_floor=float(floor))

    def scores(self, query_terms: Sequence[str], extra: Mapping[str, float] | None = None,
               weights: Mapping[str, float] | None = None) -> np.ndarray:
        """BM25 score of every document; a repeated query term counts again, as in rank-bm25.

        ``extra`` adds weighted terms (query expansion): each counts ``weight`` times.
        ``weights`` scales each query term (``kb.term_weights``); unnamed terms count 1.
        """
        counts: Counter[int] = Counter()
        for term in query_terms:
            if term in self.term_ids:
                counts[self.term_ids[term]] += weights.get(term, 1.0) if weights else 1.0
        for term, weight in (extra or {}).items():
            if term in self.term_ids:
                counts[self.term_ids[term]] += weight
        scores = np.zeros(self.document_count, dtype=np.float32)
        for column, weight in counts.items():
            begin, end = int(self.indptr[column]), int(self.indptr[column + 1])
            # rows are distinct within a column: a fancy-index += adds each once
            scores[self.indices[begin:end]] += np.float32(weight) * self.data[begin:end]
        return scores

    def save(self, directory: Path) -> list[str]:
        for name, file in ARRAY_FILES.items():
            np.save(directory / file, np.ascontiguousarray(getattr(self, name)), allow_pickle=False)
        (directory / VOCAB_FILE).write_text(
            json.dumps({"parameters": self.parameters.as_dict(), "rows": self.document_count,
                        "average_length": self.average_length, "idf_floor": self.idf_floor,
                        "vocabulary": self.vocabulary}, ensure_ascii=False),
            encoding="utf-8",
        )
        return [*ARRAY_FILES.values(), VOCAB_FILE]

    @classmethod
    def load(cls, directory: Path) -> BM25Index:
        data = json.loads((directory / VOCAB_FILE).read_text(encoding="utf-8"))
        parameters = BM25Parameters(**data["parameters"])
        if not (directory / ARRAY_FILES["data"]).exists():
            from scipy import sparse

            return cls(sparse.load_npz(directory / MATRIX_FILE).tocsc(), data["vocabulary"], parameters)
        arrays = [np.load(directory / ARRAY_FILES[name], mmap_mode="r", allow_pickle=False).view(np.ndarray)
                  for name in ("data", "indices", "indptr")]
        return cls(None, data["vocabulary"], parameters, arrays=(*arrays, int(data["rows"])),
                   average_length=data.get("average_length"), idf_floor=data.get("idf_floor"))


class PassageScorer:
    """BM25 of passages handed over as their terms, with an index's statistics.

    A passage another engine returned (``kb.milvus``) scores what ``scores()`` gives it
    here: the same IDF (this index's document frequencies, floored as at build time), the
    same average length, k1 and b, the same weighted and expanded query. Only the
    statistics are read, never the posting lists.
    """

    def __init__(self, index: BM25Index | LayeredBM25Like) -> None:
        base = getattr(index, "base", index)  # a layered index scores with its base's statistics
        if base.average_length is None or base.idf_floor is None:
            raise ValueError("the index keeps no BM25 statistics (built before format 4): rebuild it")
        self.parameters = index.parameters
        self.average_length = float(base.average_length) or 1.0
        self.idf_floor = float(base.idf_floor)
        self._term_ids = index.term_ids
        self._frequency = index.document_frequency
        self._count = index.document_count

    def idf(self, term: str) -> float | None:
        """The term's IDF, or None for a term no passage holds."""
        column = self._term_ids.get(term)
        if column is None:
            return None
        frequency = float(self._frequency[column])
        value = math.log(self._count - frequency + 0.5) - math.log(frequency + 0.5)
        return self.idf_floor if value < 0 else value

    def query(self, query_terms: Sequence[str], extra: Mapping[str, float] | None = None,
              weights: Mapping[str, float] | None = None) -> dict[str, float]:
        """{term: weight x IDF} of a question, counted as ``BM25Index.scores`` counts it."""
        counts: Counter[str] = Counter()
        for term in query_terms:
            if term in self._term_ids:
                counts[term] += weights.get(term, 1.0) if weights else 1.0
        for term, weight in (extra or {}).items():
            if term in self._term_ids:
                counts[term] += weight
        return {term: weight * (self.idf(term) or 0.0) for term, weight in counts.items()}

    def score(self, passage_terms: Sequence[str], query: Mapping[str, float]) -> float:
        """BM25 of one passage (its terms in order) for a ``query()``."""
        if not query:
            return 0.0
        k1, b = self.parameters.k1, self.parameters.b
        norm = k1 * (1 - b + b * len(passage_terms) / self.average_length)
        frequency = Counter(term for term in passage_terms if term in query)
        return float(sum(query[term] * tf * (k1 + 1) / (tf + norm) for term, tf in frequency.items()))

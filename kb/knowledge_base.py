"""The knowledge base as one object: add documents, build the index, search, look up.

This is the library's front door; the CLI, the service and evaluation are thin skins over
it. Adding a document stores it (with its segments' jieba terms, so a rebuild never
re-tokenises) but does not touch the index: call :meth:`KnowledgeBase.build` once after a
batch. Searching loads the current index generation lazily and reloads it when a newer
generation appears.
"""

from __future__ import annotations

import hashlib
import json
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kb.errors import BackendUnavailable, KBError, KnowledgeBaseNotFound
from kb.jurisdiction import JURISDICTION_RULE, jurisdiction_of
from kb.increment import build_increment
from kb.index import IndexSettings, Progress, build_index, current_generation, load_index
from kb.normalize import without_whitespace
from kb.pretrained import find_pretrained
from kb.head_matrix import write_head_matrix
from kb.head_scan import write_head_scan
from kb.query_adapter import bundled_adapter
from kb.rerank import encoder_name, fill_head_vectors
from kb.expansion import load_lexicon
from kb.search import MAX_TOP_K, SearchFilters, Searcher, SearchResult, SearchSettings
from kb.sentence_encoder import load_sentence_encoder
from kb.store import DB_FILENAME, Store
from kb.tokenize import PolicyTokenizer
from kb.types import Document
from kb.versions import VersionFacts, resolve

if TYPE_CHECKING:
    from kb.milvus.publish import Publication
    from kb.milvus.searcher import MilvusSearcher

#: Below this many segments a batch is tokenised in-process (a pool costs more to start).
PARALLEL_THRESHOLD = 4000
SETTINGS_KEY = "index_settings"
SEARCH_SETTINGS_KEY = "search_settings"
#: The store's meta key naming the backend the knowledge base is served from (``backend``).
BACKEND_KEY = "backend"
#: The fingerprint of the tokenizer that produced the stored terms.
TERMS_FINGERPRINT_KEY = "terms_fingerprint"
#: The rule the stored jurisdictions were derived by (``kb.jurisdiction.JURISDICTION_RULE``).
JURISDICTION_RULE_KEY = "jurisdiction_rule"


def content_hash(text: str) -> str:
    """Identity of a document's content: NFKC text without whitespace, so the same document
    in GBK and in UTF-8, re-wrapped or re-spaced by another extractor, is recognised as the
    same (whitespace carries no meaning in Chinese text)."""
    folded = without_whitespace(unicodedata.normalize("NFKC", text))
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AddResult:
    """What happened to one document: added, updated, unchanged or duplicate (of ``same_as``)."""

    doc_id: str
    outcome: str
    segments: int
    same_as: str | None = None


_worker_tokenizer: PolicyTokenizer | None = None


def _tokenize_in_worker(texts: list[str]) -> list[str]:
    assert _worker_tokenizer is not None
    return [" ".join(_worker_tokenizer.tokenize(text)) for text in texts]


def _segment_index_text(document: Document, index: int) -> str:
    segment = document.segments[index]
    return " ".join([document.title, *segment.section_path, segment.text])


class KnowledgeBase:
    """A directory holding ``kb.sqlite`` (the truth) and ``index/`` (derived)."""

    def __init__(self, kb_dir: Path | str, *, create: bool = False, settings: IndexSettings | None = None,
                 follow_current: bool = True) -> None:
        """``follow_current=False`` keeps the generation once loaded even when ``CURRENT`` moves
        on: a server loads the new one beside it (another instance) and switches itself, so
        that no question waits for a load (see :meth:`current_generation`)."""
        self.kb_dir = Path(kb_dir)
        self.follow_current = follow_current
        if not (self.kb_dir / DB_FILENAME).exists():
            if not create:
                raise KnowledgeBaseNotFound(
                    f"{self.kb_dir} is not a knowledge base: ingest documents first (`policykb ingest PATH --kb {self.kb_dir}`)"
                )
            self.kb_dir.mkdir(parents=True, exist_ok=True)
        self.store = Store(self.kb_dir)
        if "jurisdiction" in self.store.added_columns or self.store.meta(JURISDICTION_RULE_KEY) != JURISDICTION_RULE:
            self._derive_jurisdictions()
        if settings is not None:
            self._save_settings(settings)
        elif self.store.meta(SETTINGS_KEY) is None:
            self._save_settings(IndexSettings())
        self.settings = self._load_settings()
        self.tokenizer = PolicyTokenizer(self.settings.tokenizer)
        self._searcher: Searcher | MilvusSearcher | None = None
        self._milvus_client: Any = None

    def _derive_jurisdictions(self) -> None:
        """Derive every document's jurisdiction again by today's rule (a knowledge base made
        before the column existed, or under an older rule); the index follows at the next build."""
        changed = [(doc_id, derived) for doc_id, metadata, issuer, title, stored in self.store.jurisdiction_sources()
                   if (derived := jurisdiction_of(metadata, issuer, title)) != stored]
        if changed or "jurisdiction" in self.store.added_columns:
            self.store.set_jurisdictions(changed)
        self.store.set_meta(JURISDICTION_RULE_KEY, JURISDICTION_RULE)

    # -- settings ------------------------------------------------------------------

    def _save_settings(self, settings: IndexSettings) -> None:
        self.store.set_meta(SETTINGS_KEY, json.dumps(settings.as_dict()))

    def _load_settings(self) -> IndexSettings:
        return IndexSettings.from_dict(json.loads(self.store.meta(SETTINGS_KEY) or "{}"))

    @property
    def search_settings(self) -> SearchSettings:
        value = self.store.meta(SEARCH_SETTINGS_KEY)
        return SearchSettings.from_dict(json.loads(value)) if value else SearchSettings()

    def configure_search(self, **changes: Any) -> SearchSettings:
        """Change stored search settings (place, fusion, weights); takes effect at once.

        Only the settings ever set are stored: the others follow the defaults of the version
        that answers, so an improved default reaches knowledge bases made before it.
        """
        unknown = set(changes) - set(SearchSettings().as_dict())
        if unknown:
            raise ValueError(f"unknown search setting {sorted(unknown)[0]!r}")
        explicit = {**json.loads(self.store.meta(SEARCH_SETTINGS_KEY) or "{}"), **changes}
        settings = SearchSettings.from_dict(explicit)
        every = settings.as_dict()
        self.store.set_meta(SEARCH_SETTINGS_KEY, json.dumps({key: every[key] for key in explicit}, ensure_ascii=False))
        self._searcher = None
        return settings

    # -- writing -------------------------------------------------------------------

    def tokenize_texts(self, texts: Sequence[str], *, workers: int = 1) -> list[str]:
        """Space-joined index terms of each text, in a process pool for large batches."""
        if workers > 1 and len(texts) >= PARALLEL_THRESHOLD:
            global _worker_tokenizer
            _worker_tokenizer = self.tokenizer
            self.tokenizer.tokenize("预热")  # load jieba once, before forking, so workers share it
            chunk = max(1, len(texts) // (workers * 8))
            batches = [list(texts[i : i + chunk]) for i in range(0, len(texts), chunk)]
            with get_context("fork").Pool(workers) as pool:
                return [terms for batch in pool.map(_tokenize_in_worker, batches) for terms in batch]
        return [" ".join(self.tokenizer.tokenize(text)) for text in texts]

    def tokenize_segments(self, documents: Sequence[Document], *, workers: int = 1) -> list[list[str]]:
        """Index terms of every segment (title + section path + text), per document."""
        texts = [_segment_index_text(doc, i) for doc in documents for i in range(len(doc.segments))]
        flat = self.tokenize_texts(texts, workers=workers)
        result, cursor = [], 0
        for doc in documents:
            result.append(flat[cursor : cursor + len(doc.segments)])
            cursor += len(doc.segments)
        return result

    def _refresh_terms(self, *, workers: int, progress: Progress | None) -> None:
        """Re-tokenise every stored segment when the tokenizer (settings, lexicon) has changed.

        Terms are stored so that a rebuild does not re-run jieba; this is the one place
        where they are brought up to date after a change of tokenizer.
        """
        if self.store.meta(TERMS_FINGERPRINT_KEY) == self.tokenizer.fingerprint:
            return
        rows = self.store.segment_index_texts()
        if rows:
            if progress:
                progress(f"re-tokenising {len(rows):,} segments for tokenizer {self.tokenizer.fingerprint}")
            terms = self.tokenize_texts([text for _sid, text in rows], workers=workers)
            self.store.update_terms([(sid, value) for (sid, _text), value in zip(rows, terms)])
        self.store.set_meta(TERMS_FINGERPRINT_KEY, self.tokenizer.fingerprint)

    def add_documents(self, documents: Sequence[Document], *, workers: int = 1) -> list[AddResult]:
        """Store documents (each in its own transaction); skip unchanged ones and duplicates."""
        results: list[AddResult] = []
        todo: list[tuple[Document, str]] = []
        seen: dict[str, str] = {}
        for document in documents:
            # a record without text is identified by its id and title, not by its (empty) text
            digest = content_hash(document.text if document.text.strip() else f"{document.doc_id}\n{document.title}")
            existing = self.store.doc_id_for_hash(digest) or seen.get(digest)
            if existing == document.doc_id and self._same_layout(document):
                results.append(AddResult(document.doc_id, "unchanged", len(document.segments)))
            elif existing == document.doc_id:  # same text, cut differently (a better segmenter): re-store
                seen[digest] = document.doc_id
                todo.append((document, digest))
            elif existing is not None:
                results.append(AddResult(document.doc_id, "duplicate", 0, same_as=existing))
                if not self.store.has_document(document.doc_id):
                    self.store.add_alias(document.doc_id, existing)
            else:
                seen[digest] = document.doc_id
                todo.append((document, digest))
        if self.store.counts()["segments"] == 0:
            self.store.set_meta(TERMS_FINGERPRINT_KEY, self.tokenizer.fingerprint)
        terms = self.tokenize_segments([doc for doc, _ in todo], workers=workers)
        for (document, digest), document_terms in zip(todo, terms):
            existed = self.store.has_document(document.doc_id)
            segment_hashes = [hashlib.sha256(s.text.encode("utf-8")).hexdigest()[:32] for s in document.segments]
            self.store.put_document(document, terms=document_terms, content_hash=digest,
                                    segment_hashes=segment_hashes,
                                    jurisdiction=jurisdiction_of(document.metadata, document.issuer, document.title))
            results.append(AddResult(document.doc_id, "updated" if existed else "added", len(document.segments)))
        return results

    def add_training_pairs(self, pairs: Sequence[tuple[str, str]], *, source: str) -> dict[str, int]:
        """Store (question, segment id) pairs that confirm an answer; the next build retrains on them.

        Pairs naming a segment the knowledge base does not hold are skipped and counted.
        """
        cleaned = [(q.strip(), sid) for q, sid in pairs if isinstance(q, str) and q.strip() and sid]
        known = self.store.segment_exists(sorted({sid for _, sid in cleaned}))
        kept = [(q, sid) for q, sid in cleaned if sid in known]
        if kept:
            self.store.add_training_pairs(kept, source)
        return {"added": len(kept), "unknown_segment": len(cleaned) - len(kept), "invalid": len(pairs) - len(cleaned)}

    def _same_layout(self, document: Document) -> bool:
        """Whether the stored segments of ``document`` have the same anchors and offsets."""
        stored = self.store.db.execute(
            "SELECT anchor, start, \"end\" FROM segments WHERE doc_id = ? ORDER BY ordinal", [document.doc_id]
        ).fetchall()
        return stored == [(s.anchor, s.start, s.end) for s in document.segments]

    def delete_document(self, doc_id: str) -> None:
        """Remove a document and its segments; they leave search at the next build."""
        self.store.delete_document(doc_id)

    def build(self, *, retrain: bool = False, workers: int = 1, progress: Progress | None = None,
              incremental: bool = False) -> dict[str, Any]:
        """Build a new index generation from the store and switch searching to it.

        ``incremental`` indexes only the documents changed since the last full build, beside
        it (``kb.increment``), when that gives what a full build would; otherwise, and always
        without it, everything is indexed again.
        """
        self._refresh_terms(workers=workers, progress=progress)
        self.resolve_versions()
        manifest = None
        if incremental and not retrain:
            manifest = build_increment(self.kb_dir, self.store, self.settings, progress=progress)
        if manifest is None:
            manifest = build_index(self.kb_dir, self.store, self.settings, retrain=retrain, progress=progress)
        if self.search_settings.rerank:
            manifest = {**manifest, "head_vectors": self.prepare_reranking(progress=progress)}
        self._searcher = None
        if self.backend["backend"] == "milvus":
            manifest = {**manifest, "published": self.publish().as_dict()}
        return manifest

    def prepare_reranking(self, *, progress: Progress | None = None) -> dict[str, Any]:
        """Make the pretrained vectors of the passage heads that re-ranking reads and the store
        lacks (``kb.rerank``), the matrix searches read them from (``kb.head_matrix``) and the head
        scan over them (``kb.head_scan``): ``{"encoded": n, "scanned": m, "matrix": rows}``, or
        ``{"unavailable": why}`` where the encoder is not installed (searches then answer without
        re-ranking and say they are degraded)."""
        available = find_pretrained()
        if available.files is None:
            return {"unavailable": available.reason}
        started = time.perf_counter()
        files = available.files
        name = encoder_name(files)
        encoded = fill_head_vectors(self.store, lambda: load_sentence_encoder(files), name, progress=progress)
        ids, vectors = self.store.head_vector_matrix(name)
        written = write_head_matrix(self.kb_dir, name, ids, vectors)
        adapter = bundled_adapter(name)
        scanned = write_head_scan(self.kb_dir, ids, vectors, adapter) if adapter is not None else 0
        return {"encoded": encoded, "scanned": scanned, "matrix": written,
                "seconds": round(time.perf_counter() - started, 3)}

    # -- the search backend --------------------------------------------------------

    @property
    def backend(self) -> dict[str, Any]:
        """Where searching finds passages: ``{"backend": "sqlite"}`` (this directory's index,
        the default) or ``{"backend": "milvus", "uri": ..., "alias": ...}``, recorded when the
        knowledge base was created or migrated (see ``kb.milvus``)."""
        value = self.store.meta(BACKEND_KEY)
        return json.loads(value) if value else {"backend": "sqlite"}

    def use_milvus(self, uri: str) -> dict[str, Any]:
        """Serve this knowledge base from the Milvus at ``uri`` from now on: every later build
        publishes there and searching reads from there. Returns the recorded backend."""
        from kb.milvus.publish import kb_id
        from kb.milvus.schema import alias_name

        record = {"backend": "milvus", "uri": uri, "alias": alias_name(kb_id(self))}
        self.store.set_meta(BACKEND_KEY, json.dumps(record, ensure_ascii=False))
        self._searcher = self._milvus_client = None
        return record

    def _milvus(self) -> Any:
        if self._milvus_client is None:
            from kb.milvus.publish import connect

            self._milvus_client = connect(self.backend["uri"])
        return self._milvus_client

    def publish(self, *, full: bool = False, vector_index: str = "FLAT") -> Publication:
        """Bring the Milvus backend up to the current generation: document by document, or
        (``full``, or when the model or tokenizer changed) as a new collection behind the alias."""
        from kb.milvus.publish import publish, update

        record = self.backend
        if record["backend"] != "milvus":
            raise KBError("this knowledge base is served from SQLite: `policykb migrate --to milvus` first")
        def missed(error: Exception) -> BackendUnavailable:
            return BackendUnavailable(f"the index is built here but Milvus at {record['uri']} did not take it "
                                      f"({error}); `policykb publish` tries again")

        try:
            client = self._milvus()  # says so in one line where Milvus support is not installed
        except BackendUnavailable as error:
            raise missed(error) from error
        from pymilvus import MilvusException

        write = publish if full else update
        try:
            return write(self, record["uri"], vector_index=vector_index, client=client)
        except MilvusException as error:
            raise missed(error) from error

    def resolve_versions(self, *, today: date | None = None) -> int:
        """Work out versions, supersession and expiry from the documents' own dates.

        Returns how many documents changed state; the index picks the change up at the
        next build (which calls this first).
        """
        facts = [VersionFacts(doc_id, title, number, day, metadata, declared, jurisdiction)
                 for doc_id, title, number, day, metadata, declared, jurisdiction in self.store.version_sources()]
        resolved = resolve(facts, today=today)
        return self.store.set_validity([{"doc_id": doc_id, **v.__dict__} for doc_id, v in resolved.items()])

    def is_stale(self) -> bool:
        """True when documents changed since the current index was built (or none exists)."""
        directory = current_generation(self.kb_dir)
        if directory is None or not (directory / "manifest.json").exists():
            return True
        manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
        return manifest.get("data_version") != self.store.data_version()

    # -- reading -------------------------------------------------------------------

    @property
    def searcher(self) -> Searcher | MilvusSearcher:
        """The searcher of the current generation, on the recorded backend."""
        if self._searcher is not None and not self.follow_current:
            return self._searcher
        directory = current_generation(self.kb_dir)
        if self._searcher is None or directory is None or self._searcher.index.directory != directory:
            index = load_index(self.kb_dir, expected_fingerprint=self.tokenizer.fingerprint)
            local = Searcher(index, self.store, self.tokenizer, self.search_settings, lexicon=load_lexicon(self.kb_dir))
            backend = self.backend
            if backend["backend"] == "milvus":
                from kb.milvus.searcher import MilvusSearcher

                self._searcher = MilvusSearcher(self._milvus(), backend["alias"], local)
            else:
                self._searcher = local
        return self._searcher

    def local_searcher(self) -> Searcher:
        """The searcher over this directory's own index, whatever the backend (on Milvus, the
        query side of the Milvus searcher)."""
        searcher = self.searcher
        return searcher.local if not isinstance(searcher, Searcher) else searcher

    def warm_up(self) -> str:
        """Load the current generation and fit what searching needs, so the first question is
        fast; returns the generation's name."""
        searcher = self.searcher
        searcher.prepare()
        return searcher.index.generation

    def manifest(self) -> dict[str, Any]:
        return self.searcher.index.manifest

    def current_generation(self) -> str | None:
        """The generation ``CURRENT`` names now (perhaps not the one loaded); reads one small file."""
        directory = current_generation(self.kb_dir)
        return directory.name if directory is not None else None

    def served(self) -> tuple[str | None, dict[str, Any] | None, str | None]:
        """(generation, manifest, degraded) of the index already loaded, or Nones.

        Loads nothing and checks nothing on disk: a liveness probe or a metrics scrape reads
        it while a search runs, without waiting for one (reading one attribute is atomic).
        """
        searcher = self._searcher
        if searcher is None:
            return None, None, None
        index = searcher.index
        return index.generation, index.manifest, searcher.degraded

    def search(self, question: str, *, top_k: int = 5, filters: SearchFilters | None = None,
               mode: str = "hybrid", candidates: int | None = None, rrf_k: int | None = None,
               fusion: str | None = None, max_top_k: int = MAX_TOP_K) -> SearchResult:
        return self.searcher.search(question, top_k=top_k, filters=filters, mode=mode, candidates=candidates,
                                    rrf_k=rrf_k, fusion=fusion, max_top_k=max_top_k)

    def documents(self, *, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        return self.store.list_documents(limit=limit, offset=offset)

    def document(self, doc_id: str) -> dict[str, Any]:
        """A document by its id, or by the id of a duplicate of it that was not stored."""
        return self.store.document(doc_id)

    def canonical_id(self, doc_id: str) -> str:
        """The stored document's id for ``doc_id`` (itself unless it named a duplicate)."""
        return self.store.canonical_id(doc_id)

    def segments_of(self, doc_id: str) -> list[dict[str, Any]]:
        self.store.document(doc_id)  # raises DocumentNotFound
        return self.store.segments_of(doc_id)

    def segment(self, segment_id: str) -> dict[str, Any]:
        return self.store.segment(segment_id)

    def stats(self) -> dict[str, Any]:
        counts = self.store.counts()
        directory = current_generation(self.kb_dir)
        return {"kb_dir": str(self.kb_dir), **counts, "data_version": self.store.data_version(),
                "generation": directory.name if directory else None, "stale": self.is_stale(),
                "backend": self.backend}

    def close(self) -> None:
        self.store.close()
        if self._milvus_client is not None:
            self._milvus_client.close()
            self._milvus_client = None


def open_kb(kb_dir: Path | str) -> KnowledgeBase:
    """Open an existing knowledge base for reading and writing."""
    return KnowledgeBase(kb_dir)


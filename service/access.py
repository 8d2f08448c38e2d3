"""Serialised access to one open ``KnowledgeBase``, shared by every request thread.

Routes are plain ``def`` functions, so FastAPI runs them in its thread pool; but the engine is
not built for concurrent callers: one SQLite connection (opened with
``check_same_thread=False``) serves every query, the searcher is swapped lazily when a new
index generation appears, and the embedding model keeps per-call state. One lock around each
call is the simple correct answer; a search takes milliseconds, so requests queue briefly
instead of racing. The methods also assemble the response dictionaries the engine does not
return in one call (a document with its segments, a segment with its document's facts).

A new index generation (built by the service's own job or by ``policykb build``) is not loaded
under that lock: :meth:`SerializedKB.follow` loads it into a second ``KnowledgeBase`` while the
first keeps answering, then swaps them, so questions never queue behind a load. The served
``KnowledgeBase`` is therefore opened with ``follow_current=False``.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from kb import KnowledgeBase, SearchFilters, SearchResult

#: The columns of a segment that the API shows (the store also keeps ordinal, anchor, hash).
SEGMENT_FIELDS = ("segment_id", "locator", "section_path", "departments", "start", "end", "text")
DOCUMENT_FIELDS = ("doc_id", "title", "doc_number", "issuer", "date", "status", "source", "segment_count")
CITATION_FIELDS = ("doc_id", "title", "doc_number", "issuer", "date", "status")

log = logging.getLogger(__name__)

#: Questions look at ``index/CURRENT`` (a file read) at most this often, not once each.
FOLLOW_CHECK_SECONDS = 0.1
#: Asked of a freshly loaded generation before it serves, so the first caller does not pay
#: for what the first search fits (filter masks, caches).
WARM_UP_QUESTION = "社会保险费怎么缴纳"


class SerializedKB:
    """A ``KnowledgeBase`` whose every use holds one lock."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.lock = threading.Lock()
        self._loading = threading.Lock()
        self._unloadable: str | None = None
        self._checked_at = 0.0

    def follow(self, *, wait: bool = False) -> str | None:
        """Serve the generation ``CURRENT`` names, if it is not the one loaded; returns the
        generation served now (None while none is loaded).

        The new generation is loaded and prepared in a fresh ``KnowledgeBase`` without the
        lock, then swapped in. Without ``wait`` the load runs on a thread of its own and the
        caller carries on with the loaded generation (a question never waits for a load);
        with ``wait`` the caller loads it (or waits for the load under way) and raises what
        loading raised. A generation that cannot be loaded is logged once and not tried again;
        the loaded one keeps answering (compare the result with :meth:`current_generation`).
        """
        loaded, current = self.kb.served()[0], self.kb.current_generation()
        if loaded is None or current is None or current in (loaded, self._unloadable):
            return loaded
        if not wait:
            if self._loading.acquire(blocking=False):
                threading.Thread(target=self._load_then_release, name="policykb-follow", daemon=True).start()
            return loaded
        with self._loading:
            return self._load()

    def _load_then_release(self) -> None:
        try:
            self._load()
        except Exception:  # logged by _load; the loaded generation keeps answering
            pass
        finally:
            self._loading.release()

    def current_generation(self) -> str | None:
        """The generation ``CURRENT`` names now (perhaps not yet the one answering)."""
        return self.kb.current_generation()

    def _load(self) -> str | None:
        """Load what ``CURRENT`` names beside the served generation and swap; hold ``_loading``."""
        current = self.kb.current_generation()
        if current is None or current == self.kb.served()[0]:  # loaded meanwhile
            return self.kb.served()[0]
        fresh = KnowledgeBase(self.kb.kb_dir, follow_current=False)
        try:
            generation = fresh.warm_up()
            fresh.search(WARM_UP_QUESTION, top_k=10)
        except Exception:
            fresh.close()
            self._unloadable = current
            log.exception("index %s cannot be loaded; still serving %s", current, self.kb.served()[0])
            raise
        self.replace(fresh).close()
        return generation

    def warm_up(self) -> str:
        """Load the current index generation (and its model) now, so the first question is fast.

        Raises ``kb.IndexNotBuilt`` / ``kb.IndexMismatch`` / ``kb.EmbeddingModelError`` when
        there is nothing servable; the caller decides whether that is fatal.
        """
        with self.lock:
            return self.kb.warm_up()

    def health(self) -> dict[str, Any]:
        """Counts and the generation being served; raises as :meth:`warm_up` when not ready."""
        self._follow_quietly(wait=True)  # readiness: say the generation that will answer next
        with self.lock:
            generation = self.kb.manifest()["generation"]  # loads the searcher if none is loaded
            stats = self.kb.stats()
        return {"status": "ok", "documents": stats["documents"], "segments": stats["segments"],
                "generation": generation}

    def served(self) -> tuple[str | None, dict[str, Any] | None, str | None]:
        """(generation, manifest, degraded) of the loaded index, without the lock: liveness and
        metrics must not wait behind a search."""
        return self.kb.served()

    def _follow_quietly(self, *, wait: bool = False) -> None:
        try:
            self.follow(wait=wait)
        except Exception:  # logged by _load; the loaded generation answers
            pass

    def search(self, question: str, *, top_k: int, filters: SearchFilters, mode: str) -> SearchResult:
        now = time.monotonic()
        if now - self._checked_at >= FOLLOW_CHECK_SECONDS:  # a racing second check is harmless
            self._checked_at = now
            self._follow_quietly()
        with self.lock:
            return self.kb.search(question, top_k=top_k, filters=filters, mode=mode)

    def documents(self, *, limit: int, offset: int) -> dict[str, Any]:
        with self.lock:
            rows = self.kb.documents(limit=limit, offset=offset)
            # kb has no count of documents alone; stats() has it (with a few cheap extras).
            total = self.kb.stats()["documents"]
        documents = [{field: row.get(field) for field in DOCUMENT_FIELDS} for row in rows]
        return {"documents": documents, "limit": limit, "offset": offset, "total": total}

    def document(self, doc_id: str) -> dict[str, Any]:
        with self.lock:
            document = self.kb.document(doc_id)
            segments = self.kb.segments_of(doc_id)
        detail = {field: document.get(field) for field in DOCUMENT_FIELDS}
        detail["text"] = document["text"]
        detail["metadata"] = document.get("metadata") or {}
        detail["segments"] = [{field: segment[field] for field in SEGMENT_FIELDS} for segment in segments]
        return detail

    def segment(self, segment_id: str) -> dict[str, Any]:
        with self.lock:
            segment = self.kb.segment(segment_id)
            document = self.kb.document(segment["doc_id"])
        detail = {field: segment[field] for field in SEGMENT_FIELDS}
        detail.update({field: document.get(field) for field in CITATION_FIELDS})
        return detail

    def delete_document(self, doc_id: str) -> None:
        """Delete a document (raises ``kb.DocumentNotFound``); under the lock, so no search is
        between reading a passage and reading its document when both disappear."""
        with self.lock:
            self.kb.delete_document(doc_id)

    def replace(self, kb: KnowledgeBase) -> KnowledgeBase:
        """Serve ``kb`` from now on and return the one it replaces (for the caller to close).

        A rebuild loads and prepares the new generation in its own ``KnowledgeBase`` while
        this one keeps answering; the switch is then one assignment under the lock instead of
        a load that every question waits for.
        """
        with self.lock:
            previous, self.kb = self.kb, kb
        return previous

    def close(self) -> None:
        with self.lock:
            self.kb.close()

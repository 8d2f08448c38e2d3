"""The derived, self-describing index: BM25 matrix, embeddings and a manifest.

Each build writes a fresh ``index/generation-N/`` from the SQLite store, writes the
manifest last (format version, data version, counts, tokenizer fingerprint, BM25
parameters, model id and dimension, a SHA-256 per file), then switches the ``CURRENT``
pointer with an atomic rename. Readers load whatever ``CURRENT`` names and verify it;
the previous generation is kept for rollback. No pickle anywhere.

Arrays are plain ``.npy`` files, memory-mapped when loaded (``kb.bm25``,
``kb.dense_index``). A generation may also be *layered*: the last full build's files under
``base/`` (hard links) and the documents changed since under ``delta/`` (``kb.delta``,
built by ``kb.increment``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kb.abstain import examples_digest, fit_off_topic, known_examples
from kb.bm25 import BM25Index, BM25Parameters
from kb.delta import BASE_DIR, DELTA_DIR, LIVE_FILE, VALIDITY_FILE, LayeredBM25, LayeredDense, apply_validity
from kb.dense_index import DenseIndex
from kb.embedding import KB_MODEL, EmbeddingModel, TrainingSettings, load_model, read_model_card, train_kb_model
from kb.errors import EmbeddingModelError, IndexMismatch, IndexNotBuilt
from kb.familiarity import question_vectors
from kb.store import IndexRow, Store
from kb.tokenize import PolicyTokenizer, TokenizerSettings

log = logging.getLogger(__name__)

#: 4: BM25 arrays in .npy files, the dense inverted file, documents.json, layered generations (kb.delta).
FORMAT_VERSION = 4
#: Formats this code reads (3: one BM25 matrix file, exact dense search, no layers).
READABLE_FORMATS = (3, 4)
INDEX_DIR = "index"
MODELS_DIR = "models"
POINTER = "CURRENT"
MANIFEST = "manifest.json"
#: Passages as JSON lists (deltas, and generations of format 3).
SEGMENTS_FILE = "segments.json"
#: A full build's passage ids (the rest of what a passage needs is its document's, in documents.json).
SEGMENT_IDS_FILE = "segment_ids.npy"
#: The confirmed questions embedded by the generation's model (``kb.familiarity``).
FAMILIAR_FILE = "familiar_questions.npy"
#: Which documents (and which stored version of each) a full generation was built from,
#: and the document of each passage: what the next build compares the store with (``kb.increment``).
DOCUMENTS_FILE = "documents.json"
#: The off-topic classifier fitted at build time (``kb.abstain``), with the digest of its examples.
OFF_TOPIC_FILE = "off_topic.json"
SEGMENT_DOC_FILE = "segment_doc.npy"
#: Retrain the knowledge-base model when the corpus has grown by more than this share.
RETRAIN_GROWTH = 0.25

Progress = Callable[[str], None]


@dataclass(frozen=True)
class IndexSettings:
    """Everything that decides how the index is built; kept in the store and the manifest."""

    tokenizer: TokenizerSettings = field(default_factory=TokenizerSettings)
    bm25: BM25Parameters = field(default_factory=BM25Parameters)
    model: str = KB_MODEL
    dense: bool = True
    training: TrainingSettings = field(default_factory=TrainingSettings)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IndexSettings:
        return cls(
            tokenizer=TokenizerSettings(**data.get("tokenizer", {})),
            bm25=BM25Parameters(**data.get("bm25", {})),
            model=data.get("model", KB_MODEL),
            dense=data.get("dense", True),
            training=TrainingSettings(**data.get("training", {})),
        )


@dataclass
class LoadedIndex:
    """One verified generation in memory."""

    directory: Path
    manifest: dict[str, Any]
    bm25: BM25Index | LayeredBM25
    segment_ids: list[str]
    doc_ids: list[str]
    statuses: list[str]
    jurisdictions: list[str | None]
    effective: list[int]
    expires: list[int]
    superseded_from: list[int]
    dense: DenseIndex | LayeredDense | None
    model: EmbeddingModel | None
    degraded: str | None = None  # why part of the index is not in use (e.g. the model is missing)
    familiar: np.ndarray | None = None  # the confirmed questions' vectors, when the build made them
    live: np.ndarray | None = None  # False for base passages a delta replaced or removed (kb.delta)
    off_topic: dict[str, Any] | None = None  # the fitted off-topic classifier's state, when the build made it

    @property
    def generation(self) -> str:
        return self.directory.name


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def current_generation(kb_dir: Path) -> Path | None:
    pointer = kb_dir / INDEX_DIR / POINTER
    if not pointer.exists():
        return None
    return kb_dir / INDEX_DIR / pointer.read_text(encoding="utf-8").strip()


def _next_generation_name(index_dir: Path) -> str:
    numbers = [int(p.name.split("-")[1]) for p in index_dir.glob("generation-*") if p.name.split("-")[1].isdigit()]
    return f"generation-{max(numbers, default=0) + 1:06d}"


def _supervised_triplets(pairs: list[tuple[str, str]], tokenizer: PolicyTokenizer, bm25: BM25Index,
                         rows: list[IndexRow], corpus: list[list[str]], seed: int) -> list[tuple[str, str, str]]:
    """(question, gold passage, hard negative) from the stored pairs; negatives from BM25's top 30."""
    by_question: dict[str, list[int]] = {}
    position = {row.segment_id: i for i, row in enumerate(rows)}
    for question, segment_id in pairs:
        if segment_id in position:
            by_question.setdefault(question, []).append(position[segment_id])
    rng = random.Random(seed)
    triplets = []
    for question, gold in by_question.items():
        terms = tokenizer.tokenize_query(question)
        if not terms:
            continue
        scores = bm25.scores(terms)
        top = np.argpartition(-scores, min(30, len(scores) - 1))[:30]
        negatives = [int(i) for i in top[np.argsort(-scores[top])] if int(i) not in gold and scores[i] > 0]
        for positive in gold:
            negative = negatives[rng.randrange(min(10, len(negatives)))] if negatives else rng.randrange(len(rows))
            triplets.append((" ".join(terms), " ".join(corpus[positive]), " ".join(corpus[negative])))
    return triplets


def _kb_model(kb_dir: Path, store: Store, tokenizer: PolicyTokenizer, bm25: BM25Index, rows: list[IndexRow],
              corpus: list[list[str]], settings: IndexSettings, retrain: bool, progress: Progress) -> EmbeddingModel:
    """Reuse the knowledge-base model unless it is missing, stale or retraining is asked for."""
    models_dir = kb_dir / MODELS_DIR
    current = models_dir / KB_MODEL
    card = read_model_card(current)
    pairs = store.training_pairs()
    pair_count = len(pairs)
    stale = card is None or retrain or card.get("settings") != asdict(settings.training)
    if card and not stale:
        trained = card.get("trained_on_segments", 0)
        stale = (len(corpus) > trained * (1 + RETRAIN_GROWTH) or len(corpus) < trained * (1 - RETRAIN_GROWTH)
                 or card.get("pairs_in_store", 0) != pair_count)
    if stale:
        triplets = _supervised_triplets(pairs, tokenizer, bm25, rows, corpus, settings.training.seed)
        progress(f"training the embedding model on {len(corpus):,} segments and {len(triplets):,} question pairs")
        scratch = models_dir / f".{KB_MODEL}.training"
        shutil.rmtree(scratch, ignore_errors=True)
        train_kb_model(corpus, scratch, settings.training, supervised=triplets, card={"pairs_in_store": pair_count},
                       progress=progress)
        if current.exists():
            shutil.rmtree(current)
        os.replace(scratch, current)
    return load_model(str(current))


def _snapshot_kb_model(kb_dir: Path, model_id: str) -> str:
    """``models/<model id>``: the current knowledge-base model, frozen for the generation built with it.

    ``models/kb-static`` is retrained in place; a generation that named it would load a
    later model after a rollback, mismatch its vectors and answer from BM25 alone. Each
    generation names a snapshot instead (hard links: no copy of the weights), so a kept
    generation is complete and ``CURRENT`` may point back at it.
    """
    models_dir = kb_dir / MODELS_DIR
    snapshot = models_dir / model_id
    if not snapshot.exists():
        scratch = models_dir / f".{model_id}.snapshot"
        shutil.rmtree(scratch, ignore_errors=True)
        try:
            shutil.copytree(models_dir / KB_MODEL, scratch, copy_function=os.link)
        except OSError:  # a file system without hard links
            shutil.rmtree(scratch, ignore_errors=True)
            shutil.copytree(models_dir / KB_MODEL, scratch)
        os.replace(scratch, snapshot)
    return f"{MODELS_DIR}/{model_id}"


def _prune_model_snapshots(kb_dir: Path, kept: list[Path]) -> None:
    """Remove model snapshots no kept generation names (``models/kb-static`` itself stays)."""
    named = set()
    for generation in kept:
        try:
            embedding = json.loads((generation / MANIFEST).read_text(encoding="utf-8")).get("embedding") or {}
        except (OSError, ValueError):
            return  # cannot tell what is in use: remove nothing
        named.add(Path(str(embedding.get("model", ""))).name)
    models_dir = kb_dir / MODELS_DIR
    for snapshot in [*models_dir.glob(f"{KB_MODEL}-*"), *models_dir.glob(".*.snapshot")]:
        if snapshot.name not in named:  # an unfinished snapshot (".….snapshot") is never named
            shutil.rmtree(snapshot, ignore_errors=True)


def embed_rows(store: Store, model: EmbeddingModel, rows: list[IndexRow], corpus: list[list[str]],
           progress: Progress) -> np.ndarray:
    """Vectors for every row, reusing cached ones by (model, embedded input)."""
    inputs = [model.prepare(row.embed_text, terms) for row, terms in zip(rows, corpus)]
    keys = [hashlib.sha1(text.encode("utf-8")).hexdigest() for text in inputs]
    cached = store.cached_vectors(model.model_id, keys, model.dim)
    missing = sorted({k: i for i, k in enumerate(keys) if k not in cached}.items())
    if missing:
        progress(f"embedding {len(missing):,} segments ({len(rows) - len(missing):,} cached)")
        fresh = model.encode([inputs[i] for _k, i in missing])
        new = {k: fresh[j] for j, (k, _i) in enumerate(missing)}
        store.cache_vectors(model.model_id, new)
        cached.update(new)
    vectors = np.zeros((len(rows), model.dim), dtype=np.float32)
    for i, key in enumerate(keys):
        vectors[i] = cached[key]
    return vectors


def build_index(kb_dir: Path, store: Store, settings: IndexSettings, *, retrain: bool = False,
                progress: Progress | None = None) -> dict[str, Any]:
    """Build a new generation from the store, switch to it, and return its manifest."""
    progress = progress or (lambda message: log.info(message))
    started = time.time()
    data_version = store.data_version()
    rows = store.index_rows()
    corpus = [row.terms.split(" ") if row.terms else [] for row in rows]
    tokenizer = PolicyTokenizer(settings.tokenizer)
    progress(f"indexing {len(rows):,} segments with BM25")
    bm25 = BM25Index.build(corpus, settings.bm25)

    model: EmbeddingModel | None = None
    vectors = None
    if settings.dense and rows:
        if settings.model == KB_MODEL:
            model = _kb_model(kb_dir, store, tokenizer, bm25, rows, corpus, settings, retrain, progress)
        else:
            model = load_model(settings.model, kb_models_dir=kb_dir / MODELS_DIR)
        vectors = embed_rows(store, model, rows, corpus, progress)

    scratch = new_scratch(kb_dir)
    name = scratch.name.removesuffix(".building")
    files = bm25.save(scratch)
    files.extend(_write_passages(scratch, rows, store.document_versions()))
    pairs = store.training_pairs()
    files.extend(_write_off_topic(scratch, store))
    if vectors is not None:
        progress(f"indexing {len(vectors):,} vectors for dense search")
        files.extend(DenseIndex.build(vectors, seed=settings.training.seed).save(scratch))
        questions = sorted({question for question, _ in pairs})
        if model is not None and questions:
            progress(f"embedding {len(questions):,} confirmed questions")
            np.save(scratch / FAMILIAR_FILE, question_vectors(questions, model, tokenizer), allow_pickle=False)
            files.append(FAMILIAR_FILE)
    model_path = None
    if model is not None:
        model_path = _snapshot_kb_model(kb_dir, model.model_id) if settings.model == KB_MODEL else settings.model
    manifest = {
        "format_version": FORMAT_VERSION,
        "generation": name,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "build_seconds": None,
        "data_version": data_version,
        "counts": {"segments": len(rows), "documents": len(set(r.doc_id for r in rows)),
                   "terms": len(bm25.vocabulary)},
        "corpus_checksum": hashlib.sha256("\n".join(r.content_hash for r in rows).encode()).hexdigest(),
        "settings": settings.as_dict(),
        "tokenizer_fingerprint": tokenizer.fingerprint,
        "embedding": None if model is None else {"model": model_path, "model_id": model.model_id,
                                                 "input": model.input_kind, "dimension": model.dim,
                                                 "supervised": model.supervised},
        "files": file_checksums(scratch, files),
    }
    manifest["pairs"] = len(pairs)
    manifest["build_seconds"] = round(time.time() - started, 3)
    publish(kb_dir, scratch, manifest, files)
    return manifest


def write_segments(directory: Path, rows: list[IndexRow]) -> list[str]:
    """The passages' ids, documents, validity and places, in index order."""
    (directory / SEGMENTS_FILE).write_text(
        json.dumps({"segment_ids": [r.segment_id for r in rows], "doc_ids": [r.doc_id for r in rows],
                    "statuses": [r.status for r in rows], "jurisdictions": [r.jurisdiction for r in rows],
                    "effective": [r.effective for r in rows], "expires": [r.expires for r in rows],
                    "superseded_from": [r.superseded_from for r in rows]},
                   ensure_ascii=False),
        encoding="utf-8",
    )
    return [SEGMENTS_FILE]


def _write_off_topic(directory: Path, store: Store) -> list[str]:
    known = known_examples(store.known_questions())
    state = {"examples": examples_digest(known), **fit_off_topic(known).state()}
    (directory / OFF_TOPIC_FILE).write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
    return [OFF_TOPIC_FILE]


def _write_passages(directory: Path, rows: list[IndexRow], versions: dict[str, float]) -> list[str]:
    """The passage ids (``segment_ids.npy``), each passage's document (``segment_doc.npy``) and
    the documents' stored versions, validity and places (``documents.json``).

    Arrays and a small JSON file rather than one list per passage in JSON: loading parses
    nothing large, and a 17 MB ``json.loads`` held the interpreter from the questions being
    answered while a server made a new generation ready.
    """
    doc_ids = sorted(versions)
    number = {doc_id: i for i, doc_id in enumerate(doc_ids)}
    facts: dict[str, list[Any]] = {key: [None] * len(doc_ids) for key in
                                   ("statuses", "jurisdictions", "effective", "expires", "superseded_from")}
    for row in rows:
        i = number[row.doc_id]
        facts["statuses"][i], facts["jurisdictions"][i] = row.status, row.jurisdiction
        facts["effective"][i], facts["expires"][i] = row.effective, row.expires
        facts["superseded_from"][i] = row.superseded_from
    for key in ("effective", "expires", "superseded_from"):  # documents without passages
        facts[key] = [0 if value is None else value for value in facts[key]]
    (directory / DOCUMENTS_FILE).write_text(
        json.dumps({"doc_ids": doc_ids, "versions": [versions[d] for d in doc_ids], **facts}, ensure_ascii=False),
        encoding="utf-8")
    np.save(directory / SEGMENT_DOC_FILE, np.array([number[r.doc_id] for r in rows], dtype=np.int32),
            allow_pickle=False)
    np.save(directory / SEGMENT_IDS_FILE, np.array([r.segment_id for r in rows], dtype=str), allow_pickle=False)
    return [DOCUMENTS_FILE, SEGMENT_DOC_FILE, SEGMENT_IDS_FILE]


def _read_passages(directory: Path) -> dict[str, list[Any]]:
    """What :func:`_write_passages` wrote, one array per field with one entry per passage."""
    if not (directory / SEGMENT_IDS_FILE).exists():  # format 3
        return json.loads((directory / SEGMENTS_FILE).read_text(encoding="utf-8"))
    documents = json.loads((directory / DOCUMENTS_FILE).read_text(encoding="utf-8"))
    of = np.load(directory / SEGMENT_DOC_FILE, allow_pickle=False)
    # lists, as the JSON layout gave (each made by one short call into numpy)
    passages: dict[str, list[Any]] = {
        "segment_ids": np.load(directory / SEGMENT_IDS_FILE, allow_pickle=False).tolist()}
    for key in ("doc_ids", "statuses", "jurisdictions", "effective", "expires", "superseded_from"):
        passages[key] = np.array(documents[key], dtype=object)[of].tolist()
    return passages


def new_scratch(kb_dir: Path) -> Path:
    """An empty ``index/generation-N.building`` for the next generation (leftovers of an
    interrupted build removed)."""
    index_dir = kb_dir / INDEX_DIR
    index_dir.mkdir(parents=True, exist_ok=True)
    for leftover in index_dir.glob("*.building"):
        shutil.rmtree(leftover, ignore_errors=True)
    scratch = index_dir / f"{_next_generation_name(index_dir)}.building"
    scratch.mkdir()
    return scratch


def file_checksums(directory: Path, files: list[str]) -> dict[str, str]:
    return {f: _sha256(directory / f) for f in files}


def publish(kb_dir: Path, scratch: Path, manifest: dict[str, Any], files: list[str]) -> None:
    """Write the manifest last, make everything durable, rename the scratch directory into
    place and switch ``CURRENT`` to it atomically; keep one previous generation."""
    index_dir = kb_dir / INDEX_DIR
    name = manifest["generation"]
    (scratch / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    for f in [*files, MANIFEST]:
        with (scratch / f).open("rb") as handle:
            os.fsync(handle.fileno())
    for sub in {Path(f).parent for f in files} - {Path(".")}:
        _fsync_dir(scratch / sub)
    os.replace(scratch, index_dir / name)
    pointer_tmp = index_dir / f"{POINTER}.tmp"
    pointer_tmp.write_text(name, encoding="utf-8")
    os.replace(pointer_tmp, index_dir / POINTER)
    _fsync_dir(index_dir)
    generations = sorted(p for p in index_dir.glob("generation-*") if not p.name.endswith(".building"))
    for old in generations[:-2]:  # keep the previous generation for rollback
        shutil.rmtree(old, ignore_errors=True)
    _prune_model_snapshots(kb_dir, generations[-2:])


_MODELS: dict[tuple[str, str], EmbeddingModel] = {}
_MODELS_KEPT = 2


def _model_for(name_or_path: str, model_id: str) -> EmbeddingModel:
    """The embedding model a generation names, loaded once per process while generations
    keep naming it: a server loads each new generation beside the one answering, and
    reloading the same weights (a quarter of a second) held up the answers meanwhile."""
    key = (name_or_path, model_id)
    model = _MODELS.get(key)
    if model is None:
        model = load_model(name_or_path)
        if model.model_id == model_id:
            while len(_MODELS) >= _MODELS_KEPT:
                _MODELS.pop(next(iter(_MODELS)))
            _MODELS[key] = model
    return model


def load_index(kb_dir: Path, *, expected_fingerprint: str | None = None, verify: bool = True,
               load_dense: bool = True) -> LoadedIndex:
    """Load and verify the current generation; refuse a mismatch with a clear error."""
    directory = current_generation(kb_dir)
    if directory is None:
        raise IndexNotBuilt(f"{kb_dir} has no index yet: run `policykb build --kb {kb_dir}`")
    manifest_path = directory / MANIFEST
    if not manifest_path.exists():
        raise IndexMismatch(f"{directory} has no manifest: rebuild with `policykb build`")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if manifest.get("format_version") not in READABLE_FORMATS:
        raise IndexMismatch(
            f"index format {manifest.get('format_version')} is not {FORMAT_VERSION}: rebuild with `policykb build`"
        )
    if expected_fingerprint and manifest["tokenizer_fingerprint"] != expected_fingerprint:
        raise IndexMismatch("the index was built with another tokenizer or lexicon: rebuild with `policykb build`")
    if verify:
        for name, checksum in manifest["files"].items():
            path = directory / name
            if not path.exists() or _sha256(path) != checksum:
                raise IndexMismatch(f"index file {name} is missing or damaged: rebuild with `policykb build`")
    layered = manifest.get("base") is not None
    base_dir = directory / BASE_DIR if layered else directory
    bm25: BM25Index | LayeredBM25 = BM25Index.load(base_dir)
    segments = _read_passages(base_dir)
    dense: DenseIndex | LayeredDense | None = None
    model = familiar = None
    embedding = manifest.get("embedding")
    degraded = None
    if embedding and load_dense:
        dense = DenseIndex.load(base_dir)
        if (base_dir / FAMILIAR_FILE).exists():
            familiar = np.load(base_dir / FAMILIAR_FILE, allow_pickle=False)
        model_ref = embedding["model"]
        model_path = kb_dir / model_ref if (kb_dir / model_ref).exists() else Path(model_ref)
        try:
            model = _model_for(str(model_path) if model_path.exists() else model_ref, embedding["model_id"])
            if model.model_id != embedding["model_id"] or model.dim != dense.dim:
                raise EmbeddingModelError(
                    f"embedding model {model.model_id} does not match the stored vectors ({embedding['model_id']})")
        except EmbeddingModelError as error:
            # answering from BM25 alone beats not answering: serve, say so, and log how to repair
            log.error("%s; answering with BM25 only until `policykb build` repairs it", error)
            dense = model = familiar = None
            degraded = "embedding_model_unavailable"
    if bm25.document_count != len(segments["segment_ids"]):
        raise IndexMismatch("BM25 matrix and segment list disagree: rebuild with `policykb build`")
    off_topic = None
    if (base_dir / OFF_TOPIC_FILE).exists():
        off_topic = json.loads((base_dir / OFF_TOPIC_FILE).read_text(encoding="utf-8"))
    live = None
    if layered:
        bm25, dense, live = _add_delta(directory, segments, bm25, dense)
    return LoadedIndex(directory, manifest, bm25, segments["segment_ids"], segments["doc_ids"],
                       segments["statuses"], segments["jurisdictions"], segments["effective"], segments["expires"],
                       segments["superseded_from"], dense, model, degraded, familiar, live, off_topic)


def _add_delta(directory: Path, segments: dict[str, list], bm25: BM25Index,
               dense: DenseIndex | None) -> tuple[BM25Index | LayeredBM25, DenseIndex | LayeredDense | None, np.ndarray]:
    """Join a layered generation's delta to its base (loaded): passages, validity, indexes."""
    delta_dir = directory / DELTA_DIR
    added = json.loads((delta_dir / SEGMENTS_FILE).read_text(encoding="utf-8"))
    live = np.load(directory / LIVE_FILE, allow_pickle=False)
    if len(live) != bm25.document_count:
        raise IndexMismatch("the delta's passage mask does not fit its base: rebuild with `policykb build`")
    for key, values in added.items():
        segments[key] = [*segments[key], *values]
    apply_validity(segments, json.loads((directory / VALIDITY_FILE).read_text(encoding="utf-8")))
    if added["segment_ids"]:
        bm25 = LayeredBM25(bm25, BM25Index.load(delta_dir))
        if dense is not None:
            dense = LayeredDense(dense, DenseIndex.load(delta_dir))
    return bm25, dense, np.concatenate([live, np.ones(len(added["segment_ids"]), dtype=bool)])

"""Sentence embeddings: a model trained offline on the knowledge base itself, or any
sentence-transformers model named by the user.

No model can be downloaded where policykb runs, so the default model is made from the
knowledge base's own segments: a ``StaticEmbedding`` (one vector per jieba term, mean
pooled) whose term vectors start from a truncated SVD of the segment x term TF-IDF matrix
(latent semantic analysis, which relates terms that occur in the same passages) and are
then tuned with self-supervised pairs (a sentence -> the rest of its passage) and the
MultipleNegativesRankingLoss. It is saved as a normal sentence-transformers model
directory, so ``SentenceTransformer(path)`` loads it anywhere. Its input is text already
cut into jieba terms and joined by spaces (a WordLevel tokenizer splits on whitespace).

Citizens and statutes use different words for the same thing (遛狗 / 饲养的动物), and a
term's one vector has to serve both sides. So every term that occurs in a confirmed
question also gets a question offset: a second vocabulary entry, ``[Q]`` + the term,
starting at zero and trained only by the question pairs. A question is read as its terms
plus their offsets (:meth:`EmbeddingModel.prepare_query`), a passage as its terms alone:
the offsets may move a question towards the statutes' wording without moving every
passage that shares the word. Over the full shared corpus (README): STARD test hybrid
Recall@10 .569 -> .589, Recall@100 .788 -> .806; epidemic local_dev answer@5 .810 -> .828.

sentence-transformers (and so torch) is imported only inside the functions that need it:
``import kb`` stays light for the CLI and for tests that do not embed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from kb.errors import EmbeddingModelError
from kb.static_encoder import StaticEncoder, is_static_embedding
from kb.truncated_svd import top_right_singular_vectors

log = logging.getLogger(__name__)

#: The name that selects the model trained on the knowledge base itself.
KB_MODEL = "kb-static"
MODEL_CARD = "policykb_model.json"
UNKNOWN = "[UNK]"
#: Prefix of a question offset's vocabulary entry (the tokenizer never yields brackets in a term).
QUESTION_OFFSET = "[Q]"


@dataclass(frozen=True)
class TrainingSettings:
    """How the knowledge-base model is trained; stored in its model card."""

    dim: int = 256
    max_vocabulary: int = 120_000
    min_df: int = 2
    max_pairs: int = 40_000
    epochs: int = 1
    supervised_epochs: int = 3
    batch_size: int = 256
    learning_rate: float = 0.05
    seed: int = 13
    question_offsets: bool = True  # terms of confirmed questions get a question-side offset


class EmbeddingModel:
    """A loaded sentence-transformers model and what its input must look like."""

    def __init__(self, model: Any, *, model_id: str, input_kind: str, vocabulary: frozenset[str] | None,
                 supervised: int = 0, offset_terms: frozenset[str] = frozenset()) -> None:
        self.model = model
        self.supervised = supervised  # question pairs the model was trained on (0: passages only)
        self.model_id = model_id
        self.input_kind = input_kind  # "terms": space-joined jieba terms; "text": raw text
        self.vocabulary = vocabulary
        self.offset_terms = offset_terms  # terms with a question offset (see the module docstring)
        measure = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dim = int(measure())

    def prepare(self, text: str, terms: Sequence[str]) -> str:
        """The string this model wants for a passage or question."""
        if self.input_kind == "terms":
            assert self.vocabulary is not None
            return " ".join(t for t in terms if t in self.vocabulary)
        return text

    def prepare_query(self, text: str, terms: Sequence[str]) -> str:
        """The string this model wants for a question: its terms followed by their offsets."""
        if self.input_kind == "terms" and self.offset_terms:
            return _with_offsets(self.prepare(text, terms).split(), self.offset_terms)
        return self.prepare(text, terms)

    def encode(self, inputs: Sequence[str], *, batch_size: int = 512) -> np.ndarray:
        """Unit-length float32 vectors, one row per input; an empty input gives zeros."""
        if not inputs:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            list(inputs), batch_size=batch_size, convert_to_numpy=True,
            normalize_embeddings=True, show_progress_bar=False,
        )
        return np.nan_to_num(np.asarray(vectors, dtype=np.float32))


def load_model(name_or_path: str, *, kb_models_dir: Path | None = None) -> EmbeddingModel:
    """Load a model by path or name; a directory with a policykb model card is a KB model."""
    path = Path(name_or_path)
    if not path.exists() and kb_models_dir is not None and (kb_models_dir / name_or_path).exists():
        path = kb_models_dir / name_or_path
    card_path = path / MODEL_CARD
    if card_path.exists() and is_static_embedding(path):
        return _kb_model(StaticEncoder(path), json.loads(card_path.read_text(encoding="utf-8")))
    from sentence_transformers import SentenceTransformer

    try:
        model = SentenceTransformer(str(path) if path.exists() else name_or_path, device="cpu")
    except Exception as error:  # the library raises many kinds (OSError, ValueError, HTTP errors)
        raise EmbeddingModelError(
            f"cannot load embedding model {name_or_path!r}: {error}. Give a local model "
            f"directory, or use the default model trained on the knowledge base ({KB_MODEL!r})."
        ) from error
    if card_path.exists():
        return _kb_model(model, json.loads(card_path.read_text(encoding="utf-8")), model[0].tokenizer)
    return EmbeddingModel(model, model_id=name_or_path, input_kind="text", vocabulary=None)


def _kb_model(model: Any, card: dict[str, Any], tokenizer: Any = None) -> EmbeddingModel:
    """A knowledge-base model: its vocabulary and question offsets read off its tokenizer."""
    entries = frozenset((tokenizer or model.tokenizer).get_vocab()) - {UNKNOWN}
    offsets = frozenset(e[len(QUESTION_OFFSET):] for e in entries if e.startswith(QUESTION_OFFSET))
    vocabulary = frozenset(e for e in entries if not e.startswith(QUESTION_OFFSET))
    return EmbeddingModel(model, model_id=card["model_id"], input_kind="terms", vocabulary=vocabulary,
                          supervised=int(card.get("supervised", 0)), offset_terms=offsets)


def read_model_card(path: Path) -> dict[str, Any] | None:
    card_path = path / MODEL_CARD
    if not card_path.exists():
        return None
    return json.loads(card_path.read_text(encoding="utf-8"))


def _choose_vocabulary(corpus: Sequence[Sequence[str]], settings: TrainingSettings) -> list[str]:
    df: dict[str, int] = {}
    for doc in corpus:
        for term in set(doc):
            df[term] = df.get(term, 0) + 1
    min_df = settings.min_df if len(corpus) >= 1000 else 1
    kept = [t for t, n in df.items() if n >= min_df]
    kept.sort(key=lambda t: (-df[t], t))
    return kept[: settings.max_vocabulary]


def _svd_term_vectors(rows: Sequence[Sequence[str]], vocabulary: list[str], dim: int, seed: int) -> np.ndarray:
    """Term vectors from a truncated SVD of the row x term TF-IDF matrix, scaled by IDF."""
    index = {t: i for i, t in enumerate(vocabulary)}
    data, indices, indptr = [], [], [0]
    for row in rows:
        counts: dict[int, int] = {}
        for term in row:
            i = index.get(term)
            if i is not None:
                counts[i] = counts.get(i, 0) + 1
        indices.extend(counts.keys())
        data.extend(counts.values())
        indptr.append(len(indices))
    matrix = sparse.csr_matrix(
        (np.log1p(np.asarray(data, dtype=np.float64)), indices, indptr), shape=(len(rows), len(vocabulary))
    )
    df = np.bincount(matrix.indices, minlength=len(vocabulary))
    idf = np.log((1 + len(rows)) / (1 + df)) + 1
    matrix = matrix.multiply(idf).tocsr()
    norms = np.sqrt(matrix.multiply(matrix).sum(axis=1)).A.ravel()
    norms[norms == 0] = 1
    matrix = sparse.diags(1 / norms) @ matrix
    k = max(1, min(dim, min(matrix.shape) - 1))
    _s, vt = top_right_singular_vectors(matrix, k, seed)
    vectors = vt.T * idf[:, None]
    vectors /= np.abs(vectors).max() or 1.0
    if k < dim:  # tiny corpora: pad so the model always has the configured dimension
        vectors = np.hstack([vectors, np.zeros((len(vocabulary), dim - k))])
    return np.ascontiguousarray(vectors, dtype=np.float32)


def _with_offsets(terms: Sequence[str], offset_terms: frozenset[str]) -> str:
    """A question's terms, each followed by its question offset where it has one."""
    return " ".join(f"{t} {QUESTION_OFFSET}{t}" if t in offset_terms else t for t in terms)


def _self_supervised_pairs(corpus: Sequence[Sequence[str]], settings: TrainingSettings) -> list[tuple[str, str]]:
    """Inverse-cloze pairs: a short run of a passage's terms -> the rest of that passage.

    A run of about a quarter of the passage (5 to 30 terms) plays a short question; the
    remainder plays the passage that answers it.
    """
    rng = random.Random(settings.seed)
    pairs = []
    order = list(range(len(corpus)))
    rng.shuffle(order)
    for i in order:
        terms = list(corpus[i])
        if len(terms) < 12:
            continue
        length = min(30, max(5, len(terms) // 4))
        begin = rng.randrange(len(terms) - length + 1)
        anchor = terms[begin : begin + length]
        rest = terms[:begin] + terms[begin + length :]
        pairs.append((" ".join(anchor), " ".join(rest)))
        if len(pairs) >= settings.max_pairs:
            break
    return pairs


def _fit(model: Any, module: Any, examples: list[tuple[str, ...]], *, epochs: int, settings: TrainingSettings,
         stage: str, progress: Callable[[str], None] | None) -> None:
    """MultipleNegativesRankingLoss over ``examples`` (anchor, positive[, hard negative]).

    ``progress`` hears about every quarter of an epoch: training takes tens of seconds over a
    large corpus, and a silent terminal looks like a hung one.
    """
    import torch
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    loss = MultipleNegativesRankingLoss(model)
    # the fused kernel is Adam's own arithmetic in one pass (equal to the default to a few ulps):
    # the default walks the whole term matrix several times a step, half of the training time
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.learning_rate, fused=True)
    rng = random.Random(settings.seed)
    model.train()
    starts = range(0, len(examples), settings.batch_size)
    report_every = max(1, len(starts) // 4)
    for epoch in range(1, epochs + 1):
        rng.shuffle(examples)
        for batch_number, start in enumerate(starts, start=1):
            batch = examples[start : start + settings.batch_size]
            if len(batch) < 2:
                continue
            features = [module.preprocess([example[column] for example in batch]) for column in range(len(batch[0]))]
            value = loss(features, None)
            optimizer.zero_grad()
            value.backward()
            optimizer.step()
            if progress and (batch_number % report_every == 0 or batch_number == len(starts)):
                progress(f"{stage}: epoch {epoch}/{epochs}, {min(start + settings.batch_size, len(examples)):,}"
                         f"/{len(examples):,} examples")
    model.eval()


def train_kb_model(corpus: Sequence[Sequence[str]], out_dir: Path, settings: TrainingSettings | None = None,
                   *, supervised: Sequence[tuple[str, str, str]] = (), card: Mapping[str, Any] | None = None,
                   progress: Callable[[str], None] | None = None) -> Path:
    """Train the knowledge-base model on ``corpus`` (segments as term lists) into ``out_dir``.

    ``supervised`` holds (question, answering passage, hard negative) triplets as
    space-joined terms: real questions with their confirmed passages and a passage BM25
    ranks high but is wrong. They matter far more than the self-supervised pairs. ``card``
    adds the caller's own facts to the model card (e.g. what to compare to decide staleness).
    """
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import WhitespaceSplit

    settings = settings or TrainingSettings()
    torch.manual_seed(settings.seed)
    vocabulary = _choose_vocabulary(corpus, settings)
    if not vocabulary:
        raise EmbeddingModelError("the knowledge base has no terms to train an embedding model on")
    triplets = [tuple(t) for t in supervised if t[0] and t[1]]
    known = set(vocabulary)
    offset_terms = frozenset(term for t in triplets for term in t[0].split() if term in known) \
        if settings.question_offsets and settings.supervised_epochs > 0 else frozenset()
    entries = [*vocabulary, *(QUESTION_OFFSET + term for term in sorted(offset_terms))]
    weights = _svd_term_vectors(corpus, vocabulary, settings.dim, settings.seed)
    weights = np.vstack([np.zeros((1, settings.dim), dtype=np.float32), weights,  # row 0: [UNK]
                         np.zeros((len(offset_terms), settings.dim), dtype=np.float32)])  # offsets start at 0
    tokenizer = Tokenizer(WordLevel({UNKNOWN: 0, **{t: i + 1 for i, t in enumerate(entries)}}, unk_token=UNKNOWN))
    tokenizer.pre_tokenizer = WhitespaceSplit()
    module = StaticEmbedding(tokenizer, embedding_weights=weights)
    model = SentenceTransformer(modules=[module], device="cpu")

    pairs: list[tuple[str, ...]] = list(_self_supervised_pairs(corpus, settings)) if settings.epochs > 0 else []
    if pairs:
        _fit(model, module, pairs, epochs=settings.epochs, settings=settings, stage="passages",
             progress=progress)
    if triplets and settings.supervised_epochs > 0:
        questions_read = [(_with_offsets(t[0].split(), offset_terms), *t[1:]) for t in triplets]
        _fit(model, module, questions_read, epochs=settings.supervised_epochs, settings=settings,
             stage="question pairs", progress=progress)
    with torch.no_grad():
        module.embedding.weight[0].zero_()
        module.embedding.weight.data = module.embedding.weight.data.contiguous()  # safetensors refuses views

    digest = hashlib.sha256(module.embedding.weight.detach().numpy().tobytes()).hexdigest()[:12]
    model_id = f"{KB_MODEL}-{digest}"
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save(str(out_dir))
    facts = {**(card or {}), "model_id": model_id, "input": "terms", "vocabulary_size": len(vocabulary),
             "trained_on_segments": len(corpus), "pairs": len(pairs), "supervised": len(triplets),
             "question_offsets": len(offset_terms), "settings": asdict(settings)}
    (out_dir / MODEL_CARD).write_text(json.dumps(facts, ensure_ascii=False, indent=2), encoding="utf-8")
    log.info("trained %s on %d segments, %d pairs, %d supervised", model_id, len(corpus), len(pairs), len(triplets))
    return out_dir

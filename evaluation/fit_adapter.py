"""Fit the query adapter (``kb.query_adapter``) on question sets over a knowledge base.

The bundled ``kb/resources/query_adapter.npz`` was fitted over the knowledge base of all of
../shared/corpus (place 常熟市,苏州市,江苏省) on the training splits the rankers learn from,
held-out splits untouched::

    python -m evaluation.fit_adapter --kb var/full \\
        --set evaluation/sets/hotline-laws:train \\
        --set var/eval/suite/stard/train --set var/eval/suite/epidemic/local_train \\
        --set evaluation/sets/hotline-local:train \\
        --out kb/resources/query_adapter.npz --folds var/adapter-folds

Each question's answering passages are its gold passages, or for answer-text gold the
passages of its gold document that hold the answer. ``W`` starts as the identity and is fitted
by softmax cross-entropy of the question's adapted vector against the head vectors of *every*
passage of the knowledge base (the right passage must beat all 155k, not a sampled few), with
a pull towards the identity so that what the encoder knew of other questions is kept. Each
set is drawn equally often: STARD's 929 civil-dispute questions would otherwise teach the map
to read every question as a lawsuit (fitted on the questions as they come, the hotline-over-laws
test split lost 3 of 84 in the top 10 where the balanced one lost none).

The file also carries the head scan's basis (``kb.head_scan``): the first 96 right singular
vectors of the head vectors, in which the scan reads every passage.

``--folds DIR`` also writes two cross-fitted adapters (``fold0.npz``, ``fold1.npz``), each fitted
on the questions of the other fold (``zlib.crc32(question) % 2``): ``fit_ranker
--adapter-folds DIR`` reads its training questions through the adapter that never saw them, as
the ranker will meet new questions.
"""

from __future__ import annotations

import argparse
import sys
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from evaluation.relevance import contains_answer
from evaluation.sets import load_set
from kb import KnowledgeBase, QueryAdapter

EPOCHS = 6
LEARNING_RATE = 1e-3
TEMPERATURE = 0.05
IDENTITY_PULL = 1e-3
BATCH = 64
FOLDS = 2
#: Dimensions of the head scan (``kb.head_scan``): over the full corpus, the first 60 passages by
#: 96 dimensions hold 98.9% of the exact first 30 (64: 93.6%, 128: 99.6%) at a quarter of the cost.
SCAN_DIMENSIONS = 96


class CrossFitted:
    """Adapters by fold: a question goes through the one fitted without its fold."""

    def __init__(self, adapters: Sequence[QueryAdapter]) -> None:
        self.adapters = list(adapters)
        self.dim = self.adapters[0].dim
        self.encoder = self.adapters[0].encoder

    def apply(self, question: str, vector: np.ndarray) -> np.ndarray:
        return self.adapters[fold_of(question, len(self.adapters))].apply(question, vector)

    @classmethod
    def load(cls, directory: Path) -> CrossFitted:
        return cls([QueryAdapter.load(directory / f"fold{k}.npz") for k in range(FOLDS)])


def fold_of(question: str, folds: int = FOLDS) -> int:
    return zlib.crc32(question.encode("utf-8")) % folds


def head_matrix(knowledge_base: KnowledgeBase, encoder: str) -> tuple[list[str], np.ndarray]:
    """Every stored head vector made by ``encoder`` (segment ids, unit rows)."""
    ids, matrix = knowledge_base.store.head_vector_matrix(encoder)
    if not ids:
        raise ValueError("the knowledge base keeps no head vectors of this encoder: build it with re-ranking on")
    return ids, matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def answering_passages(knowledge_base: KnowledgeBase, set_specs: Sequence[str],
                       position: dict[str, int]) -> list[tuple[str, list[int], int]]:
    """(question, positions of its answering passages, set number) of every question with one."""
    found = []
    for number, spec in enumerate(set_specs):
        path, _, split = spec.partition(":")
        question_set = load_set(Path(path))
        for question in (question_set.only_split(split) if split else question_set).questions:
            gold = []
            for key, grade in question.relevant.items():
                if grade <= 0:
                    continue
                if key in position:
                    gold.append(position[key])
                elif question.answer:
                    gold += [position[segment["segment_id"]] for segment in knowledge_base.segments_of(key)
                             if segment["segment_id"] in position and contains_answer(segment["text"], question.answer)]
            if gold:
                found.append((question.text, gold, number))
        print(f"{spec}: {sum(1 for *_, n in found if n == number)} questions with an answering passage",
              file=sys.stderr)
    if not found:
        raise ValueError("no question of these sets has an answering passage here: nothing to learn from")
    return found


def fit(questions: np.ndarray, gold: Sequence[Sequence[int]], sets: Sequence[int], passages: np.ndarray,
        *, seed: int = 0) -> np.ndarray:
    """``W`` for unit question vectors ``questions`` whose answers are the rows ``gold`` of
    ``passages``; each set in ``sets`` drawn equally often."""
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    dim = passages.shape[1]
    identity = torch.eye(dim)
    weights = torch.nn.Parameter(identity.clone())
    optimizer = torch.optim.Adam([weights], lr=LEARNING_RATE)
    heads, asked = torch.from_numpy(passages), torch.from_numpy(questions)
    members = [np.flatnonzero(np.asarray(sets) == s) for s in sorted(set(sets))]
    share = len(gold) // len(members)
    for _ in range(EPOCHS):
        drawn = rng.permutation(np.concatenate([rng.choice(m, share) for m in members]))
        for start in range(0, len(drawn), BATCH):
            batch = drawn[start : start + BATCH]
            adapted = asked[batch] @ weights
            adapted = adapted / adapted.norm(dim=1, keepdim=True)
            target = torch.tensor([gold[i][rng.integers(len(gold[i]))] for i in batch])
            loss = torch.nn.functional.cross_entropy(adapted @ heads.T / TEMPERATURE, target) \
                + IDENTITY_PULL * ((weights - identity) ** 2).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return weights.detach().numpy()


def scan_basis(passages: np.ndarray, dimensions: int = SCAN_DIMENSIONS) -> np.ndarray:
    """The head vectors' first ``dimensions`` right singular vectors (not centred: inner
    products are what the scan approximates)."""
    sample = passages[:: max(1, len(passages) // 50_000)]
    _, _, right = np.linalg.svd(sample, full_matrices=False)
    return right[:dimensions].T.astype(np.float32)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kb", type=Path, required=True, help="knowledge base whose head vectors the map aims at")
    parser.add_argument("--set", dest="sets", action="append", required=True,
                        help="question set, PATH or PATH:SPLIT (repeat)")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--folds", type=Path, help="also write cross-fitted adapters here, for fit_ranker")
    args = parser.parse_args(argv)
    knowledge_base = KnowledgeBase(args.kb)
    try:
        reranker = knowledge_base.searcher.reranker
        if reranker is None or reranker.name is None:
            parser.error("the pretrained encoder is not installed: the adapter maps its vectors")
        name = reranker.name
        ids, passages = head_matrix(knowledge_base, name)
        found = answering_passages(knowledge_base, args.sets, {s: i for i, s in enumerate(ids)})
        vectors = reranker.question_vectors([text for text, _, _ in found])
    except ValueError as error:
        parser.error(str(error))
    finally:
        knowledge_base.close()
    gold = [g for _, g, _ in found]
    sets = [n for *_, n in found]
    QueryAdapter(fit(vectors, gold, sets, passages), name, scan_basis(passages)).save(args.out)
    print(f"{len(found)} questions, {len(ids)} passages -> {args.out}", file=sys.stderr)
    if args.folds is not None:
        args.folds.mkdir(parents=True, exist_ok=True)
        folds = np.asarray([fold_of(text) for text, _, _ in found])
        for k in range(FOLDS):
            keep = np.flatnonzero(folds != k)
            matrix = fit(vectors[keep], [gold[i] for i in keep], [sets[i] for i in keep], passages)
            QueryAdapter(matrix, name).save(args.folds / f"fold{k}.npz")
        print(f"cross-fitted adapters -> {args.folds}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

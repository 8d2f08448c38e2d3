"""Fit the learned ranker (``kb.ranker``) on question sets over one knowledge base.

The shipped ``kb/resources/ranker.txt`` was made over a fresh knowledge base of all of
../shared/corpus (place 常熟市,苏州市,江苏省) from the training splits only, held-out
splits untouched::

    python -m evaluation.fit_ranker --kb var/full \\
        --set evaluation/sets/hotline-laws:train \\
        --set var/eval/suite/stard/train --set var/eval/suite/epidemic/local_train \\
        --out kb/resources/ranker.txt

(the STARD and epidemic splits as ``policykb eval suite`` converts them into its cache). Each
question contributes its first candidates as the search makes them (the same code reads them
at search time, so training and serving cannot drift apart); a candidate is relevant as
evaluation judges it (gold passage, gold document, or the answer's text in the gold
document). Questions with no relevant candidate teach nothing and are skipped.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from evaluation.relevance import is_relevant
from evaluation.sets import load_set
from kb import RANKER_FEATURES, KnowledgeBase, candidate_features

#: LambdaMART settings chosen by five-fold cross-validation on the training splits (Recall@10
#: and MRR@10 of each set); small trees and large leaves, as the sets are small.
PARAMETERS = {"objective": "lambdarank", "n_estimators": 300, "learning_rate": 0.03, "num_leaves": 7,
              "min_child_samples": 200, "subsample": 0.8, "subsample_freq": 1, "colsample_bytree": 0.8,
              "lambdarank_truncation_level": 20, "label_gain": [0, 1], "random_state": 7, "verbose": -1}


def training_rows(knowledge_base: KnowledgeBase, set_specs: Sequence[str]) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """(features, labels, group sizes) of every question with a relevant candidate."""
    searcher = knowledge_base.searcher
    features, labels, groups = [], [], []
    for spec in set_specs:
        path, _, split = spec.partition(":")
        question_set = load_set(Path(path))
        questions = question_set.only_split(split).questions if split else question_set.questions
        used = 0
        for question in questions:
            candidates = searcher.candidates(question.text)
            if candidates is None:
                continue
            texts = dict(zip(candidates.segment_ids, candidates.texts))
            relevant = [int(is_relevant(question, sid, doc, texts))
                        for sid, doc in zip(candidates.segment_ids, candidates.doc_ids)]
            if not any(relevant):
                continue
            features.append(candidate_features(candidates))
            labels.append(np.asarray(relevant))
            groups.append(len(relevant))
            used += 1
        print(f"{spec}: {used} of {len(questions)} questions have a relevant candidate", file=sys.stderr)
    return np.vstack(features), np.concatenate(labels), groups


def fit(features: np.ndarray, labels: np.ndarray, groups: list[int]):  # -> lightgbm.LGBMRanker
    import lightgbm

    ranker = lightgbm.LGBMRanker(**PARAMETERS)
    ranker.fit(features, labels, group=groups, feature_name=list(RANKER_FEATURES))
    return ranker


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kb", required=True, type=Path, help="knowledge base directory (fresh: no question pairs)")
    parser.add_argument("--set", dest="sets", action="append", required=True,
                        help="question set, PATH or PATH:SPLIT (repeat)")
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    knowledge_base = KnowledgeBase(args.kb)
    if knowledge_base.searcher.reranker is None:
        parser.error("the pretrained encoder is not installed: the ranker reads its cosines")
    features, labels, groups = training_rows(knowledge_base, args.sets)
    ranker = fit(features, labels, groups)
    ranker.booster_.save_model(str(args.out))
    print(f"{len(groups)} questions, {len(labels)} candidates -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

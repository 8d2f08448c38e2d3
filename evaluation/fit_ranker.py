"""Fit the learned rankers (``kb.ranker``) on question sets over knowledge bases.

Both shipped models were made over knowledge bases of all of ../shared/corpus (place
常熟市,苏州市,江苏省) from the training splits only, held-out splits untouched.
``kb/resources/ranker.txt``, for a model that knows the passages alone, from the fresh
knowledge base (what ``policykb ingest`` builds)::

    python -m evaluation.fit_ranker --kb var/full \\
        --set evaluation/sets/hotline-laws:train \\
        --set var/eval/suite/stard/train --set var/eval/suite/epidemic/local_train \\
        --set evaluation/sets/hotline-local:train --adapter-folds var/adapter-folds \\
        --out kb/resources/ranker.txt

(the STARD and epidemic splits as ``policykb eval suite`` converts them into its cache;
hotline-local is the one set whose answers are the served place's own document).
``kb/resources/ranker-trained.txt``, for a model trained on question pairs, is cross-fitted:
a trained model has seen its own pairs' questions, so its candidates for them are better than
for any new question, and a ranker fitted on them would trust it too far. The training
questions (STARD train, epidemic local_train) are split in two by ``zlib.crc32(id) % 2``; two
copies of the fresh knowledge base are trained (``policykb train``, as the README's quality
section does) on the pairs of one half each, and each is asked the other half and the
hotline-over-laws and local training splits, with ``--plan`` naming them::

    [{"kb": "var/fold0", "sets": ["evaluation/sets/hotline-laws:train", "var/eval/stard-fold1",
                                  "var/eval/epidemic-fold1", "evaluation/sets/hotline-local:train"]},
     {"kb": "var/fold1", "sets": ["evaluation/sets/hotline-laws:train", "var/eval/stard-fold0",
                                  "var/eval/epidemic-fold0", "evaluation/sets/hotline-local:train"]}]

Both were fitted with ``--adapter-folds`` (the folds ``evaluation/fit_adapter.py --folds`` wrote with
the bundled adapter): the adapted cosine of a training question, and the head scan's candidates
for it, come from a query adapter that never saw it. The knowledge bases need their head scan
(made by every build with re-ranking on).

Each question contributes its first candidates as the search makes them (the same code reads them
at search time, so training and serving cannot drift apart); a candidate is relevant as
evaluation judges it (gold passage, gold document, or the answer's text in the gold
document). Questions with no relevant candidate teach nothing and are skipped.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from evaluation.fit_adapter import CrossFitted
from evaluation.relevance import is_relevant
from evaluation.sets import load_set
from kb import RANKER_FEATURES, KnowledgeBase, candidate_features

#: LambdaMART settings chosen by cross-validation on the training splits (Recall@10 and MRR@10
#: of each set; more or larger trees were no better); small trees and large leaves, as the
#: sets are small.
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
    if not groups:
        raise ValueError("no question of these sets has a relevant candidate: nothing to learn from")
    return np.vstack(features), np.concatenate(labels), groups


def fit(features: np.ndarray, labels: np.ndarray, groups: list[int]):  # -> lightgbm.LGBMRanker
    import lightgbm

    ranker = lightgbm.LGBMRanker(**PARAMETERS)
    ranker.fit(features, labels, group=groups, feature_name=list(RANKER_FEATURES))
    return ranker


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kb", type=Path, help="knowledge base directory the --set questions are asked of")
    parser.add_argument("--set", dest="sets", action="append", default=[],
                        help="question set, PATH or PATH:SPLIT (repeat)")
    parser.add_argument("--plan", type=Path,
                        help='JSON list of {"kb": DIR, "sets": [PATH[:SPLIT], ...]}: rows from several knowledge '
                             "bases (instead of --kb/--set)")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--adapter-folds", type=Path,
                        help="cross-fitted query adapters (fit_adapter --folds): each training question is "
                             "read through the one fitted without it")
    args = parser.parse_args(argv)
    if args.plan is not None:
        plan = json.loads(args.plan.read_text(encoding="utf-8"))
    elif args.kb is not None and args.sets:
        plan = [{"kb": str(args.kb), "sets": args.sets}]
    else:
        parser.error("give --kb with --set, or --plan")
    parts = []
    for step in plan:
        knowledge_base = KnowledgeBase(Path(step["kb"]))
        reranker = knowledge_base.searcher.reranker
        if reranker is None:
            parser.error("the pretrained encoder is not installed: the ranker reads its cosines")
        if args.adapter_folds is not None:
            reranker.adapter = CrossFitted.load(args.adapter_folds)
        print(f"{step['kb']}:", file=sys.stderr)
        try:
            parts.append(training_rows(knowledge_base, step["sets"]))
        except ValueError as error:  # a malformed set, or one that teaches nothing
            parser.error(f"{step['kb']}: {error}")
        finally:
            knowledge_base.close()
    features = np.vstack([part[0] for part in parts])
    labels = np.concatenate([part[1] for part in parts])
    groups = [size for part in parts for size in part[2]]
    ranker = fit(features, labels, groups)
    ranker.booster_.save_model(str(args.out))
    print(f"{len(groups)} questions, {len(labels)} candidates -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

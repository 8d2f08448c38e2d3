"""The questions a run asks: BEIR ``queries.jsonl`` (``text``) or ``{"question"}`` lines."""

from __future__ import annotations

import json
from pathlib import Path

from evaluation.bench.errors import BenchError

#: Asked when no file is named: the bundled hotline questions (about the seed 公文).
DEFAULT_QUESTIONS = Path(__file__).resolve().parents[1] / "sets" / "hotline" / "queries.jsonl"


def load_questions(path: Path | None, limit: int | None = None) -> list[str]:
    """The questions of ``path`` (the bundled hotline set when None), at most ``limit``."""
    path = path or DEFAULT_QUESTIONS
    questions: list[str] = []
    try:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                except json.JSONDecodeError:
                    raise BenchError(f"{path}:{number}: not a JSON line") from None
                text = item.get("question") or item.get("text") if isinstance(item, dict) else None
                if isinstance(text, str) and text.strip():
                    questions.append(text)
                if limit is not None and len(questions) >= limit:
                    break
    except OSError as error:
        raise BenchError(f"cannot read questions from {path}: {error.strerror or error}") from None
    if not questions:
        raise BenchError(f"{path} holds no question (lines with a \"text\" or \"question\" field)")
    return questions

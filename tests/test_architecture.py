"""Keep the dependency arrows of STYLE.md true: kb builds on nothing of ours; ingest, service
and evaluation import only ``kb``'s exports and never each other; only policykb imports all."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
OURS = {"kb", "ingest", "service", "evaluation", "policykb"}
ALLOWED = {"kb": set(), "ingest": {"kb"}, "service": {"kb"}, "evaluation": {"kb"},
           "policykb": {"kb", "ingest", "service", "evaluation"}}


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_packages_import_only_what_they_may(package: str) -> None:
    for path in (REPO / package).rglob("*.py"):
        for name in _imports(path):
            top = name.split(".")[0]
            if top in OURS and top != package:
                assert top in ALLOWED[package], f"{path.relative_to(REPO)} imports {name}"
                if package != "policykb":
                    assert name == "kb", f"{path.relative_to(REPO)} must import kb's exports, not {name}"


def test_fastapi_only_in_service() -> None:
    for package in OURS - {"service"}:
        for path in (REPO / package).rglob("*.py"):
            assert not any(n.split(".")[0] in {"fastapi", "starlette"} for n in _imports(path)), path


def test_importing_kb_does_not_import_torch() -> None:
    code = "import sys, kb, ingest; assert 'torch' not in sys.modules and 'sentence_transformers' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)

"""A private copy of a knowledge base to benchmark, so the measured one is never written.

The server writes its query log and API keys beside the knowledge base and the index-switch
figure writes a new generation, but the full knowledge bases that are benchmarked must stay
as they are. The copy is cheap: ``kb.sqlite`` is copied (SQLite writes it in place; through SQLite's backup,
so what is still in its write-ahead log comes along), while
index and model files, which are only ever read and replaced whole, are hard links (copies
where the file system refuses links). ``index/CURRENT`` is copied so a switch in the copy
leaves the original pointing where it did.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

from evaluation.bench.errors import BenchError

STORE = "kb.sqlite"
#: Written by the service beside the knowledge base; never carried into the copy.
LEFT_OUT = {"activity.sqlite", "keys.sqlite", "uploads"}


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _copy_store(source: Path, target: Path) -> None:
    """Copy an SQLite file through SQLite's backup, so rows still in its write-ahead log (a
    process that has it open) come along; the source is opened read-only."""
    with closing(sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)) as reader, \
            closing(sqlite3.connect(target)) as writer:
        reader.backup(writer, pages=4096)


def _link_tree(source: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for entry in source.iterdir():
        if entry.is_dir():
            _link_tree(entry, target / entry.name)
        elif entry.name == "CURRENT":
            shutil.copy2(entry, target / entry.name)
        elif entry.is_file():
            _link_or_copy(entry, target / entry.name)


def copy_kb(kb_dir: Path, target: Path) -> Path:
    """Copy the knowledge base in ``kb_dir`` to ``target`` (which must not exist); return ``target``."""
    if not (kb_dir / STORE).is_file():
        raise BenchError(f"{kb_dir} is not a knowledge base (no {STORE}): ingest documents first")
    target.mkdir(parents=True)
    for entry in kb_dir.iterdir():
        if entry.name in LEFT_OUT or entry.name.startswith(f"{STORE}-"):
            continue
        if entry.name == STORE:
            _copy_store(entry, target / STORE)
        elif entry.is_dir():
            _link_tree(entry, target / entry.name)
        elif entry.is_file():
            shutil.copy2(entry, target / entry.name)
    return target


def publish_copy_of_current(kb_dir: Path) -> str:
    """Publish a new generation that is the current one under a new name; return its name.

    What a rebuild looks like to a running server (``CURRENT`` names a generation it has not
    loaded) without the minutes a build takes: the files are links, the manifest is rewritten
    with the new name, and ``CURRENT`` is replaced atomically, as a build replaces it.
    """
    index = kb_dir / "index"
    current = (index / "CURRENT").read_text(encoding="utf-8").strip()
    numbers = [int(p.name.rsplit("-", 1)[1]) for p in index.glob("generation-*") if p.name.rsplit("-", 1)[1].isdigit()]
    name = f"generation-{max(numbers, default=0) + 1:06d}"
    source, target = index / current, index / name
    target.mkdir()
    for entry in source.iterdir():
        if entry.name == "manifest.json":
            manifest = json.loads(entry.read_text(encoding="utf-8"))
            manifest["generation"] = name
            (target / entry.name).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        else:
            _link_or_copy(entry, target / entry.name)
    pointer = index / "CURRENT.bench"
    pointer.write_text(name, encoding="utf-8")
    os.replace(pointer, index / "CURRENT")
    return name

"""The one ``policykb`` command: ingest, build, ask, serve, documents, delete, info.

A thin skin over the libraries: each command parses options, calls ``kb``/``ingest``/
``service``, and prints. Errors the libraries raise on purpose become one clean line
on stderr and exit status 1; ingest exits 1 when any file failed.
"""

from __future__ import annotations

import html
import json
import logging
import re
import sys
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from kb import (
    KB_MODEL,
    IndexSettings,
    KBError,
    KnowledgeBase,
    SearchFilters,
    SearchResult,
)
from policykb.options import kb_option


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    import jieba

    jieba.setLogLevel(logging.WARNING)
    for noisy in ("sentence_transformers", "transformers", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING if not verbose else logging.INFO)


@contextmanager
def _clean_errors() -> Iterator[None]:
    """Turn the libraries' deliberate errors into one line and exit status 1."""
    try:
        yield
    except KBError as error:
        raise click.ClickException(str(error)) from None


def _progress(message: str) -> None:
    click.echo(f"  {message}", err=True)


#: The highlight tags of a snippet (the only markup it holds; the rest is HTML-escaped text).
MARK_TAG = re.compile(r"(</?mark>)")


def _shown(text: object) -> str:
    """``text`` safe for a terminal: control and format characters (an escape sequence or a
    right-to-left override in a file name) are written as escapes, never sent raw."""
    return "".join(ch if unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp") else
                   ch.encode("unicode_escape").decode("ascii") for ch in str(text))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log what the libraries do.")
@click.version_option(package_name="policykb")
def cli(verbose: bool) -> None:
    """policykb: cited answers from Chinese policy documents.

    \b
    Example:
      policykb ingest corpus/ --kb var/kb
      policykb ask "财政预决算信息在哪公开？" --kb var/kb
      policykb serve --kb var/kb
    """
    _configure_logging(verbose)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@kb_option
@click.option("--id-field", default="id", show_default=True, help="JSONL key holding the document id.")
@click.option("--title-field", default="title", show_default=True, help="JSONL key holding the title.")
@click.option("--text-field", default="text", show_default=True, help="JSONL key holding the text.")
@click.option("--model", default=None, help=f"Embedding model: {KB_MODEL!r} (trained on the KB, the default) "
              "or a sentence-transformers model name or path.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64), help="Processes for tokenising.")
@click.option("--no-build", is_flag=True, help="Store only; build the index later with `policykb build`.")
@click.option("--retrain", is_flag=True, help="Retrain the knowledge-base embedding model while building.")
@click.option("--place", default=None, help="The place the knowledge base serves, smallest first, comma-separated "
              "(e.g. 常熟市,苏州市,江苏省); default: a folder manifest's \"place\", else the whole country.")
@click.option("--faq", is_flag=True, help="Read JSONL/CSV records as FAQ items (question, similar questions, "
              "answer, dept, validity) instead of documents.")
@click.option("--backend", type=click.Choice(["sqlite", "milvus"]), default=None,
              help="Where the knowledge base is searched, chosen when it is created: its own index "
                   "(sqlite, the default) or a Milvus server (--milvus-uri); recorded for every later command.")
@click.option("--milvus-uri", default=None, envvar="POLICYKB_MILVUS_URI",
              help="The Milvus server of --backend milvus, e.g. http://127.0.0.1:19530 (env POLICYKB_MILVUS_URI).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def ingest(paths: tuple[Path, ...], kb_dir: Path, id_field: str, title_field: str, text_field: str,
           model: str | None, workers: int, no_build: bool, retrain: bool, place: str | None, faq: bool,
           backend: str | None, milvus_uri: str | None, as_json: bool) -> None:
    """Add documents and rebuild the index.

    Reads .txt/.md (UTF-8, UTF-16 with BOM, GB18030), .docx, .pdf with a text layer, .html,
    folders of them, and JSONL/CSV records; each file's type is checked by its content.

    \b
    Examples:
      policykb ingest corpus/ --kb var/kb
      policykb ingest ../shared/corpus/covid-policy/docs.jsonl --id-field docid --kb var/kb
      policykb ingest ../shared/corpus/taipei-faq/faq.jsonl --faq --kb var/kb
      policykb ingest corpus/ --kb var/kb --backend milvus --milvus-uri http://127.0.0.1:19530
    """
    from ingest import FieldMap, ingest_paths

    if backend == "milvus" and not milvus_uri:
        raise click.UsageError("--backend milvus needs --milvus-uri (or POLICYKB_MILVUS_URI)")
    with _clean_errors():
        existed = (kb_dir / "kb.sqlite").exists()
        settings = None
        if model:
            current = IndexSettings()
            if (kb_dir / "kb.sqlite").exists():
                current = KnowledgeBase(kb_dir).settings
            settings = IndexSettings(tokenizer=current.tokenizer, bm25=current.bm25, model=model,
                                     dense=current.dense, training=current.training)
        knowledge_base = KnowledgeBase(kb_dir, create=True, settings=settings)
        _choose_backend(knowledge_base, backend, milvus_uri, existed=existed)
        chain = _parse_place(place) if place is not None else _manifest_place(paths)
        if chain is not None and (place is not None or not knowledge_base.search_settings.place):
            knowledge_base.configure_search(place=chain)
        started = time.time()
        report = ingest_paths(knowledge_base, list(paths), fields=FieldMap(id_field, title_field, text_field),
                              faq=faq, workers=workers,
                              progress=lambda done, total: _progress(f"files {done}/{total}") if done else None,
                              on_file=lambda p: _progress(f"reading {_shown(p)}"),
                              on_stored=lambda documents, characters: _progress(
                                  f"stored {documents:,} documents ({characters:,} characters)"))
        stored = time.time() - started
        manifest = None
        if not no_build and (knowledge_base.is_stale() or retrain):
            manifest = knowledge_base.build(retrain=retrain, workers=workers, progress=_progress,
                                            incremental=True)
        elif not no_build and knowledge_base.backend["backend"] == "milvus" and knowledge_base.current_generation():
            knowledge_base.publish()  # nothing to build; brings Milvus up to it if a publication failed
    summary = {**report.summary(), "store_seconds": round(stored, 1),
               "total_seconds": round(time.time() - started, 1),
               "generation": manifest["generation"] if manifest else None,
               "failures": [{"source": f.source, "reason": f.reason} for f in report.failures]}
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        click.echo(
            f"{summary['files']} files, {summary['added']} added, {summary['updated']} updated, "
            f"{summary['unchanged']} unchanged, {summary['duplicate']} duplicate, {summary['segments']} segments, "
            f"{summary['failed']} failed in {summary['total_seconds']} s"
            + (f"; index {summary['generation']}" if manifest else "")
        )
        for result in report.results:
            if result.outcome == "duplicate":
                click.echo(f"  duplicate: {_shown(result.doc_id)} has the same text as {_shown(result.same_as)}; "
                           "not stored")
        if report.failures:
            click.echo("failed:", err=True)
            for failure in report.failures:
                click.echo(f"  {_shown(failure.source)}\t{_shown(failure.reason)}", err=True)
    if report.failures:
        sys.exit(1)


def _choose_backend(knowledge_base: KnowledgeBase, backend: str | None, milvus_uri: str | None, *,
                    existed: bool) -> None:
    """Record the backend of a new knowledge base; an existing one keeps its own (moving an
    existing one is `policykb migrate`)."""
    current = knowledge_base.backend
    if backend is None or (backend == current["backend"] and milvus_uri in (None, current.get("uri"))):
        return
    if existed and knowledge_base.current_generation() is not None:
        raise click.UsageError(
            f"{knowledge_base.kb_dir} is served from {current['backend']}"
            + (f" at {current['uri']}" if current.get("uri") else "")
            + "; the backend is chosen when a knowledge base is created (move it with `policykb migrate --to milvus`)")
    if backend == "milvus":
        assert milvus_uri is not None
        knowledge_base.use_milvus(milvus_uri)


def _parse_place(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.replace("，", ",").split(",") if part.strip())


def _manifest_place(paths: tuple[Path, ...]) -> tuple[str, ...] | None:
    """The place a bundled corpus declares in its manifest.json (``{"place": [...]}``), if any."""
    for path in paths:
        manifest = path / "manifest.json"
        if path.is_dir() and manifest.exists():
            try:
                declared = json.loads(manifest.read_text(encoding="utf-8")).get("place")
            except ValueError:
                continue
            if isinstance(declared, list) and all(isinstance(p, str) for p in declared):
                return tuple(declared)
    return None


@cli.command()
@kb_option
@click.option("--place", default=None, help="The place served, smallest first, comma-separated; \"\" for the whole country.")
@click.option("--fusion", type=click.Choice(["weighted", "rrf"]), default=None, help="How BM25 and dense lists combine.")
@click.option("--bm25-weight", type=float, default=None, help="Weight of BM25 in weighted fusion.")
@click.option("--dense-weight", type=float, default=None, help="Weight of the cosine in weighted fusion.")
@click.option("--foreign-weight", type=click.FloatRange(0, 1), default=None,
              help="Multiplier for other regions' documents (1 = no demotion).")
@click.option("--place-weight", type=click.FloatRange(1, 10), default=None,
              help="Multiplier for the served place's own documents (1 = no boost).")
@click.option("--max-refused", type=click.FloatRange(0, 0.5), default=None,
              help="Share of known policy questions the off-topic classifier may refuse (0 = never refuse).")
@click.option("--expansion", type=click.Choice(["on", "off"]), default=None,
              help="Also search for the statutes' words for a question's everyday words (synonyms lexicon, "
                   "word vectors).")
@click.option("--term-weighting", type=click.Choice(["on", "off"]), default=None,
              help="Let a question's everyday words (老板, 说) count less in BM25 than its policy words.")
@click.option("--rerank", type=click.IntRange(0, 100), default=None,
              help="Re-order this many first candidates of a hybrid search (default 100; 0 = off). "
                   "Turning it on encodes the passages the pretrained sentence encoder reads (about 100 a second).")
@click.option("--ranker", type=click.Choice(["learned", "cosine"]), default=None,
              help="How they are re-ordered: the bundled learned ranker (default) or the mix of fused score "
                   "and the pretrained encoder's cosine.")
@click.option("--head-candidates", type=click.IntRange(0, 100), default=None,
              help="Passages the adapted encoder's scan of every passage head adds to them (default 30; "
                   "0 = off).")
@click.option("--neighbour-candidates", type=click.IntRange(0, 100), default=None,
              help="First candidates whose neighbouring passages in their document (2 either side) join "
                   "them (default 30; 0 = off).")
def settings(kb_dir: Path, place: str | None, fusion: str | None, bm25_weight: float | None,
             dense_weight: float | None, foreign_weight: float | None, place_weight: float | None,
             max_refused: float | None, expansion: str | None, term_weighting: str | None,
             rerank: int | None, ranker: str | None, head_candidates: int | None,
             neighbour_candidates: int | None) -> None:
    """Show or change how search combines retrievers and which place it serves.

    \b
    Examples:
      policykb settings --kb var/kb
      policykb settings --kb var/kb --place 常熟市,苏州市,江苏省 --fusion weighted
    """
    changes: dict[str, Any] = {key: value for key, value in {
        "fusion": fusion, "bm25_weight": bm25_weight, "dense_weight": dense_weight,
        "foreign_weight": foreign_weight, "place_weight": place_weight,
        "max_refused": max_refused, "rerank": rerank, "ranker": ranker,
        "head_candidates": head_candidates, "neighbour_candidates": neighbour_candidates}.items()
        if value is not None}
    if expansion is not None:
        changes["expansion"] = expansion == "on"
    if term_weighting is not None:
        changes["term_weighting"] = term_weighting == "on"
    if place is not None:
        changes["place"] = _parse_place(place)
    with _clean_errors():
        knowledge_base = KnowledgeBase(kb_dir)
        current = knowledge_base.configure_search(**changes) if changes else knowledge_base.search_settings
        if rerank and knowledge_base.current_generation() is not None:
            knowledge_base.prepare_reranking(progress=lambda message: click.echo(message, err=True))
    click.echo(json.dumps({"search": current.as_dict(), "index": knowledge_base.settings.as_dict()},
                          ensure_ascii=False, indent=2))


@cli.command()
@kb_option
@click.option("--pairs", "pairs_file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help='JSONL of {"question", "segment_id"} (or "segment_ids": [...]) lines: confirmed answers.')
@click.option("--source", default=None, help="Where the pairs come from (default: the file name).")
@click.option("--no-build", is_flag=True, help="Store the pairs only; the next build retrains on them.")
def train(kb_dir: Path, pairs_file: Path, source: str | None, no_build: bool) -> None:
    """Teach the knowledge-base embedding model with questions and the passages that answer them.

    \b
    Example:
      policykb train --pairs stard-train-pairs.jsonl --kb var/kb
    """
    pairs: list[tuple[str, str]] = []
    with pairs_file.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                ids = item.get("segment_ids") or [item["segment_id"]]
                pairs += [(item["question"], str(sid)) for sid in ids]
            except (ValueError, KeyError, TypeError, AttributeError):
                raise click.ClickException(f"{pairs_file}:{number}: not a {{\"question\", \"segment_id\"}} line") from None
    with _clean_errors():
        knowledge_base = KnowledgeBase(kb_dir)
        counts = knowledge_base.add_training_pairs(pairs, source=source or pairs_file.name)
        click.echo(f"{counts['added']} pairs stored, {counts['unknown_segment']} name unknown segments, "
                   f"{counts['invalid']} invalid")
        if not no_build:
            manifest = knowledge_base.build(progress=_progress)
            click.echo(f"{manifest['generation']}: model {manifest['embedding']['model_id']}")


@cli.command()
@kb_option
@click.option("--retrain", is_flag=True, help="Retrain the knowledge-base embedding model.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64), help="Processes for tokenising.")
def build(kb_dir: Path, retrain: bool, workers: int) -> None:
    """Rebuild the index from the stored documents (e.g. after `ingest --no-build`)."""
    with _clean_errors():
        knowledge_base = KnowledgeBase(kb_dir)
        manifest = knowledge_base.build(retrain=retrain, workers=workers, progress=_progress)
    click.echo(f"{manifest['generation']}: {manifest['counts']['segments']} segments, "
               f"{manifest['counts']['documents']} documents in {manifest['build_seconds']} s")


def _filters(doc_ids: tuple[str, ...], include_expired: bool, include_superseded: bool,
             as_of: str | None, departments: tuple[str, ...] = (), places: tuple[str, ...] = ()) -> SearchFilters:
    return SearchFilters.from_options(doc_ids=doc_ids, include_expired=include_expired,
                                      include_superseded=include_superseded, as_of=as_of,
                                      departments=departments, places=places)


def _print_result(result: SearchResult) -> None:
    """A result for a person at a terminal; every text from a document goes through :func:`_shown`."""
    if not result.hits:
        click.echo(f"no answer ({result.reason})")
        return
    for hit in result.hits:
        path = " > ".join(hit.section_path) or "(正文)"
        number = f" {hit.doc_number}" if hit.doc_number else ""
        replaced = f" -> {hit.superseded_by}" if hit.superseded_by else ""
        click.secho(_shown(f"{hit.rank}. {hit.title}{number}  [{hit.status}{replaced}]  score {hit.score:.4f}"),
                    bold=True)
        click.echo(_shown(f"   {path}  ({hit.segment_id}, chars {hit.start}-{hit.end})"))
        if hit.departments:
            click.echo(_shown(f"   责任部门: {'、'.join(hit.departments)}"))
        if hit.same_text_as:  # a republished copy: cite it, but do not make the agent read it twice
            click.echo(f"   same text as {hit.same_text_as}.")
            continue
        marks = {"<mark>": "\x1b[1;33m", "</mark>": "\x1b[0m"}  # click drops them when not at a terminal
        snippet = "".join(marks.get(part) or _shown(html.unescape(part)) for part in MARK_TAG.split(hit.snippet))
        click.echo(f"   {snippet}")


@cli.command()
@click.argument("question", required=False)
@kb_option
@click.option("--top-k", default=5, show_default=True, type=click.IntRange(1, 100), help="Passages to return.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one object; one line per question with --questions).")
@click.option("--questions", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help='JSONL file of {"id", "question"} lines: answer all, loading the KB once.')
@click.option("--doc-id", "doc_ids", multiple=True, help="Search only this document (repeatable).")
@click.option("--include-expired", is_flag=True, help="Also return expired documents.")
@click.option("--include-superseded", is_flag=True, help="Also return superseded versions.")
@click.option("--as-of", default=None, metavar="YYYY-MM-DD", help="Answer from what was in force on that day.")
@click.option("--department", "departments", multiple=True,
              help="Only passages naming this responsible department (repeatable).")
@click.option("--place", "places", multiple=True,
              help="Only documents of this jurisdiction, e.g. 常熟市; 全国 for national laws (repeatable).")
@click.option("--mode", type=click.Choice(["hybrid", "bm25", "dense"]), default="hybrid", show_default=True)
def ask(question: str | None, kb_dir: Path, top_k: int, as_json: bool, questions: Path | None,
        doc_ids: tuple[str, ...], include_expired: bool, include_superseded: bool, as_of: str | None,
        departments: tuple[str, ...], places: tuple[str, ...], mode: str) -> None:
    """Answer a question with ranked, cited passages.

    \b
    Examples:
      policykb ask "财政预决算信息在哪公开？" --kb var/kb
      policykb ask --questions questions.jsonl --kb var/kb --top-k 10 --json > run.jsonl
    """
    if (question is None) == (questions is None):
        raise click.UsageError("give either a QUESTION or --questions FILE")
    with _clean_errors():
        knowledge_base = KnowledgeBase(kb_dir)
        filters = _filters(doc_ids, include_expired, include_superseded, as_of, departments, places)
        if questions is None:
            assert question is not None
            result = knowledge_base.search(question, top_k=top_k, filters=filters, mode=mode)
            if as_json:
                click.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
            else:
                _print_result(result)
            return
        _ask_batch(knowledge_base, questions, top_k=top_k, filters=filters, mode=mode, as_json=as_json)


def _ask_batch(knowledge_base: KnowledgeBase, path: Path, *, top_k: int, filters: SearchFilters, mode: str,
               as_json: bool) -> None:
    failed = 0
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                qid, text = item["id"], item["question"]
            except (ValueError, KeyError, TypeError):
                click.echo(f"{path}:{number}: not a {{\"id\", \"question\"}} line; skipped", err=True)
                failed += 1
                continue
            record: dict[str, Any] = {"id": qid, "question": text}
            try:
                result = knowledge_base.search(text, top_k=top_k, filters=filters, mode=mode)
                record["hits"] = [hit.as_dict() for hit in result.hits]
                record["reason"] = result.reason
            except KBError as error:
                record["hits"], record["error"] = [], str(error)
            if as_json:
                click.echo(json.dumps(record, ensure_ascii=False))
            else:
                click.secho(f"[{qid}] {text}", bold=True)
                if "error" in record:
                    click.echo(f"  error: {record['error']}")
                else:
                    _print_result(result)
    if failed:
        sys.exit(1)


@cli.command()
@kb_option
@click.option("--host", default=None, help="Address to listen on (env POLICYKB_HOST; default 127.0.0.1).")
@click.option("--port", default=None, type=click.IntRange(1, 65535),
              help="Port to listen on (env POLICYKB_PORT; default 8000).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Server processes on one port, each with the index loaded (rate limits count per process).")
def serve(kb_dir: Path, host: str | None, port: int | None, workers: int) -> None:
    """Serve the HTTP API, the agent console, the widget and the analyst view.

    Every other setting comes from POLICYKB_* environment variables (CORS origins, body
    limit, concurrency, /docs on or off, log level, hotline number): see
    service/settings.py or the README. Flags win over the environment.
    """
    from policykb.uploads import ingest_upload
    from service import ServiceSettings, serve as run_server
    from service.listen import CannotListen, ensure_can_listen

    with _clean_errors():
        try:
            settings = ServiceSettings.from_env(kb_dir=kb_dir, host=host, port=port)
            ensure_can_listen(settings.host, settings.port)  # before the seconds spent loading the index
        except (ValueError, CannotListen) as error:
            raise click.ClickException(str(error)) from None
        KnowledgeBase(settings.kb_dir).close()  # a missing KB fails here, clearly; the index loads once, in the app
        address = f"http://{settings.host}:{settings.port}"
        docs = f"  (API docs: {address}/docs)" if settings.docs else ""
        click.echo(f"policykb serving {settings.kb_dir} at {address}/{docs}")
        if workers > 1:
            _environment_for_workers(settings, workers)
        run_server(settings, ingest=ingest_upload, workers=workers,  # uploads are read as `policykb ingest` reads
                   app_factory="policykb.served:app")


def _environment_for_workers(settings: Any, workers: int) -> None:
    """Worker processes start afresh and read their settings from the environment: give them
    the flags' values, and split the CPUs between their numeric libraries' threads (each
    process would otherwise start one thread per CPU, and they would all contend)."""
    import os

    os.environ.update({"POLICYKB_KB_DIR": str(settings.kb_dir), "POLICYKB_HOST": settings.host,
                       "POLICYKB_PORT": str(settings.port)})
    threads = str(max(1, (os.cpu_count() or 1) // workers))
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, threads)


@cli.command()
@kb_option
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100000))
@click.option("--json", "as_json", is_flag=True)
def documents(kb_dir: Path, limit: int, as_json: bool) -> None:
    """List stored documents."""
    with _clean_errors():
        rows = KnowledgeBase(kb_dir).documents(limit=limit)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        fields = (row["doc_id"], row["status"], row["segment_count"], row["doc_number"] or "", row["title"])
        click.echo("\t".join(_shown(field) for field in fields))


@cli.command()
@click.argument("doc_ids", nargs=-1, required=True)
@kb_option
@click.option("--no-build", is_flag=True, help="Do not rebuild the index afterwards.")
def delete(doc_ids: tuple[str, ...], kb_dir: Path, no_build: bool) -> None:
    """Delete documents (their segments leave search when the index is rebuilt)."""
    with _clean_errors():
        knowledge_base = KnowledgeBase(kb_dir)
        for doc_id in doc_ids:
            knowledge_base.delete_document(doc_id)
            click.echo(f"deleted {doc_id}")
        if not no_build:
            knowledge_base.build(progress=_progress, incremental=True)


@cli.command()
@kb_option
def info(kb_dir: Path) -> None:
    """Show counts, the index generation and whether it is up to date."""
    with _clean_errors():
        stats = KnowledgeBase(kb_dir).stats()
    click.echo(json.dumps(stats, ensure_ascii=False, indent=2))


from policykb.bench_command import bench_command  # noqa: E402 - its own module, like eval
from policykb.eval_command import eval_group  # its own module; imported last, once `cli` exists
from policykb.feedback_command import feedback_group
from policykb.keys_command import keys_group
from policykb.migrate_command import migrate_command, publish_command

cli.add_command(bench_command, name="bench")
cli.add_command(eval_group, name="eval")
cli.add_command(feedback_group, name="feedback")
cli.add_command(keys_group, name="keys")
cli.add_command(migrate_command, name="migrate")
cli.add_command(publish_command, name="publish")


def main() -> None:
    cli(prog_name="policykb")

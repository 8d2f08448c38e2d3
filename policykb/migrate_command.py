"""``policykb migrate --to milvus`` and ``policykb publish``: a knowledge base on Milvus.

The SQLite store stays the truth: ``migrate`` writes the generation to a new collection, switches
the knowledge base's alias to it and records the backend in the store (``kb.milvus``), so later
commands know where the passages are served from. Every later build publishes by itself;
``publish`` does it again by hand (after Milvus was unreachable during a build, say).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from kb import KBError, KnowledgeBase
from policykb.options import kb_option


@click.command()
@click.option("--to", "target", type=click.Choice(["milvus"]), required=True, help="The backend to move to.")
@click.option("--milvus-uri", required=True, envvar="POLICYKB_MILVUS_URI",
              help="The Milvus server, e.g. http://127.0.0.1:19530 (env POLICYKB_MILVUS_URI).")
@click.option("--vector-index", type=click.Choice(["FLAT", "HNSW"]), default="FLAT", show_default=True,
              help="How Milvus indexes the vectors: FLAT is exact, as policykb is; HNSW for millions of passages.")
@kb_option
@click.option("--json", "as_json", is_flag=True, help="Print the publication as JSON.")
def migrate_command(target: str, milvus_uri: str, vector_index: str, kb_dir: Path, as_json: bool) -> None:
    """Publish the current index generation to Milvus and record it as the knowledge base's backend.

    \b
    Example:
      policykb migrate --to milvus --milvus-uri http://127.0.0.1:19530 --kb var/kb
    """
    from kb.milvus import publish, record_backend

    try:
        knowledge_base = KnowledgeBase(kb_dir)
        publication = publish(knowledge_base, milvus_uri, vector_index=vector_index)
        record_backend(knowledge_base, publication)
    except KBError as error:
        raise click.ClickException(str(error)) from None
    _echo(publication, as_json)
    if as_json:
        return
    click.echo(f"recorded backend {json.dumps(publication.backend_record(), ensure_ascii=False)} in {kb_dir}")


def _echo(publication: Any, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(publication.as_dict(), ensure_ascii=False))
        return
    how = "to a new collection" if publication.full else "as an update of"
    click.echo(f"published {publication.generation}: {publication.passages} passages written {how} "
               f"{publication.collection} in {publication.seconds} s; alias {publication.alias} names it")
    if publication.removed:
        click.echo(f"deleted {publication.removed} passages no longer there")
    if publication.dropped:
        click.echo(f"dropped {', '.join(publication.dropped)}")


@click.command()
@click.option("--full", is_flag=True, help="Write a new collection and switch the alias (otherwise only the "
                                           "documents changed since the last publication are written).")
@click.option("--vector-index", type=click.Choice(["FLAT", "HNSW"]), default="FLAT", show_default=True,
              help="How Milvus indexes the vectors of a new collection.")
@kb_option
@click.option("--json", "as_json", is_flag=True, help="Print the publication as JSON.")
def publish_command(full: bool, vector_index: str, kb_dir: Path, as_json: bool) -> None:
    """Bring the Milvus backend up to the knowledge base's current index generation.

    \b
    Example:
      policykb publish --kb var/kb
    """
    try:
        knowledge_base = KnowledgeBase(kb_dir)
        publication = knowledge_base.publish(full=full, vector_index=vector_index)
    except KBError as error:
        raise click.ClickException(str(error)) from None
    _echo(publication, as_json)

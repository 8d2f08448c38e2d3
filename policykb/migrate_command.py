"""``policykb migrate --to milvus``: publish a knowledge base's current generation to Milvus.

The SQLite store stays the truth: the command writes the generation to a new collection, switches
the knowledge base's alias to it and records the backend in the store (``kb.milvus``), so later
commands know where the passages are served from.
"""

from __future__ import annotations

import json
from pathlib import Path

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
    if as_json:
        click.echo(json.dumps(publication.__dict__, ensure_ascii=False))
        return
    click.echo(f"published {publication.generation}: {publication.passages} passages to {publication.collection} "
               f"in {publication.seconds} s; alias {publication.alias} now names it")
    if publication.dropped:
        click.echo(f"dropped {', '.join(publication.dropped)}")
    click.echo(f"recorded backend {json.dumps(publication.backend_record(), ensure_ascii=False)} in {kb_dir}")

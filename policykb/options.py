"""Options every ``policykb`` command that opens a knowledge base shares, defined once so
``policykb ask`` and ``policykb eval run`` cannot drift apart on where the KB lives."""

from __future__ import annotations

from pathlib import Path

import click

DEFAULT_KB = "var/kb"
kb_option = click.option(
    "--kb", "kb_dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_KB, show_default=True,
    envvar="POLICYKB_KB_DIR", help="Knowledge-base directory (env POLICYKB_KB_DIR).",
)

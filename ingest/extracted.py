"""What a format reader hands on: the document's text and what the file says about it.

Readers stop at text so that cleaning, 公文 metadata and segmentation stay one shared
path (``ingest.parse``) whatever the file format was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Extracted"]


@dataclass(frozen=True)
class Extracted:
    """Text read from one file, paragraphs separated by blank lines.

    ``title`` is set only when the file states the document's title reliably (a web
    page's ``ArticleTitle``); titles that are often junk (Word's "Microsoft Word -
    143号.doc") go into ``metadata`` instead. ``metadata`` keys named like record
    fields (``doc_number``, ``issuer``, ``publish``) fill the document's fields when
    the text itself does not state them.
    """

    text: str
    title: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

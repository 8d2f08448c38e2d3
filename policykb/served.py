"""The app factory of ``policykb serve --workers N``: what each worker process calls.

uvicorn starts worker processes afresh and builds each one's app from an import string;
this is that string's target (``policykb.served:app``). It lives in the command's package
because uploads are read with ``ingest`` (as ``policykb ingest`` reads files), which the
service may not import itself.
"""

from __future__ import annotations

from typing import Any

from policykb.uploads import ingest_upload
from service import app_for_worker


def app() -> Any:
    """The service app of one worker, its settings from the ``POLICYKB_*`` environment."""
    return app_for_worker(ingest=ingest_upload)

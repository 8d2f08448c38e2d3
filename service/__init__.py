"""policykb's HTTP service: a thin FastAPI skin over the ``kb`` engine.

``create_app(settings)`` builds an app; ``serve(settings)`` runs it with uvicorn (the CLI's
``policykb serve`` calls it). ``ServiceSettings`` holds every setting and is the only
place that reads ``POLICYKB_*`` environment variables (see ``service.settings``).

The names are imported on first use: commands that only touch ``service.keys`` (``policykb
keys``, and every ``policykb`` command that loads the CLI) do not pay for importing FastAPI.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ServiceSettings", "app_for_worker", "create_app", "serve"]


def __getattr__(name: str) -> Any:
    if name == "ServiceSettings":
        from service.settings import ServiceSettings

        return ServiceSettings
    if name in ("app_for_worker", "create_app", "serve"):
        from service import app

        return getattr(app, name)
    raise AttributeError(f"module 'service' has no attribute {name!r}")

"""policykb's HTTP service: a thin FastAPI skin over the ``kb`` engine.

``create_app(settings)`` builds an app; ``serve(settings)`` runs it with uvicorn (the CLI's
``policykb serve`` calls it). ``ServiceSettings`` holds every setting and is the only
place that reads ``POLICYKB_*`` environment variables (see ``service.settings``).
"""

from service.app import app_for_worker, create_app, serve
from service.settings import ServiceSettings

__all__ = ["ServiceSettings", "app_for_worker", "create_app", "serve"]

"""The access log without query strings.

uvicorn's access log writes each request's full path, query string included, so an
identity number sent as ``?id=…`` (or a question in a GET) reached the log file. The
service's own routes take nothing personal in the query string, but a caller may send
anything; the log keeps the path and drops the rest. The record's other fields (client,
method, HTTP version, status) are uvicorn's, so log formats and parsers stay as they are.
"""

from __future__ import annotations

import logging

#: uvicorn's access records carry (client, method, path with query, HTTP version, status).
_ACCESS_ARGS = 5


class WithoutQueryString(logging.Filter):
    """Cut the query string off the path of uvicorn's access-log records."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == _ACCESS_ARGS and isinstance(args[2], str):
            record.args = (args[0], args[1], args[2].split("?", 1)[0], *args[3:])
        return True


def install_on(logger_name: str = "uvicorn.access") -> None:
    """Add the filter to uvicorn's access logger once (after uvicorn configured its logging)."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(existing, WithoutQueryString) for existing in logger.filters):
        logger.addFilter(WithoutQueryString())

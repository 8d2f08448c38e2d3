"""Whether the service can listen where it was asked to, checked before anything slow.

Loading the full knowledge base takes seconds; finding out only afterwards (from uvicorn)
that the port is taken wastes them and ends in a log line a newcomer may not read. The
check binds the address the way uvicorn will (``SO_REUSEADDR``) and lets go at once.
"""

from __future__ import annotations

import errno
import socket


class CannotListen(OSError):
    """The host and port cannot be listened on; the message says why and what to do."""


def ensure_can_listen(host: str, port: int) -> None:
    """Raise :class:`CannotListen` if ``host``:``port`` is taken, not ours or not an address here."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise CannotListen(f"cannot listen on {host}: not a known host name or address ({error.strerror})") from None
    family, kind, protocol, _name, address = infos[0]
    with socket.socket(family, kind, protocol) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise CannotListen(f"port {port} on {host} is already in use: stop what uses it or choose "
                                   f"another with --port") from None
            if error.errno == errno.EACCES:
                raise CannotListen(f"not allowed to listen on port {port}: choose a port above 1023 with "
                                   f"--port") from None
            if error.errno == errno.EADDRNOTAVAIL:
                raise CannotListen(f"cannot listen on {host}: it is not an address of this machine") from None
            raise CannotListen(f"cannot listen on {host}:{port}: {error.strerror or error}") from None

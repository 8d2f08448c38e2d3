"""The HTTP/1.1 connection handler: uvicorn's h11 protocol with deadlines and JSON refusals.

uvicorn closes a kept-alive connection that stays quiet after a response, but a connection
that never sends a complete request head is kept for ever: a few dozen idle or trickling
sockets (slowloris) held every slot. Here each request head must arrive whole within
``REQUEST_HEAD_SECONDS`` of the connection opening (or of the previous response), or the
connection is closed (:func:`guarded_protocol` makes the class for another deadline). Bytes that are not HTTP (a bad request line, a negative
Content-Length) are answered with the service's JSON error shape instead of uvicorn's plain
text. Used by ``service.app.serve`` as uvicorn's ``http`` protocol class.
"""

from __future__ import annotations

import asyncio
import json

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from service.errors import MESSAGES

#: Time a client has to send a whole request head (request line and headers).
REQUEST_HEAD_SECONDS = 10.0


class GuardedH11Protocol(H11Protocol):
    """h11 with a deadline for every request head and JSON for uvicorn's own 400."""

    request_head_seconds = REQUEST_HEAD_SECONDS
    _head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_deadline()

    def handle_events(self) -> None:
        super().handle_events()
        if self._answering():  # the head arrived: the route's own time is not limited here
            self._cancel_head_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_head_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_deadline()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        body = json.dumps({"error": {"code": "bad_request", "message": MESSAGES["bad_request"]}}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                   (b"connection", b"close")]
        try:
            for event in (h11.Response(status_code=400, headers=headers, reason=b"Bad Request"),
                          h11.Data(data=body), h11.EndOfMessage()):
                self.transport.write(self.conn.send(event))
        except h11.LocalProtocolError:  # a response was already under way: nothing more can be said
            pass
        self.transport.close()

    def _answering(self) -> bool:
        return self.cycle is not None and not self.cycle.response_complete

    def _arm_head_deadline(self) -> None:
        self._cancel_head_deadline()
        self._head_deadline = self.loop.call_later(self.request_head_seconds, self._head_deadline_passed)

    def _cancel_head_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_deadline_passed(self) -> None:
        self._head_deadline = None
        if not self._answering() and not self.transport.is_closing():
            self.transport.close()


#: Names of the classes :func:`guarded_protocol` makes: ``GuardedH11Protocol_2500ms``.
_DEADLINE_CLASS = "GuardedH11Protocol_"


def guarded_protocol(request_head_seconds: float = REQUEST_HEAD_SECONDS) -> type[GuardedH11Protocol]:
    """The protocol class uvicorn should use, with this request-head deadline.

    Another deadline gets a subclass named after it in this module, so the class pickles by
    name: ``policykb serve --workers N`` hands uvicorn's configuration to worker processes
    that start afresh, and :func:`__getattr__` makes the same class again there.
    """
    if request_head_seconds == GuardedH11Protocol.request_head_seconds:
        return GuardedH11Protocol
    name = f"{_DEADLINE_CLASS}{round(request_head_seconds * 1000)}ms"
    made = globals().get(name)
    if made is None:
        made = type(name, (GuardedH11Protocol,), {"request_head_seconds": round(request_head_seconds * 1000) / 1000,
                                                  "__module__": __name__, "__qualname__": name})
        globals()[name] = made
    return made


def __getattr__(name: str) -> type[GuardedH11Protocol]:
    """The deadline classes of :func:`guarded_protocol`, made on first use in a new process."""
    if name.startswith(_DEADLINE_CLASS) and name.endswith("ms") and name[len(_DEADLINE_CLASS):-2].isdigit():
        return guarded_protocol(int(name[len(_DEADLINE_CLASS):-2]) / 1000)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

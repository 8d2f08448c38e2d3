"""Who is calling, and may they: API keys sent as ``Authorization: Bearer KEY``, and budgets.

Routes declare what they need with a dependency: :func:`require` (a key with the scope, or
401/403) or :func:`allow_anonymous` (the public door: no key is fine, but a key that is sent
must be valid and hold the scope). A key is read from that header only, never from the query
string, where it would end up in logs and browser histories. ``admin`` holds every scope.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from service.errors import error_response
from service.keys import ApiKey, KeyRing
from service.ratelimit import Network, RateLimited, RateLimiter, client_address, retry_after


class Unauthorized(Exception):
    """No key where one is needed, or a key that is not (or no longer) valid: 401."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Forbidden(Exception):
    """A valid key without the scope the route needs: 403."""

    def __init__(self, scope: str) -> None:
        super().__init__(scope)
        self.message = f"this key does not have the scope {scope!r}"


async def get_caller(request: Request) -> ApiKey | None:
    """The key the request carries, None for an anonymous caller; a bad key is a 401."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send the key as Authorization: Bearer KEY")
    keys: KeyRing = request.app.state.keys
    key = keys.verify(token.strip())
    if key is None:
        raise Unauthorized("the key is not valid or has been revoked")
    return key




CallerKey = Annotated[ApiKey | None, Depends(get_caller)]


def require(scope: str, *, budgeted: bool = False) -> Any:
    """A dependency: the caller must hold a key with ``scope``. ``budgeted`` routes (changes to
    documents, rebuilds) also spend one of the key's administrative requests per minute."""

    async def check(request: Request, caller: CallerKey) -> ApiKey:
        if caller is None:
            raise Unauthorized(f"this needs an API key with the scope {scope!r}: send Authorization: Bearer KEY")
        if not caller.allows(scope):
            raise Forbidden(scope)
        limits: PublicLimits | None = getattr(request.app.state, "rate_limits", None)
        if budgeted and limits is not None:
            limits.spend_administration(caller)
        return caller

    return Depends(check)


def allow_anonymous(scope: str) -> Any:
    """A dependency for the public door: anonymous callers pass; a key must hold ``scope``.

    Either way the caller spends one of its requests per minute (``service.ratelimit``):
    anonymous callers by address, keyed callers by key, each with its own budget.
    """

    async def check(request: Request, caller: CallerKey) -> ApiKey | None:
        if caller is not None and not caller.allows(scope):
            raise Forbidden(scope)
        limits: PublicLimits | None = getattr(request.app.state, "rate_limits", None)
        if limits is not None:
            limits.spend(request, caller)
        return caller

    return Depends(check)


class PublicLimits:
    """The budgets: the public door's for addresses and for keys, and the keys' administrative
    one (uploads, deletes, rebuilds: each starts long work); None is no limit."""

    def __init__(self, anonymous_per_minute: int | None, keyed_per_minute: int | None,
                 trusted_proxies: tuple[Network, ...] = (), administration_per_minute: int | None = None) -> None:
        self.anonymous = RateLimiter(anonymous_per_minute) if anonymous_per_minute else None
        self.keyed = RateLimiter(keyed_per_minute) if keyed_per_minute else None
        self.administration = RateLimiter(administration_per_minute) if administration_per_minute else None
        self.trusted_proxies = trusted_proxies

    def spend_administration(self, caller: ApiKey) -> None:
        """Spend one of the key's uploads, deletes and rebuilds this minute, or raise :class:`RateLimited`."""
        if self.administration is not None and (wait := self.administration.take(f"key:{caller.name}")) > 0:
            raise RateLimited(wait)

    def spend(self, request: Request, caller: ApiKey | None) -> None:
        """Spend one request of the caller's budget, or raise :class:`RateLimited`."""
        if caller is not None:
            limiter, client = self.keyed, f"key:{caller.name}"
        else:
            peer = request.client.host if request.client else None
            limiter = self.anonymous
            client = "ip:" + client_address(peer, request.headers.get("x-forwarded-for"), self.trusted_proxies)
        if limiter is not None and (wait := limiter.take(client)) > 0:
            raise RateLimited(wait)


async def _unauthorized(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Unauthorized)
    return error_response("unauthorized", exc.message, headers={"WWW-Authenticate": "Bearer"})


async def _rate_limited(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RateLimited)
    return error_response("rate_limited", headers={"Retry-After": retry_after(exc.seconds)})


async def _forbidden(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Forbidden)
    return error_response("forbidden", exc.message)


def install_auth(app: FastAPI, keys: KeyRing, limits: PublicLimits | None = None) -> None:
    """Give ``app`` its key ring, the public door's budgets and the 401/403/429 responses."""
    app.state.keys = keys
    app.state.rate_limits = limits
    app.add_exception_handler(Unauthorized, _unauthorized)
    app.add_exception_handler(Forbidden, _forbidden)
    app.add_exception_handler(RateLimited, _rate_limited)

"""One error hierarchy, mapped once to the contract's error body for HTTP and for socket acks."""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """Something went wrong."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str | None = None, *, details: Any = None, code: str | None = None):
        self.message = message or (self.__doc__ or "").strip()
        self.details = details
        if code:
            self.code = code
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


class BadRequest(AppError):
    """The request is malformed."""


class ValidationFailed(AppError):
    """The request is not valid."""

    status = 422
    code = "validation_failed"


class Unauthenticated(AppError):
    """A valid bearer token is required."""

    status = 401
    code = "unauthenticated"


class Forbidden(AppError):
    """You are not allowed to do this."""

    status = 403
    code = "forbidden"


class NotFound(AppError):
    """Not found."""

    status = 404
    code = "not_found"


class Conflict(AppError):
    """The request conflicts with the current state."""

    status = 409
    code = "conflict"


class TooLarge(AppError):
    """The request is too large."""

    status = 413
    code = "too_large"


class RateLimited(AppError):
    """Too many requests; slow down."""

    status = 429
    code = "rate_limited"


class Unavailable(AppError):
    """The service is not ready."""

    status = 503
    code = "unavailable"

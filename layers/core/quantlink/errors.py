"""Domain exceptions. Each one carries the API.md error code and HTTP status it maps to, so one
registered handler turns any of them into the error body without isinstance chains."""

from __future__ import annotations

from typing import Any, ClassVar


class QuantLinkError(Exception):
    code: ClassVar[str] = "INTERNAL_ERROR"
    status: ClassVar[int] = 500
    default_message: ClassVar[str] = "Something went wrong on our side."

    def __init__(self, message: str | None = None, *, details: Any = None) -> None:
        self.message = message or self.default_message
        self.details = details
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body

    def headers(self) -> dict[str, str]:
        """HTTP headers the answer carries besides the JSON ones (none, unless an error says so)."""
        return {}


class Unauthorized(QuantLinkError):
    code = "UNAUTHORIZED"
    status = 401
    default_message = "Missing or invalid credentials."


class Forbidden(QuantLinkError):
    code = "FORBIDDEN"
    status = 403
    default_message = "You are not allowed to do this."


class NotFound(QuantLinkError):
    code = "NOT_FOUND"
    status = 404
    default_message = "No such resource."


class MethodNotAllowed(QuantLinkError):
    code = "METHOD_NOT_ALLOWED"
    status = 405
    default_message = "This method is not allowed on this resource."


class Conflict(QuantLinkError):
    code = "CONFLICT"
    status = 409
    default_message = "The resource changed or already exists."


class DeviceTakenOver(QuantLinkError):
    code = "DEVICE_TAKEN_OVER"
    status = 409
    default_message = (
        "Another device already uses this terminal token. "
        "Release the device in QuantLink (POST /api/terminals/{terminalId}/release) to move it."
    )


class ValidationFailed(QuantLinkError):
    code = "VALIDATION_ERROR"
    status = 400
    default_message = "The request is not valid."


class PayloadTooLarge(QuantLinkError):
    code = "PAYLOAD_TOO_LARGE"
    status = 413
    default_message = "The request body is too large."


class RateLimited(QuantLinkError):
    code = "RATE_LIMITED"
    status = 429
    default_message = "Too many requests; slow down and retry."

    def __init__(self, message: str | None = None, *, retry_after: int | None = None, details: Any = None) -> None:
        super().__init__(message, details=details)
        self.retry_after = retry_after  # seconds; sent as Retry-After

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}


class DuplicateSignal(QuantLinkError):
    """A byte-identical webhook body was already recorded for this strategy (not an HTTP error)."""

    code = "DUPLICATE"
    status = 200

    def __init__(self, signal_id: str) -> None:
        super().__init__(f"Signal already received as {signal_id}.")
        self.signal_id = signal_id


class Unavailable(QuantLinkError):
    """A dependency failed after the request was accepted; a retry is safe and re-drives it."""

    code = "UNAVAILABLE"
    status = 503
    default_message = "Temporarily unavailable; retry with the same body."


class PlanRequired(QuantLinkError):
    code = "PLAN_REQUIRED"
    status = 403
    default_message = "Your plan does not include this; upgrade to share."


class TerminalLimitReached(QuantLinkError):
    code = "TERMINAL_LIMIT_REACHED"
    status = 409
    default_message = "This share allows no more terminals."


class InvitationExpired(QuantLinkError):
    code = "INVITATION_EXPIRED"
    status = 410
    default_message = "This invitation has expired."


class InvitationRevoked(QuantLinkError):
    code = "INVITATION_REVOKED"
    status = 410
    default_message = "This invitation was revoked."


class InvitationUsedUp(QuantLinkError):
    code = "INVITATION_USED_UP"
    status = 410
    default_message = "This invitation has been used as often as it allows."

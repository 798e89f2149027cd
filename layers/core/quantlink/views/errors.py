"""The error body every non-2xx answer has (API.md "Errors"), for the OpenAPI document: the body itself
is built by QuantLinkError.body() and encoded by quantlink.http."""

from __future__ import annotations

from quantlink.models import CamelModel
from quantlink.views import Omitted, omitted


class Problem(CamelModel):
    field: str
    message: str


class ErrorBody(CamelModel):
    """Every non-2xx answer (API.md "Errors"); `details` only on VALIDATION_ERROR."""

    code: str
    message: str
    details: list[Problem] | Omitted = omitted()

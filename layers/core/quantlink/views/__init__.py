"""Every answer body, typed: what clients receive (API.md), built from the domain records, one module
per area (relay: the hot path; owner: the owner API and its public routes). The OpenAPI document
(quantlink.api.contract) describes each route's answer with these models, so the SPA can be generated
against it. Field order is part of the wire contract (tests/integration/test_wire_shapes.py).

The hot path imports only quantlink.views.relay: every model class costs cold-start import time."""

from __future__ import annotations

from typing import Any

from pydantic import Field
from pydantic.json_schema import SkipJsonSchema


def _absent(value: object) -> bool:
    return value is None


# `x: T | Omitted = omitted()`: a field left out of the body (never sent as null) when it has no value.
Omitted = SkipJsonSchema[None]


def omitted(description: str | None = None) -> Any:
    return Field(default=None, exclude_if=_absent, description=description)

"""Domain models to DynamoDB attribute maps and back (floats travel as Decimal, as DynamoDB wants)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from pydantic import BaseModel

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

_M = TypeVar("_M", bound=BaseModel)
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

Item = dict[str, "AttributeValueTypeDef"]


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(v) for v in value]
    return value


def value(python: Any) -> AttributeValueTypeDef:
    attribute: AttributeValueTypeDef = _serializer.serialize(_to_dynamo(python))
    return attribute


def values(**python: Any) -> dict[str, AttributeValueTypeDef]:
    return {f":{name}": value(v) for name, v in python.items()}


def to_item(model: BaseModel, **keys: Any) -> Item:
    data = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    data.update(keys)
    return {name: value(v) for name, v in data.items() if v is not None}


def to_python(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _from_dynamo(_deserializer.deserialize(v)) for name, v in item.items()}  # type: ignore[arg-type]


def from_item(model: type[_M], item: Mapping[str, Any]) -> _M:
    return model.model_validate(to_python(item))

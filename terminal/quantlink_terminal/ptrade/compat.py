"""What the agent's rules use from `dataclasses` (Python 3.7+), for PTrade's Python 3.5.

The PTrade script is the agent's own modules rewritten for 3.5 (downlevel.py): a dataclass's annotated fields
become class attributes plus a `__ql_fields__` tuple of their names, and `dataclass`, `field`, `replace` and
`asdict` are the functions below. Only what the agent uses is here: frozen or not, defaults, default
factories, `__post_init__`, value equality, hashing of frozen instances, a readable repr.
"""

from __future__ import annotations

import copy
from typing import Any, Callable

FIELDS_ATTRIBUTE = "__ql_fields__"  # the field names, in order (written by downlevel.py)
SPECS_ATTRIBUTE = "__ql_dataclass_fields__"  # (name, default, factory, repr) per field, set by dataclass()


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class FrozenInstanceError(AttributeError):
    """Assigning to a field of a frozen dataclass instance."""


class Field:
    def __init__(self, default: Any, default_factory: Any, repr: bool) -> None:
        self.default = default
        self.default_factory = default_factory
        self.repr = repr


def field(*, default: Any = MISSING, default_factory: Any = MISSING, repr: bool = True) -> Any:
    return Field(default, default_factory, repr)


def _field_names(cls: type) -> list[str]:
    names = cls.__dict__.get(FIELDS_ATTRIBUTE)
    if names is None:  # a class written with annotations (Python 3.6+, as in this module's tests)
        annotations = vars(cls).get("__annotations__", {})
        names = [name for name, kind in annotations.items() if not str(kind).startswith("ClassVar")]
    return list(names)


def _specs(cls: type) -> list[tuple[str, Any, Any, bool]]:
    specs = []
    for name in _field_names(cls):
        value = cls.__dict__.get(name, MISSING)
        if isinstance(value, Field):
            specs.append((name, value.default, value.default_factory, value.repr))
            if value.default is MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, value.default)
        else:
            specs.append((name, value, MISSING, True))
    seen_default = False
    for name, default, factory, _repr in specs:
        if default is MISSING and factory is MISSING:
            if seen_default:
                raise TypeError(f"non-default argument {name!r} follows default argument")
        else:
            seen_default = True
    return specs


def _values(instance: Any) -> tuple[Any, ...]:
    return tuple(getattr(instance, spec[0]) for spec in getattr(type(instance), SPECS_ATTRIBUTE))


def _init(self: Any, *args: Any, **kwargs: Any) -> None:
    specs = getattr(type(self), SPECS_ATTRIBUTE)
    if len(args) > len(specs):
        raise TypeError(f"{type(self).__name__}() takes {len(specs)} arguments, got {len(args)}")
    for index, (name, default, factory, _repr) in enumerate(specs):
        if index < len(args):
            if name in kwargs:
                raise TypeError(f"{type(self).__name__}() got multiple values for argument {name!r}")
            value = args[index]
        elif name in kwargs:
            value = kwargs.pop(name)
        elif factory is not MISSING:
            value = factory()
        elif default is not MISSING:
            value = default
        else:
            raise TypeError(f"{type(self).__name__}() missing required argument {name!r}")
        object.__setattr__(self, name, value)
    if kwargs:
        raise TypeError(f"{type(self).__name__}() got an unexpected keyword argument {sorted(kwargs)[0]!r}")
    post_init = getattr(self, "__post_init__", None)
    if post_init is not None:
        post_init()


def _repr(self: Any) -> str:
    shown = [
        f"{name}={getattr(self, name)!r}"
        for name, _d, _f, show in getattr(type(self), SPECS_ATTRIBUTE)
        if show
    ]
    return f"{type(self).__qualname__}({', '.join(shown)})"


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _values(self) == _values(other)


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def _hash(self: Any) -> int:
    return hash(_values(self))


def _process(cls: type, frozen: bool) -> type:
    setattr(cls, SPECS_ATTRIBUTE, tuple(_specs(cls)))
    cls.__init__ = _init  # type: ignore[misc]
    cls.__repr__ = _repr  # type: ignore[method-assign,assignment]
    cls.__eq__ = _eq  # type: ignore[method-assign,assignment]
    if frozen:
        cls.__setattr__ = _frozen_setattr  # type: ignore[method-assign,assignment]
        cls.__delattr__ = _frozen_delattr  # type: ignore[method-assign,assignment]
        cls.__hash__ = _hash  # type: ignore[method-assign,assignment]
    else:
        cls.__hash__ = None  # type: ignore[assignment]  # equal-by-value and mutable: unhashable
    return cls


def dataclass(cls: type | None = None, *, frozen: bool = False) -> Any:
    def wrap(target: type) -> type:
        return _process(target, frozen)

    return wrap if cls is None else wrap(cls)


def _is_dataclass(value: Any) -> bool:
    return hasattr(type(value), SPECS_ATTRIBUTE)


def replace(instance: Any, **changes: Any) -> Any:
    """A copy with some fields changed; `__post_init__` runs again, as with dataclasses.replace."""
    values = {spec[0]: getattr(instance, spec[0]) for spec in getattr(type(instance), SPECS_ATTRIBUTE)}
    values.update(changes)
    return type(instance)(**values)


def _as_plain(value: Any, factory: Callable[[], dict[str, Any]]) -> Any:
    if _is_dataclass(value):
        plain = factory()
        for spec in getattr(type(value), SPECS_ATTRIBUTE):
            plain[spec[0]] = _as_plain(getattr(value, spec[0]), factory)
        return plain
    if isinstance(value, (list, tuple)):
        return type(value)(_as_plain(item, factory) for item in value)
    if isinstance(value, dict):
        return type(value)((_as_plain(k, factory), _as_plain(v, factory)) for k, v in value.items())
    return copy.deepcopy(value)


def asdict(instance: Any) -> dict[str, Any]:
    plain: dict[str, Any] = _as_plain(instance, dict)
    return plain

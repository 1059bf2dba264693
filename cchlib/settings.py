"""Typed settings for a sweep's cells: validated when a notebook builds them.

A sweep's settings are a :class:`CellSettings` dataclass declared beside its cell
function (for example ``cchlib.experiments.synthetic.Settings``): a setting that is
unknown or of the wrong type is a ``ValueError`` naming it when the notebook builds
the settings, not a ``KeyError`` inside a worker later. The cell function receives the
settings as a plain dict (what the cache key and the result store hash, and what Dask
pickles) and reads it back with ``Settings.from_dict``.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from dataclasses import dataclass


def _type_problem(name: str, value, expected) -> str | None:
    """Why ``value`` does not fit the annotation ``expected`` (None when it does)."""
    origin = typing.get_origin(expected) or expected
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(expected)
        if any(_type_problem(name, value, option) is None for option in options):
            return None
        return f"setting {name!r} must be one of {[getattr(o, '__name__', o) for o in options]}, got {value!r}"
    if expected is type(None):
        return None if value is None else f"setting {name!r} must be None, got {value!r}"
    if origin is float and isinstance(value, int) and not isinstance(value, bool):
        return None
    if origin is typing.Any or (isinstance(value, origin) and (origin is bool or not isinstance(value, bool))):
        return _element_problem(name, value, expected)
    return f"setting {name!r} must be {getattr(origin, '__name__', origin)}, got {type(value).__name__} {value!r}"


def _element_problem(name: str, value, expected) -> str | None:
    """Why an element of a list setting annotated ``list[T]`` is not a ``T`` (None when all are)."""
    args = typing.get_args(expected)
    if typing.get_origin(expected) is not list or not args:
        return None
    for i, element in enumerate(value):
        if (why := _type_problem(f"{name}[{i}]", element, args[0])) is not None:
            return why
    return None


@dataclass(frozen=True)
class CellSettings:
    """Base of a sweep's settings: validated on creation, passed to cells as a dict."""

    def __post_init__(self):
        hints = typing.get_type_hints(type(self))
        problems = [why for f in dataclasses.fields(self)
                    if (why := _type_problem(f.name, getattr(self, f.name), hints[f.name])) is not None]
        if problems:
            raise ValueError(f"{_name(type(self))}: " + "; ".join(problems))

    @classmethod
    def from_dict(cls, values: dict):
        """The settings from a dict; an unknown name is a ValueError naming the closest valid one."""
        names = [f.name for f in dataclasses.fields(cls)]
        unknown = [key for key in values if key not in names]
        if unknown:
            hints = [f"{key!r}" + (f" (did you mean {close[0]!r}?)" if (close := difflib.get_close_matches(key, names, 1))
                                   else "") for key in unknown]
            raise ValueError(f"{_name(cls)} has no setting {', '.join(hints)}; its settings: {', '.join(names)}")
        missing = [name for name in names if name not in values and _has_no_default(cls, name)]
        if missing:
            raise ValueError(f"{_name(cls)} needs the setting(s) {', '.join(missing)}")
        return cls(**values)

    @classmethod
    def from_parameters(cls, parameters: dict, prefix: str = "", **overrides):
        """The settings from a notebook's parameters (its ``globals()``), each field by its name.

        With a ``prefix`` (a notebook that runs two sweeps, e.g. ``"mvd_"``), a field
        ``f`` takes the parameter ``<prefix>f`` where there is one, and ``f`` otherwise.
        ``overrides`` give the fields a notebook derives or fixes rather than declares
        (e.g. the union of two lists of weights) and take precedence. A field the
        parameters lack keeps its default; one without a default is a ValueError naming it.
        """
        values = {}
        for name in (f.name for f in dataclasses.fields(cls)):
            for key in (prefix + name, name):
                if key in parameters:
                    values[name] = parameters[key]
                    break
        return cls.from_dict({**values, **overrides})

    def as_dict(self) -> dict:
        """The plain dict a cell function receives (and the cache key hashes)."""
        return dataclasses.asdict(self)


def _name(cls) -> str:
    """``synthetic.Settings``: the class with its module's last name, for error messages."""
    return f"{cls.__module__.rpartition('.')[2]}.{cls.__qualname__}"


def _has_no_default(cls, name: str) -> bool:
    f = next(f for f in dataclasses.fields(cls) if f.name == name)
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING

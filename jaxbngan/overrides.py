"""Config overrides from text: `KEY=VALUE` settings parsed by the field's type into `request.apply_overrides`'s dict.

A key is a top-level field (`steps`) or a section's field (`loss.shift_weight`), as in config.json.
A key given twice is a conflict, not a silent last-word-wins: `--steps 200 --set steps=100` is refused.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from typing import Any, Literal

from jaxbngan.config import Config, ConfigError


class Setting(typing.NamedTuple):
    """One override as the user wrote it."""

    key: str  # "steps" or "section.field"
    text: str  # the value, unparsed
    given_as: str  # how it was written, for messages: "--steps 200", "--set steps=100"


def override_types() -> dict[str, Any]:
    """Every overridable key ('steps', 'loss.shift_weight', ...) with its field's type."""
    types_ = {}
    for name, hint in typing.get_type_hints(Config).items():
        if dataclasses.is_dataclass(hint):
            for field, field_hint in typing.get_type_hints(hint).items():
                types_[f"{name}.{field}"] = field_hint
        else:
            types_[name] = hint
    return types_


def split_setting(setting: str) -> tuple[str, str]:
    """`KEY=VALUE` as (KEY, VALUE), stripped."""
    key, sep, value = setting.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set expects KEY=VALUE, got {setting!r}")
    return key.strip(), value.strip()


def parse_overrides(settings: list[Setting]) -> dict[str, Any]:
    """Typed overrides, `{"steps": 100, "loss": {"shift_weight": 0.01}}`; unknown keys and conflicts refused."""
    known = override_types()
    seen: dict[str, Setting] = {}
    parsed: dict[str, Any] = {}
    for setting in settings:
        if setting.key not in known:
            near = difflib.get_close_matches(setting.key, known, n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(near)}?" if near else "; keys are SECTION.FIELD as in config.json"
            raise ConfigError(f"unknown override key {setting.key!r}{hint}")
        if setting.key in seen:
            raise ConfigError(
                f"conflicting settings: {setting.key} is set by both {seen[setting.key].given_as!r} and "
                f"{setting.given_as!r}; give it once"
            )
        seen[setting.key] = setting
        value = parse_value(setting.text, known[setting.key], setting.key)
        section, _, field = setting.key.rpartition(".")
        if section:
            parsed.setdefault(section, {})[field] = value
        else:
            parsed[field] = value
    return parsed


def parse_value(text: str, hint: Any, key: str) -> Any:
    """Parse a command-line string as a value of type `hint` (int, float, bool, str, Literal, X | None, tuple)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        if text.lower() in ("none", "null") and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return parse_value(text, inner, key)
    if origin is Literal:
        if text not in args:
            raise ConfigError(f"{key}: {text!r} is not one of {', '.join(map(str, args))}")
        return text
    if origin is tuple:
        items = [item.strip() for item in text.split(",") if item.strip()]
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(parse_value(item, args[0], key) for item in items)
        parts = text.split(":")
        if len(parts) != len(args):
            raise ConfigError(f"{key}: expected {len(args)} parts NAME:VALUE, got {text!r}")
        return tuple(parse_value(part.strip(), a, key) for part, a in zip(parts, args, strict=True))
    if hint is bool:
        if text.lower() in ("true", "1", "yes"):
            return True
        if text.lower() in ("false", "0", "no"):
            return False
        raise ConfigError(f"{key}: expected true or false, got {text!r}")
    if hint in (int, float):
        try:
            value = hint(text)
        except ValueError:
            raise ConfigError(f"{key}: expected {'an integer' if hint is int else 'a number'}, got {text!r}") from None
        if hint is float and not math.isfinite(value):
            raise ConfigError(f"{key}: expected a finite number, got {text!r}")
        return value
    if hint is str:
        return text
    raise ConfigError(f"{key}: cannot be set from the command line")

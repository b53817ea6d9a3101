"""TOML for the configuration: build dataclasses from it, and write the example file.

``canvass.example.toml`` lists every setting with its default and the description from
its class's numpydoc ``Parameters`` section. It is generated, so it can never drift from
the code: ``make example-config`` rewrites it and a test checks that the committed file
is current.
"""

from __future__ import annotations

import dataclasses
import json
import re
import textwrap
import types
import typing
from dataclasses import fields
from typing import Any, Literal

from .errors import ConfigError

__all__ = ["build", "example_toml", "parameter_docs", "plain"]

_HEADER = """\
# canvass.example.toml — every setting canvass reads, with its default value.
#
# Generated from the parameter classes (canvass/config.py, canvass/params.py) by
# `make example-config`; do not edit by hand. Every key is optional: copy only what
# you change into your own canvass.toml. Relative paths are relative to the config
# file's folder.
"""


def parameter_docs(cls: type) -> dict[str, str]:
    """
    Return each parameter's description from a numpydoc ``Parameters`` section.

    A line ``a, b`` documents several parameters with one description.
    """
    doc = textwrap.dedent(cls.__doc__ or "")
    match = re.search(r"Parameters\n-+\n(.*?)(?:\n\S[^\n]*\n-+\n|\Z)", doc, re.S)
    if not match:
        return {}
    out: dict[str, str] = {}
    names: list[str] = []
    for line in match.group(1).splitlines():
        if line and not line[0].isspace():
            names = [n.strip() for n in line.split(",")]
            for n in names:
                out[n] = ""
        elif line.strip():
            for n in names:
                out[n] = (out[n] + " " + line.strip()).strip()
    return out


def _value(value: Any) -> str:
    """Render a default as a TOML value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items())
        return "{" + (f" {items} " if items else "") + "}"
    msg = f"cannot write {type(value).__name__} to TOML"
    raise TypeError(msg)


def _key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else json.dumps(name)


def _comment(text: str) -> list[str]:
    if not text:
        return []
    wrapped = textwrap.wrap(text, width=86, break_on_hyphens=False)
    return ["# " + line for line in wrapped]


def _section(name: str, obj: Any) -> list[str]:
    docs = parameter_docs(type(obj))
    lines = [f"[{name}]"]
    tables: list[tuple[str, dict[str, Any]]] = []
    said = ""
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if (
            isinstance(value, dict)
            and value
            and all(not isinstance(v, dict) for v in value.values())
        ):
            tables.append((f.name, value))
            continue
        doc = docs.get(f.name, "")
        if doc != said:  # "a, b" share one description: say it once
            lines += _comment(doc)
            said = doc
        lines.append(f"{f.name} = {_value(value)}")
    for sub, value in tables:
        lines.append("")
        lines += _comment(docs.get(sub, ""))
        lines.append(f"[{name}.{sub}]")
        lines += [f"{_key(k)} = {_value(v)}" for k, v in value.items()]
    return lines


def example_toml(config: Any) -> str:
    """
    Return a commented TOML file holding every setting of `config`.

    Parameters
    ----------
    config
        A :class:`~canvass.config.PlanConfig`, normally the defaults.

    Returns
    -------
    text
        The file's text; reading it back gives `config` again.
    """
    lines = [_HEADER]
    docs = parameter_docs(type(config))
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if f.name == "base_dir":
            continue
        if dataclasses.is_dataclass(value):
            continue
        if (
            isinstance(value, dict)
            and value
            and all(dataclasses.is_dataclass(v) for v in value.values())
        ):
            continue
        lines += _comment(docs.get(f.name, ""))
        if isinstance(value, dict):
            lines.append(f"# [{f.name}] — a table; empty by default")
            continue
        lines.append(f"{f.name} = {_value(value)}")
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value):
            lines += ["", *_section(f.name, value)]
        elif (
            isinstance(value, dict)
            and value
            and all(dataclasses.is_dataclass(v) for v in value.values())
        ):
            lines += ["", *_comment(docs.get(f.name, ""))]
            for key, sub in value.items():
                lines += ["", *_section(f"{f.name}.{_key(key)}", sub)]
    return "\n".join(lines).rstrip() + "\n"


def plain(obj: Any) -> Any:
    """Return `obj` with tuples as lists, ready for JSON or TOML."""
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [plain(v) for v in obj]
    return obj


def build(cls: type, raw: Any, where: str) -> Any:
    """Build dataclass `cls` from `raw`, checking keys and value types."""
    if not isinstance(raw, dict):
        msg = f"`{where or 'top level'}` must be a table, got {type(raw).__name__}."
        raise ConfigError(msg)
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in fields(cls)}
    if unknown := sorted(set(raw) - set(known)):
        place = f"[{where}]" if where else "the top level"
        msg = (
            f"unknown setting(s) {unknown} in {place}; "
            f"expected some of {sorted(known)}."
        )
        raise ConfigError(msg)
    kwargs = {
        name: _convert(hints[name], value, f"{where}.{name}" if where else name)
        for name, value in raw.items()
    }
    return cls(**kwargs)


def _convert(hint: Any, value: Any, where: str) -> Any:
    """Convert one TOML value to the field's declared type, or explain the mismatch."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return build(hint, value, where)
    if origin is dict:
        if not isinstance(value, dict):
            msg = f"`{where}` must be a table, got {value!r}."
            raise ConfigError(msg)
        return {str(k): _convert(args[1], v, f"{where}.{k}") for k, v in value.items()}
    if origin is tuple:
        if not isinstance(value, list | tuple):
            msg = f"`{where}` must be a list, got {value!r}."
            raise ConfigError(msg)
        return tuple(_convert(args[0], v, where) for v in value)
    if origin is Literal:
        if value not in args:
            msg = f"`{where}` must be one of {list(args)}, got {value!r}."
            raise ConfigError(msg)
        return value
    if origin in (typing.Union, types.UnionType):
        return value
    if hint is bool:
        if not isinstance(value, bool):
            msg = f"`{where}` must be true or false, got {value!r}."
            raise ConfigError(msg)
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            msg = f"`{where}` must be a whole number, got {value!r}."
            raise ConfigError(msg)
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            msg = f"`{where}` must be a number, got {value!r}."
            raise ConfigError(msg)
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            msg = f"`{where}` must be a string, got {value!r}."
            raise ConfigError(msg)
        return value
    return value

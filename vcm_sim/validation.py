"""Readable messages for invalid configuration: each problem names the field, the value given
and the valid range, one line each."""

from __future__ import annotations

import math
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

BOUNDS = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}


def read_toml(path: Path, error: type[Exception], what: str) -> dict[str, Any]:
    """The TOML file at ``path`` as data; ``error`` (naming ``what`` the file is) when it is
    missing, a directory, unreadable, not UTF-8 or not valid TOML."""
    try:
        if path.exists() and not path.is_file():  # a folder, or a pipe that would block
            kind = "a directory, not a TOML file" if path.is_dir() else "not a regular file"
            raise error(f"{what} file {str(path)!r} is {kind}")
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise error(f"{what} file {str(path)!r} does not exist") from None
    except OSError as err:
        raise error(f"{what} file {str(path)!r} cannot be read: {err.strerror}") from None
    except UnicodeDecodeError as err:
        raise error(f"{path}: not UTF-8 text (TOML files are UTF-8): byte "
                    f"0x{err.object[err.start]:02x} at offset {err.start}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise error(f"{path}: not valid TOML: {err}") from None


def describe(err: ValidationError, root: type[BaseModel], what: str = "setting") -> str:
    """One line per problem in ``err`` raised while validating ``root``.

    ``what`` names a valid key in the message for unknown keys ("not a {what}").
    """
    lines = []
    for e in err.errors():
        field = ".".join(f'"{p}"' if "." in str(p) else str(p) for p in e["loc"])
        if e["type"] == "extra_forbidden":
            lines.append(f"{field}: unknown key (not a {what}; check the spelling)")
        elif e["type"] == "value_error":
            message = e["msg"].removeprefix("Value error, ")
            lines.append(f"{field + ': ' if field else ''}{message}")
        else:
            valid = valid_range(root, e["loc"])
            hint = f" (valid: {valid})" if valid else ""
            lines.append(f"{field} = {e.get('input')!r}: {e['msg']}{hint}")
    return "\n  ".join(lines)


def field_at(root: type[BaseModel], loc: Sequence[str | int]) -> FieldInfo | None:
    """The declared field of ``root`` at ``loc`` (field names, dict keys and list indices
    alike, e.g. ``('drivers', 0, 'elasticity')``), or None when ``loc`` leaves the declared
    models."""
    info, node = None, root
    for part in loc:
        if isinstance(node, type) and issubclass(node, BaseModel) and part in node.model_fields:
            info = node.model_fields[part]
            node = info.annotation
        elif get_origin(node) in (dict, list):
            node = get_args(node)[-1]
        else:
            return None
    return info


def valid_range(root: type[BaseModel], loc: Sequence[str | int]) -> str:
    """The declared bounds of the field of ``root`` at ``loc``, e.g. '>= 0.0, <= 1.0'."""
    info = field_at(root, loc)
    if info is None:
        return ""
    return ", ".join(f"{symbol} {getattr(m, name)}" for m in info.metadata
                     for name, symbol in BOUNDS.items() if hasattr(m, name))


def upper_bound(root: type[BaseModel], loc: Sequence[str | int]) -> float:
    """The largest valid value of the numeric field of ``root`` at ``loc`` (infinity when it
    has no upper bound; just below an exclusive one)."""
    for constraint in getattr(field_at(root, loc), "metadata", ()):
        if getattr(constraint, "le", None) is not None:
            return float(constraint.le)
        if getattr(constraint, "lt", None) is not None:
            return math.nextafter(float(constraint.lt), -math.inf)
    return math.inf

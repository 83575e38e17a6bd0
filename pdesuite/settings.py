"""Settings given on the command line as text (``--set key=value``), parsed to the default's type.

Recipes (dataset parameters) and the trainer (surrogate, plan and trainer settings) share this rule,
so ``--set`` means the same everywhere: a boolean takes 1/0, true/false, yes/no, on/off; an integer
or float its usual spelling; a list JSON (``--set channel_mults=[1,2,4]``, or one value for a list of
one); anything else stays text.
"""

from __future__ import annotations

import json
from typing import Any

from pdesuite.errors import BadInput

TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def parse_setting(key: str, text: str, default: Any) -> Any:
    """``text`` parsed to the type of ``default``; a value that does not parse is `BadInput`."""
    try:
        if isinstance(default, bool):
            if text.lower() in TRUE:
                return True
            if text.lower() in FALSE:
                return False
            raise ValueError
        if isinstance(default, int):
            return int(text)
        if isinstance(default, float):
            return float(text)
        if isinstance(default, list):
            value = json.loads(text)
            return value if isinstance(value, list) else [value]
        return text
    except (ValueError, json.JSONDecodeError):
        raise BadInput(f"--set {key}={text}: expected a {type(default).__name__}") from None


def parse_assignments(items: list[str] | None) -> dict[str, str]:
    """``["key=value", ...]`` -> {key: value}; an item without ``=`` or key is `BadInput`."""
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise BadInput(f"--set expects key=value, got {item!r}")
        out[key.strip()] = value.strip()
    return out

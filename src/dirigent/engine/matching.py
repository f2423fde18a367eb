"""Small pure rules: catch globs, retry code patterns, truthiness, Go-style message formatting."""

from __future__ import annotations

import functools
import re

import orjson

from dirigent.types import JSON


@functools.lru_cache(maxsize=1024)
def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.DOTALL)


def glob_matches(pattern: str, value: str) -> bool:
    """Whether `pattern` matches the whole of `value`; `*` matches any run of characters.

    Catch patterns are anchored globs (Dirigent: the 2021 engine used unanchored regexes).
    """
    return _glob(pattern).fullmatch(value) is not None


@functools.lru_cache(maxsize=1024)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def code_matches(pattern: str, code: str) -> bool:
    """Whether a `retries.codes` entry matches an error code: `*` alone is any, else an anchored regex."""
    return pattern == "*" or _regex(pattern).fullmatch(code) is not None


def truthy(value: JSON) -> bool:
    """Switch truthiness: true, a non-zero number, a non-empty string, list or object."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str | list | dict):
        return len(value) > 0
    return False


def as_text(value: JSON) -> str:
    """Strings as they are; any other value as compact JSON."""
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


_VERB = re.compile(r"%([-+# 0]*\d*(?:\.\d+)?)([vsdqfxXtTe%])")


def format_message(fmt: str, args: list[JSON]) -> str:
    """Format an error state's `message` with its `args` the way Go's fmt.Sprintf would.

    Supported verbs: %v %s %d %f %e %q %x %X %t %T and %%; a missing argument shows `%!v(MISSING)`,
    extra arguments are appended as `%!(EXTRA ...)`, as Go does.
    """
    remaining = list(args)

    def replace(match: re.Match[str]) -> str:
        flags, verb = match.group(1), match.group(2)
        if verb == "%":
            return "%"
        if not remaining:
            return f"%!{verb}(MISSING)"
        arg = remaining.pop(0)
        if verb == "q":
            return orjson.dumps(as_text(arg)).decode()
        if verb == "T":
            return type(arg).__name__
        if verb in "dxX" and isinstance(arg, int | float) and not isinstance(arg, bool):
            return format(int(arg), flags + ("d" if verb == "d" else verb.lower()))
        if verb in "fe" and isinstance(arg, int | float) and not isinstance(arg, bool):
            return format(float(arg), (flags or ".6") + verb)
        if verb == "t" and isinstance(arg, bool):
            return "true" if arg else "false"
        return as_text(arg)

    text = _VERB.sub(replace, fmt)
    if remaining:
        text += "%!(EXTRA " + ", ".join(as_text(a) for a in remaining) + ")"
    return text

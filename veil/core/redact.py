"""Exception text without member data, for logs, spans and gRPC status details.

An exception's message may quote what a member wrote: SQLAlchemy appends the
statement's parameters (``[parameters: (…)]``, off with ``hide_parameters``),
asyncpg quotes a value it cannot encode (``invalid input for query argument $1:
'…'``), Postgres quotes values in its messages and in ``DETAIL: Key (…)=(…)``.
So nothing here repeats an exception's message as it is: where the exception
object is at hand (a log record, a failed RPC) only its type names, SQLSTATE and
stack frames are kept; where only text is left (a span's exception event) the
first line is kept with every quoted or bracketed value cut out.
"""

from __future__ import annotations

import re
import traceback

# Quoted values, and "(…)=(…)" key details. Class names are unquoted first.
_CLASS = re.compile(r"<class '([\w.]+)'>")
_QUOTED = re.compile(r"'[^']*'?|\"[^\"]*\"?|\([^()]*\)=\([^()]*\)?|\[[^\]]*\]?")
_REDACTED = "…"
_MAX_LINE = 300
# Lines of a formatted traceback that are structure, not an exception's message.
_CHAIN = (
    "Traceback (most recent call last):",
    "The above exception was the direct cause of the following exception:",
    "During handling of the above exception, another exception occurred:",
)


def _chain(error: BaseException) -> list[BaseException]:
    """``error`` and the exceptions it wraps (DBAPI ``orig``, causes, contexts)."""
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen and len(seen) < 8:
        seen.append(current)
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else current.__cause__
        if current is None and seen[-1].__context__ is not None:
            current = seen[-1].__context__
    return seen


def _sqlstate(error: BaseException) -> str | None:
    for candidate in _chain(error):
        state = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if isinstance(state, str) and state:
            return state
    return None


def describe(error: BaseException) -> str:
    """What failed, without its message: ``DBAPIError < CharacterNotInRepertoireError
    [SQLSTATE 22021]``."""
    names = " < ".join(dict.fromkeys(type(e).__name__ for e in _chain(error)))
    state = _sqlstate(error)
    return f"{names} [SQLSTATE {state}]" if state else names


def safe_traceback(error: BaseException) -> str:
    """The traceback of ``error`` and what it wraps: frames and type names only."""
    parts: list[str] = []
    links = list(reversed(_chain(error)))
    for index, link in enumerate(links):
        if index:
            # Said as Python says it: raised "from" the previous one, or while handling it.
            caused = links[index - 1] in (link.__cause__, getattr(link, "orig", None))
            parts.append(f"\n{_CHAIN[1] if caused else _CHAIN[2]}\n\n")
        parts.append(_CHAIN[0] + "\n")
        parts.extend(traceback.format_tb(link.__traceback__))
        parts.append(type(link).__qualname__ + "\n")
    state = _sqlstate(error)
    if state:
        parts.append(f"SQLSTATE {state}\n")
    return "".join(parts).rstrip("\n")


def redact_message(text: str) -> str:
    """The first line of an exception message with every quoted value cut out."""
    first = text.split("\n", 1)[0]
    first = _QUOTED.sub(_REDACTED, _CLASS.sub(r"<class \1>", first))
    return first if len(first) <= _MAX_LINE else first[: _MAX_LINE - 1] + _REDACTED


def redact_stacktrace(text: str) -> str:
    """A formatted traceback (as OpenTelemetry records it) with only its frames kept
    and each exception line redacted; the lines of a multi-line message are dropped."""
    out: list[str] = []
    in_frames = False
    for line in text.splitlines():
        if line in _CHAIN:
            out.append(line)
            in_frames = line == _CHAIN[0]
        elif in_frames and line.startswith("  "):
            out.append(line)
        elif in_frames:
            # The first line after the frames names the exception.
            out.append(redact_message(line))
            in_frames = False
        elif not line.strip():
            out.append(line)
    return "\n".join(out)

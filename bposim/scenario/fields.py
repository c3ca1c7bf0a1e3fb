"""Typed readers for scenario fields that record problems instead of raising.

Every reader takes a raw value (plain Python, from YAML or a dict) and the field's
path, checks type and range, and returns the converted value, the default when the
field is absent (:data:`MISSING`), or ``None`` when it is invalid, after recording a
:class:`~bposim.errors.Problem` in the :class:`Context`. Validation therefore runs to
the end and reports every mistake at once. Also helpers shared by the section
builders: ids, queue references, per-interval list lengths.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bposim.errors import Problem
from bposim.scenario.schema import Horizon



class _Missing:
    """Type of :data:`MISSING`."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""Marks a field that the input does not contain (so the schema default applies)."""

MAX_NUMBER = 1e9
"""Upper bound of a number without a bound of its own (volumes, seconds, factors, ...)."""
MAX_INTEGER = 2**63 - 1
"""Upper bound of a whole number without a bound of its own (seeds, counts): what fits in
64 bits; the work estimate (:mod:`bposim.workload`) bounds agents and replications."""

_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_\-]*$")
_LAST_STEP = re.compile(r"^(.*?)(\.[^.\[\]]*|\[\d+\])$")
_DECIMAL = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+))(?:[eE]([-+]?\d+))?\s*$")


def join(path: str, key: object) -> str:
    """Path of ``key`` inside the mapping at ``path``: ``queues[0]`` + ``id``."""
    return f"{path}.{key}" if path else str(key)


def item(path: str, index: int) -> str:
    """Path of element ``index`` of the list at ``path``."""
    return f"{path}[{index}]"


class Context:
    """Collects problems for one input; knows the line of each field path it can."""

    def __init__(self, file: str, lines: Mapping[str, int] | None = None):
        self.file = file
        self.lines = dict(lines or {})
        self.problems: list[Problem] = []

    def line(self, path: str) -> int | None:
        """Line of ``path``, or of its nearest ancestor present in the input."""
        while True:
            if path in self.lines:
                return self.lines[path]
            match = _LAST_STEP.match(path)
            if not match:
                return self.lines.get("")
            path = match.group(1)

    def add(self, path: str, message: str, *, file: str | None = None, line: int | None = None) -> None:
        """Record a problem at ``path`` (in another ``file`` at ``line``, e.g. a CSV row)."""
        if file is None:
            file, line = self.file, self.line(path)
        problem = Problem(file, path, message, line)
        if problem not in self.problems[-50:]:  # two checks of one rule report it once
            self.problems.append(problem)


def describe(value: object) -> str:
    """A short human description of a raw value, for 'got ...' messages."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dt.date):
        return f"the date {value.isoformat()}"
    return f"a {type(value).__name__}"


def suggest(word: object, choices: Iterable[str]) -> str:
    """'; did you mean 'x'?' when ``word`` is close to one of ``choices``, else ''."""
    names = [c for c in choices if isinstance(c, str)]  # an invalid id may be among them
    close = difflib.get_close_matches(str(word), names, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def mapping(
    ctx: Context, value: object, path: str, keys: Sequence[str], required: Sequence[str] = ()
) -> dict | None:
    """Check that ``value`` is a mapping with only ``keys`` and every ``required`` key."""
    if not isinstance(value, Mapping):
        ctx.add(path, f"must be a mapping of key: value, got {describe(value)}")
        return None
    for key in value:
        if key not in keys:
            hint = suggest(key, keys) or f"; expected one of: {', '.join(keys)}"
            ctx.add(join(path, key), f"unknown key {str(key)!r}{hint}")
    for key in required:
        if key not in value:
            ctx.add(join(path, key), "is missing (required)")
    return dict(value)


def _bounds_text(ge, gt, le, lt) -> str:
    ge, gt, le, lt = (b if b is None or isinstance(b, int) else f"{b:g}" for b in (ge, gt, le, lt))
    low = f"[{ge}" if ge is not None else f"({gt}" if gt is not None else None
    high = f"{le}]" if le is not None else f"{lt})" if lt is not None else None
    if low and high:
        return f"in {low}, {high}"
    if low:
        return f">= {ge}" if ge is not None else f"> {gt}"
    return f"<= {le}" if le is not None else f"< {lt}"


def number(
    ctx: Context,
    value: object,
    path: str,
    default: object = MISSING,
    *,
    integer: bool = False,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
) -> Any:
    """A finite number (``integer``: a whole number, returned as int) within bounds."""
    if value is MISSING:
        return default
    kind = "a whole number" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        hint = number_text_hint(value) if isinstance(value, str) else ""
        ctx.add(path, f"must be {kind}, got {describe(value)}{hint}")
        return None
    if le is None and lt is None:  # no bound given: still refuse absurd magnitudes (1e30 calls)
        cap = MAX_INTEGER if integer else MAX_NUMBER
        if abs(value) > cap:
            size = f"{value:.3g}" if isinstance(value, float) else _echo_int(value)
            ctx.add(path, f"must be at most {_bounds_text(None, None, cap, None)[3:]} in size, got {size}")
            return None
    elif isinstance(value, int) and abs(value) > 2**64:  # float() would overflow on 400 digits
        ctx.add(path, f"must be {_bounds_text(ge, gt, le, lt)}, got {_echo_int(value)}")
        return None
    if not math.isfinite(value):
        ctx.add(path, f"must be a finite number, got {value}")
        return None
    if integer:
        if isinstance(value, float) and not value.is_integer():
            ctx.add(path, f"must be a whole number, got {value}")
            return None
        value = int(value)
    else:
        value = float(value)
    if (
        (ge is not None and value < ge)
        or (gt is not None and value <= gt)
        or (le is not None and value > le)
        or (lt is not None and value >= lt)
    ):
        got = _echo_int(value) if isinstance(value, int) else f"{value:g}"
        ctx.add(path, f"must be {_bounds_text(ge, gt, le, lt)}, got {got}")
        return None
    return value


def _echo_int(value: int) -> str:
    """A whole number as written (99999999999, not 1e+11); its digit count when very long."""
    digits = str(abs(value))
    return str(value) if len(digits) <= 30 else f"a number of {len(digits)} digits"


def number_text_hint(value: str) -> str:
    """What to write instead of text that reads as a number, for 'got the text' messages.

    YAML 1.1 reads ``1.0e8`` and ``1e12`` as text: a float there needs a '.' in the
    mantissa and a sign in the exponent (``1.0e+8``). A quoted ``'12'`` is text too.
    Returns '' when ``value`` is not a finite decimal number.
    """
    match = _DECIMAL.match(value)
    if not match or not math.isfinite(as_float := float(value)):
        return ""
    mantissa, exponent = match.group(1), match.group(2)
    plain = _plain(as_float)
    if exponent is None:
        return f"; write it without quotes: {plain or mantissa}"
    if "." not in mantissa:
        mantissa += ".0"
    if exponent[:1] not in "+-":
        exponent = "+" + exponent
    other = f", or {plain}" if plain else ""
    return f"; YAML reads it as text: write {mantissa}e{exponent} (a '.' and a signed exponent){other}"


def _plain(value: float) -> str | None:
    """``value`` written without an exponent (1e8 -> 100000000), if that is short."""
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    text = repr(value)
    return None if "e" in text or "inf" in text or "nan" in text else text


def text(
    ctx: Context,
    value: object,
    path: str,
    default: object = MISSING,
    *,
    choices: Sequence[str] | None = None,
    allow_empty: bool = False,
) -> Any:
    """A string, optionally one of ``choices`` (with a did-you-mean hint)."""
    if value is MISSING:
        return default
    if not isinstance(value, str):
        ctx.add(path, f"must be text, got {describe(value)}")
        return None
    if not allow_empty and not value.strip():
        ctx.add(path, "must not be empty")
        return None
    if choices is not None and value not in choices:
        hint = suggest(value, choices)
        ctx.add(path, f"must be one of {', '.join(choices)}; got {value!r}{hint}")
        return None
    return value


def boolean(ctx: Context, value: object, path: str, default: object = MISSING) -> Any:
    """``true`` or ``false``."""
    if value is MISSING:
        return default
    if not isinstance(value, bool):
        ctx.add(path, f"must be true or false, got {describe(value)}")
        return None
    return value


def sequence(ctx: Context, value: object, path: str, *, nonempty: bool = False) -> list | None:
    """A list (``nonempty``: with at least one element)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        ctx.add(path, f"must be a list, got {describe(value)}")
        return None
    if nonempty and not value:
        ctx.add(path, "must not be an empty list")
        return None
    return list(value)


def numbers(
    ctx: Context, value: object, path: str, *, integer: bool = False, ge: float | None = 0
) -> tuple | None:
    """A list of numbers, each checked like :func:`number`; ``None`` if any is bad."""
    items = sequence(ctx, value, path, nonempty=True)
    if items is None:
        return None
    before = len(ctx.problems)
    out = tuple(number(ctx, v, item(path, i), integer=integer, ge=ge) for i, v in enumerate(items))
    return None if len(ctx.problems) > before else out


def given(**values: object) -> dict:
    """Keyword arguments that were present in the input (absent ones keep schema defaults)."""
    return {k: v for k, v in values.items() if v is not MISSING}


def identifier(ctx: Context, value: object, path: str) -> str | None:
    """A queue or pool id: letters, digits, '_' and '-' (it appears in field paths and tables)."""
    rid = text(ctx, value, path)
    if isinstance(rid, str) and not _ID.match(rid):
        ctx.add(path, f"{rid!r} is not a valid id: use letters, digits, '_' and '-' only")
        return None
    return rid


def queue_ref(ctx: Context, value: object, path: str, queue_ids: set[str]) -> str | None:
    """A reference to an existing queue id."""
    qid = text(ctx, value, path)
    if isinstance(qid, str) and qid not in queue_ids:
        hint = suggest(qid, queue_ids) or f"; queues are: {', '.join(sorted(queue_ids)) or 'none'}"
        ctx.add(path, f"unknown queue {qid!r}{hint}")
        return None
    return qid


def check_length(ctx: Context, path: str, n: int, horizon: Horizon | None, *, hourly: bool = False) -> None:
    """A per-interval list covers one day or the whole horizon (``hourly``: or 24 hours)."""
    if horizon is None:
        return
    ipd, total = horizon.intervals_per_day, horizon.n_intervals
    allowed = {ipd, 24} if hourly else {ipd, total}
    if n in allowed:
        return
    expected = f"{ipd} (one day of {horizon.interval_minutes}-minute intervals)"
    if hourly and ipd != 24:
        expected += " or 24 (hourly weights)"
    elif not hourly and total != ipd:
        expected += f" or {total} (all {horizon.days} days)"
    ctx.add(path, f"has {n} values; expected {expected}")

"""Path-addressed edits of plain scenario data (as read from YAML, before validation).

A path is dotted: ``horizon.days``, ``queues.support.handle_time.mean``. In a list,
an element with an ``id`` is addressed by that id (``pools.manila_t1``), an escalation
by its target (``queues.tier2.escalations.sme.probability``), any element by its index
(``queues.0``). ``pools.<id>.agents`` is short for
``pools.<id>.staffing.agents`` (likewise ``per_interval`` and ``shifts``), and
setting one staffing form replaces the others. A missing key may be added when the
scenario format knows it at that place (``queues.q.patience``); anything else is an
:class:`~bposim.errors.InputError` naming the path, with a "did you mean" hint.
Setting a key to ``None`` (YAML ``null``) removes it, so it takes its default: that
switches an optional block off (``queues.calls.callback``); a required field then
fails validation as missing.

Values given as text are read as YAML (``"0.3"`` is 0.3, ``"[1, 2]"`` a list), and
:func:`parse_values` reads the value lists of a sweep: ``60:120:10`` or ``a,b,c``.
"""

from __future__ import annotations

import copy
import difflib
import math
import re
from collections.abc import Mapping
from typing import Any

from bposim.errors import InputError, ScenarioError

__all__ = ["set_path", "apply_overrides", "parse_value", "parse_values", "parse_assignment"]

_NUMBER = r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*"
_RANGE = re.compile(f"^{_NUMBER}:{_NUMBER}:{_NUMBER}$")
_STAFFING_FORMS = ("agents", "per_interval", "shifts", "per_interval_csv")


def _known_keys() -> dict[str, tuple[str, ...]]:
    """Keys the scenario format accepts at each place (``[]`` marks a list element)."""
    from bposim.scenario import build, queues

    dist = getattr(queues, "DIST_KEYS", ())
    known = {
        "": getattr(build, "TOP_KEYS", ()),
        "horizon": getattr(build, "HORIZON_KEYS", ()),
        "simulation": getattr(build, "SIMULATION_KEYS", ()),
        "queues[]": getattr(queues, "QUEUE_KEYS", ()),
        "queues[].arrivals": getattr(queues, "ARRIVAL_KEYS", ()),
        "queues[].service_level": getattr(queues, "SL_KEYS", ()),
        "queues[].escalations[]": getattr(queues, "ESCALATION_KEYS", ()),
        "pools[]": getattr(build, "POOL_KEYS", ()),
        "pools[].staffing": getattr(build, "STAFFING_KEYS", _STAFFING_FORMS),
        "pools[].staffing.shifts[]": getattr(build, "SHIFT_KEYS", ()),
    }
    for key in ("handle_time", "after_work", "patience"):
        known[f"queues[].{key}"] = dist
    return known


def _label(element: object, index: int) -> str:
    """How a list element is named in a path: its id, an escalation's target (``to``),
    else its index."""
    if isinstance(element, Mapping):
        for key in ("id", "to"):
            if isinstance(element.get(key), str):
                return element[key]
    return str(index)


def _unknown(path: str, done: list[str], segment: str, choices: list[str], rest: list[str],
             what: str) -> InputError:
    close = difflib.get_close_matches(segment, choices, n=1, cutoff=0.6)
    where = ".".join(done) or "the top level"
    hint = ""
    if close:
        hint = f"; did you mean {'.'.join(done + [close[0]] + rest)!r}?"
    elif choices:
        shown = ", ".join(choices[:12]) + (", ..." if len(choices) > 12 else "")
        hint = f" (there: {shown})"
    return InputError(f"unknown path {path!r}: {where} has no {what} {segment!r}{hint}")


def set_path(data: dict, path: str, value: Any) -> str:
    """Set the field at dotted ``path`` in ``data`` (in place) to ``value``.

    Returns the field's path as validation reports it (``pools[0].staffing.agents``).
    Raises :class:`InputError` for a path that does not exist in ``data``.
    """
    if not isinstance(path, str) or not path.strip() or any(not s.strip() for s in path.split(".")):
        raise InputError(f"invalid path {path!r}: use dotted names like pools.tier1.agents")
    segments = [s.strip() for s in path.split(".")]
    known = _known_keys()
    node: Any = data
    done: list[str] = []      # the path as written, resolved so far
    canonical = ""            # the path as validation writes it
    pattern = ""              # the place in the format: pools[].staffing
    i = 0
    while i < len(segments):
        seg, last = segments[i], i == len(segments) - 1
        rest = segments[i + 1:]
        if isinstance(node, list):
            labels = [_label(el, k) for k, el in enumerate(node)]
            if seg in labels:
                k = labels.index(seg)
            elif seg.isdigit() and int(seg) < len(node):
                k = int(seg)
            else:
                ids = [x for x in labels if not x.isdigit()]
                raise _unknown(path, done, seg, ids or labels, rest,
                               "element" if not ids else "id")
            canonical, pattern = f"{canonical}[{k}]", pattern + "[]"
            if last:
                node[k] = copy.deepcopy(value)
                return canonical
            node = node[k]
        elif isinstance(node, dict):
            keys = [str(k) for k in node]
            allowed = known.get(pattern, ())
            if pattern == "pools[]" and seg in _STAFFING_FORMS and seg not in keys:
                segments[i:i + 1] = ["staffing", seg]   # pools.<id>.agents
                continue
            if seg not in keys and seg not in allowed:
                extra = list(_STAFFING_FORMS) if pattern == "pools[]" else []
                raise _unknown(path, done, seg, list(dict.fromkeys(keys + list(allowed) + extra)),
                               rest, "key")
            key = next((k for k in node if str(k) == seg), seg)
            canonical = f"{canonical}.{seg}" if canonical else seg
            pattern = f"{pattern}.{seg}" if pattern else seg
            if last:
                if pattern.endswith("].staffing." + seg) and seg in _STAFFING_FORMS:
                    for other in _STAFFING_FORMS:  # one staffing form replaces the others
                        node.pop(other, None)
                if value is None:  # null removes the field: it takes its default (an optional block: off)
                    node.pop(key, None)
                else:
                    node[key] = copy.deepcopy(value)
                return canonical
            if key not in node or node[key] is None:
                node[key] = [] if seg in ("queues", "pools") else {}
            node = node[key]
        else:
            raise InputError(f"unknown path {path!r}: {'.'.join(done)} is {_describe(node)}, "
                             f"so it has no field {seg!r}")
        done.append(seg)
        i += 1
    raise AssertionError("unreachable")


def apply_overrides(data: Mapping, overrides: Mapping[str, Any]) -> tuple[dict, dict[str, str]]:
    """A deep copy of ``data`` with every ``path: value`` of ``overrides`` set, in order.

    Returns the new data and, for each path, the field path validation reports.
    """
    new = copy.deepcopy(dict(data))
    where = {path: set_path(new, path, value) for path, value in overrides.items()}
    return new, where


def _describe(value: object) -> str:
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"the value {value!r}"


def parse_value(text: str) -> Any:
    """A value from the command line, read as YAML: ``"0.3"`` → 0.3, ``"[1,2]"`` → [1, 2].

    Times stay text (``8:00`` is "8:00", not YAML 1.1's 480), as in scenario files.
    """
    from bposim.scenario.load import read_yaml

    if not text.strip():
        return text
    try:
        value, _lines, problems = read_yaml(text, "<value>")
    except ScenarioError as exc:
        raise InputError(f"cannot read the value {text!r}: {exc.problems[0].message}") from None
    if problems:
        raise InputError(f"cannot read the value {text!r}: {problems[0].message}")
    return value


def parse_values(text: str) -> list:
    """The values of one swept setting: a range ``START:STOP:STEP`` (STOP included when
    it lies on the grid), a comma list ``a,b,c``, or a single value."""
    m = _RANGE.match(text)
    if m:
        return _grid(text, *m.groups())
    stripped = text.strip()
    if stripped[:1] in "[{" or "," not in stripped:
        return [parse_value(text)]
    parts = [p.strip() for p in stripped.split(",")]
    if any(not p for p in parts):
        raise InputError(f"bad value list {text!r}: an empty item between commas")
    return [parse_value(p) for p in parts]


def _grid(text: str, *parts: str) -> list:
    integer = all(re.fullmatch(r"\s*[-+]?\d+\s*", p) for p in parts)
    start, stop, step = (int(p) if integer else float(p) for p in parts)
    if step == 0:
        raise InputError(f"bad range {text!r}: the step must not be 0")
    if (stop - start) * step < 0:
        raise InputError(f"bad range {text!r}: the step {step:g} never reaches {stop:g} from {start:g}")
    count = math.floor((stop - start) / step + 1e-9) + 1
    if count > 10_000:
        raise InputError(f"bad range {text!r}: {count} values; at most 10000")
    if integer:
        return [start + k * step for k in range(count)]
    return [round(start + k * step, 10) for k in range(count)]


def parse_assignment(text: str) -> tuple[str, str]:
    """``"path=value"`` → ``("path", "value")``."""
    path, sep, value = text.partition("=")
    if not sep or not path.strip():
        raise InputError(f"bad setting {text!r}: expected PATH=VALUE, e.g. pools.tier1.agents=10:14:2")
    return path.strip(), value.strip()

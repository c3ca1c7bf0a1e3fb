"""Scenario variants: a base scenario file and its ``variants`` section, each variant
validated with problems placed on the variant's own lines.

Kept apart from :mod:`bposim.experiments` (which runs them) so that checking a file,
as ``bposim validate`` does, needs no simulation, pandas or scipy.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from pathlib import Path

from bposim.errors import InputError, Problem, ScenarioError
from bposim.overlay import set_path
from bposim.scenario.fields import Context
from bposim.scenario.load import load_scenario, load_scenario_data, parse_scenario
from bposim.scenario.schema import Scenario

__all__ = ["load_variants", "variants_from_data", "variant_settings"]


def load_variants(path: str | os.PathLike) -> dict[str, Scenario]:
    """The base scenario of the file at ``path`` and each of its ``variants``, by name.

    The base (the file without ``variants``) comes first, named after the file.
    Raises :class:`ScenarioError` naming the variant and the path when one is invalid.
    """
    file = Path(path)
    base = load_scenario(file)             # every problem of the base, with lines
    data, lines = load_scenario_data(file)
    variants = variants_from_data(data, source=str(path), base_dir=file.parent, lines=lines)
    name, k = file.stem, 2
    while name in variants:
        name, k = f"{file.stem}-{k}", k + 1
    return {name: base, **variants}


def variants_from_data(data: Mapping, source: str = "<data>", base_dir: str | os.PathLike | None = None,
                       lines: Mapping[str, int] | None = None) -> dict[str, Scenario]:
    """Each entry of ``data["variants"]`` applied to the base data and validated."""
    raw = data.get("variants") or {}
    if not isinstance(raw, Mapping):
        raise ScenarioError(Problem(source, "variants", "must be a mapping of variant name to "
                                    "{field.path: value, ...}"))
    base = {k: v for k, v in data.items() if k != "variants"}
    lines = lines or {}
    out: dict[str, Scenario] = {}
    problems: list[Problem] = []
    for name, sets in raw.items():
        at = f"variants.{name}"
        if not isinstance(sets, Mapping):
            problems.append(Problem(source, at, "must be a mapping of field path to value", lines.get(at)))
            continue
        variant, where = copy.deepcopy(base), {}
        for path, value in sets.items():
            try:
                where[path] = set_path(variant, str(path), value)
            except InputError as exc:
                problems.append(Problem(source, at, str(exc), lines.get(f"{at}.{path}", lines.get(at))))
        if len(where) < len(sets):
            continue
        if "name" not in sets:
            variant["name"] = f"{base.get('name', 'scenario')} [{name}]"
        try:
            out[str(name)] = parse_scenario(variant, source, base_dir)
        except ScenarioError as exc:
            nulls = {where[path] for path, value in sets.items() if value is None}
            problems += [_in_variant(p, str(name), source, where, lines, nulls) for p in exc.problems]
    if problems:
        raise ScenarioError(problems)
    return out


def _in_variant(p: Problem, name: str, file: str, where: dict, lines: Mapping,
                nulls: set[str] = frozenset()) -> Problem:
    """A problem of a variant, placed on the variant's setting that caused it if any.

    ``nulls``: fields the variant set to null (removed); a required one among them is
    reported as such rather than as missing.
    """
    line = p.line if p.line is not None or p.file != file else Context(file, lines).line(p.path)
    message = null_message(p, nulls)
    for path, field in where.items():
        if p.path == field or p.path.startswith((field + ".", field + "[")):
            line = lines.get(f"variants.{name}.{path}", line)
            break
    return Problem(p.file, f"variants.{name}: {p.path}" if p.path else f"variants.{name}",
                   message, line)


def null_message(p: Problem, nulls: set[str]) -> str:
    """``p``'s message, saying so when it is a required field that an override set to
    null (``nulls``: the field paths set to null) rather than calling it missing."""
    if p.path in nulls and p.message.startswith("is missing"):
        return "is required, so it cannot be switched off with null"
    return p.message


def variant_settings(path: str | os.PathLike, name: str) -> dict[str, object]:
    """The settings (field path → value) of variant ``name`` in the file at ``path``,
    e.g. to sweep around that variant; an InputError lists the variants there are."""
    data, _lines = load_scenario_data(Path(path))
    raw = data.get("variants") or {}
    if not isinstance(raw, Mapping) or name not in raw:
        names = ", ".join(map(str, raw)) if isinstance(raw, Mapping) and raw else "none"
        raise InputError(f"{path}: no variant {name!r} (variants there: {names})")
    sets = raw[name]
    if not isinstance(sets, Mapping):
        raise InputError(f"{path}: variants.{name} must be a mapping of field path to value")
    return {str(k): v for k, v in sets.items() if str(k) != "name"}

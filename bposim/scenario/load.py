"""Load a scenario from YAML (or a dict) into a validated :class:`Scenario`.

YAML is parsed safely: composed into nodes with :class:`yaml.SafeLoader` and turned
into plain Python values here, so only standard tags are accepted and every field
path keeps the line it came from (problems then say ``file:line: path: message``).
Scalars are built from the node text, so ``start: 8:00`` stays the text "8:00"
rather than YAML 1.1's sexagesimal 480. Validation lives in :mod:`.build`.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bposim.errors import InputError, Problem, ScenarioError
from bposim.scenario.build import build_scenario
from bposim.scenario.csvfile import read_regular_file
from bposim.scenario.fields import Context, item, join
from bposim.scenario.schema import Scenario

__all__ = ["load_scenario", "load_scenario_data", "parse_scenario", "read_yaml"]

_STD = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_STD + t for t in ("str", "int", "float", "bool", "null", "timestamp")}
_MERGE_TAG = _STD + "merge"
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_\-]*$")
_MAX_NODES = 1_000_000  # guards against alias bombs ("billion laughs")
MAX_DEPTH = 64  # lists and mappings nested deeper than this are refused (no scenario needs 10)
_COUNT_ABOVE = 256 * 1024  # texts longer than this have their values counted before composing
MAX_YAML_BYTES = 20 * 1024 * 1024  # a scenario file is a few kilobytes; refuse 20 MB and more
# libyaml's C parser and composer where installed (20-50x faster); same nodes and marks
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_scenario(path: str | os.PathLike) -> Scenario:
    """Read, check and build the scenario in the YAML file at ``path``.

    Raises :class:`ScenarioError` listing every problem (file, field path, line);
    a forecast CSV named by the scenario is read relative to the file's folder.
    """
    file = Path(path)
    scenario = parse_scenario(_read_text(path), source=str(path), base_dir=file.parent)
    return dataclasses.replace(scenario, source=file.resolve())


def load_scenario_data(path: str | os.PathLike) -> tuple[dict, dict[str, int]]:
    """The plain data of the scenario file at ``path`` (not validated, ``variants``
    included) and the line of each field path in it (``queues[0].handle_time``).

    Raises :class:`ScenarioError` when the file cannot be read or is not valid YAML.
    """
    data, lines, problems = read_yaml(_read_text(path), str(path))
    if problems:
        raise ScenarioError(problems)
    if not isinstance(data, Mapping):
        raise ScenarioError(Problem(str(path), "", "a scenario must be a mapping with keys name, "
                                    "horizon, queues and pools"))
    return data, lines


def _read_text(path: str | os.PathLike, limit: int | None = None) -> str:
    """The text of a regular file of at most ``limit`` bytes (default :data:`MAX_YAML_BYTES`)."""
    limit = MAX_YAML_BYTES if limit is None else limit
    shown = str(path)
    try:
        data = read_regular_file(path, limit, "scenario file")
        return data.decode("utf-8")
    except InputError as exc:
        raise ScenarioError(Problem(shown, "", str(exc))) from None
    except FileNotFoundError:
        raise ScenarioError(Problem(shown, "", "file not found")) from None
    except IsADirectoryError:
        raise ScenarioError(Problem(shown, "", "is a directory, not a scenario file")) from None
    except UnicodeDecodeError as exc:
        message = f"is not UTF-8 text (invalid byte at position {exc.start})"
        raise ScenarioError(Problem(shown, "", message)) from None
    except OSError as exc:
        raise ScenarioError(Problem(shown, "", f"cannot read: {exc.strerror or exc}")) from None


def parse_scenario(
    text_or_dict: str | Mapping, source: str = "<string>", base_dir: str | os.PathLike | None = None
) -> Scenario:
    """Check and build a scenario from YAML text or already-parsed data.

    ``source`` names the input in problems; ``base_dir`` is where relative paths
    (``forecast_csv``) are resolved (default: the current directory). Data given as
    a dict has no line numbers. Raises :class:`ScenarioError` with every problem.
    """
    if isinstance(text_or_dict, str):
        data, lines, problems = read_yaml(text_or_dict, source)
    elif isinstance(text_or_dict, Mapping):
        data, lines, problems = text_or_dict, {}, []
    else:
        raise TypeError(f"parse_scenario needs YAML text or a mapping, not {type(text_or_dict).__name__}")
    ctx = Context(source, lines)
    ctx.problems.extend(problems)  # duplicate keys: reported, validation goes on with the last value
    if isinstance(data, Mapping) and "variants" in data:  # experiments: see bposim.experiments
        _check_variants(ctx, data["variants"])
        data = {k: v for k, v in data.items() if k != "variants"}
    scenario = build_scenario(data, ctx, Path(base_dir) if base_dir is not None else None)
    if ctx.problems:  # in file order; problems in a forecast CSV come after the scenario's
        raise ScenarioError(sorted(ctx.problems, key=lambda p: (p.file != source, p.file, p.line or 0)))
    return scenario


def _check_variants(ctx: Context, value: object) -> None:
    """``variants``: a mapping of variant name to a mapping of field path to value.

    Only the shape is checked here; each variant is applied and validated by
    :func:`bposim.experiments.load_variants`.
    """
    if not isinstance(value, Mapping) or not value:
        ctx.add("variants", "must be a mapping of variant name to {field.path: value, ...}")
        return
    for name, sets in value.items():
        path = join("variants", name)
        if not _NAME.match(str(name)):
            ctx.add(path, f"{str(name)!r} is not a valid variant name: use letters, digits, '_' and '-'")
        if not isinstance(sets, Mapping) or not sets:
            ctx.add(path, "must be a mapping of field path to value, e.g. {pools.tier1.agents: 20}")


def read_yaml(text: str, source: str = "<string>") -> tuple[object, dict[str, int], list[Problem]]:
    """Plain data from YAML ``text``, the 1-based line of each field path in it, and
    problems that do not stop validation (duplicate keys).

    Raises :class:`ScenarioError` for syntax errors, unsupported tags (such as
    ``!!python/object``), recursive aliases and an empty document.
    """
    try:
        if len(text) > _COUNT_ABOVE:
            _check_size(text, source)
        root = yaml.compose(text, Loader=_LOADER)
    except RecursionError:  # the pure-Python composer recurses once per nesting level
        raise ScenarioError(Problem(source, "", f"lists or mappings are nested too deeply "
                                    f"(at most {MAX_DEPTH} levels)")) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = "YAML syntax error: " + "; ".join(
            str(part) for part in (exc.context, exc.problem) if part
        )
        raise ScenarioError(Problem(source, "", message, mark.line + 1 if mark else None)) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(Problem(source, "", f"YAML error: {exc}")) from None
    if root is None:
        raise ScenarioError(Problem(source, "", "the file is empty; a scenario needs name, horizon, "
                                    "queues and pools"))
    converter = _Converter(source)
    data = converter.value(root, "")
    if converter.fatal:
        raise ScenarioError(converter.problems)
    return data, converter.lines, converter.problems


def _check_size(text: str, source: str) -> None:
    """Refuse a document of more than :data:`_MAX_NODES` values before composing it (its
    nodes would take about 400 bytes each); the events are streamed, so this is cheap."""
    loader = _LOADER(text)
    try:
        count = 0
        while loader.check_event():
            event = loader.get_event()
            count += 1
            if count > _MAX_NODES:
                line = event.start_mark.line + 1 if event.start_mark else None
                raise ScenarioError(Problem(source, "", f"the document has more than {_MAX_NODES} "
                                            "values; give long series in a CSV file", line))
    finally:
        loader.dispose()


class _Converter:
    """Turns composed YAML nodes into dicts, lists and scalars, recording lines.

    Duplicate keys are problems (the last value is kept so validation can go on);
    unsupported tags and recursive aliases are fatal.
    """

    def __init__(self, source: str):
        self.source = source
        self.lines: dict[str, int] = {}
        self.problems: list[Problem] = []
        self.fatal = False
        self._scalars = yaml.constructor.SafeConstructor()
        self._active: set[int] = set()
        self._count = 0

    def _problem(self, path: str, message: str, node: Node, fatal: bool = True) -> None:
        self.problems.append(Problem(self.source, path, message, node.start_mark.line + 1))
        self.fatal = self.fatal or fatal

    def value(self, node: Node, path: str) -> object:
        self._count += 1
        if self._count > _MAX_NODES:
            if not self.fatal:
                self._problem(path, f"the document expands to more than {_MAX_NODES} values", node)
            return None
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        if id(node) in self._active:
            self._problem(path, "a YAML alias refers to itself (recursive structure)", node)
            return None
        if len(self._active) >= MAX_DEPTH:
            if not self.fatal:
                self._problem(path, f"lists or mappings are nested more than {MAX_DEPTH} levels deep",
                              node)
            return None
        self._active.add(id(node))
        try:
            if isinstance(node, SequenceNode) and node.tag == _STD + "seq":
                return [self._child(child, item(path, i), child) for i, child in enumerate(node.value)]
            if isinstance(node, MappingNode) and node.tag == _STD + "map":
                return self._mapping(node, path)
            self._problem(path, f"unsupported YAML tag {_short(node.tag)}", node)
            return None
        finally:
            self._active.discard(id(node))

    def _child(self, node: Node, path: str, line_node: Node) -> object:
        self.lines[path] = line_node.start_mark.line + 1
        return self.value(node, path)

    def _scalar(self, node: ScalarNode, path: str) -> object:
        if node.tag not in _SCALAR_TAGS:
            self._problem(path, f"unsupported YAML tag {_short(node.tag)}: only plain values, "
                          "lists and mappings are allowed", node)
            return None
        if node.tag in (_STD + "int", _STD + "float") and ":" in node.value:
            return node.value  # YAML 1.1 sexagesimal (8:00 -> 480): keep the text
        try:
            # the tag's constructor directly: construct_object would also keep every node
            return self._scalars.yaml_constructors[node.tag](self._scalars, node)
        except (yaml.YAMLError, ValueError):
            return node.value  # e.g. the impossible date 2026-13-05: validation reports the text

    def _mapping(self, node: MappingNode, path: str) -> dict:
        out: dict = {}
        # '<<: *base' merges first, so that explicit keys (and their lines) win over them;
        # among several merged mappings the earlier ones win, as in YAML's merge type
        merges = [value for key, value in node.value if key.tag == _MERGE_TAG]
        for merged in reversed(merges):
            sources = merged.value if isinstance(merged, SequenceNode) else [merged]
            for source in reversed(sources):
                if isinstance(source, MappingNode):
                    merged_value = self.value(source, path)
                    if isinstance(merged_value, dict):  # None: already a (fatal) problem
                        out.update(merged_value)
                else:
                    self._problem(path, "'<<' must merge a mapping or a list of mappings", source)
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            if not isinstance(key_node, ScalarNode):
                self._problem(path, "mapping keys must be plain names, not lists or mappings", key_node)
                continue
            if key_node.tag not in _SCALAR_TAGS:
                self._problem(path, f"unsupported YAML tag {_short(key_node.tag)} on a key", key_node)
                continue
            key = key_node.value  # keys stay text: queue ids and weekdays are names
            if key in first_line:
                self._problem(join(path, key), f"duplicate key {key!r} (first on line {first_line[key]})",
                              key_node, fatal=False)
            first_line.setdefault(key, key_node.start_mark.line + 1)
            out[key] = self._child(value_node, join(path, key), key_node)
        return out


def _short(tag: str) -> str:
    return "!!" + tag[len(_STD):] if tag.startswith(_STD) else tag

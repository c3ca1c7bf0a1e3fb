"""``bposim new``: write a commented starter scenario from one of the shipped templates.

Templates are YAML files in ``bposim/templates/``; the first line of each is
``# <name>: <one-line description>``. Every field in a template is commented with
its meaning and default, so a new user can edit a working file instead of starting
from the reference. The Python side is usable without the command::

    from bposim.cli.new_cmd import templates, template_text, write_template
    templates()                                  # {"single-queue": "one inbound ...", ...}
    write_template("single-queue", "desk.yaml")  # refuses to overwrite unless force=True
"""

from __future__ import annotations

import difflib
import os
import re
import shlex
import sys
import tempfile
from importlib.resources import files
from pathlib import Path

import click

from bposim.cli.common import user_errors
from bposim.errors import InputError

#: The order ``bposim new --list`` shows; any other template follows alphabetically.
TEMPLATE_ORDER = ("single-queue", "tiered-support", "multi-skill", "sourcing-mix", "outbound")

_FILE_TOKEN = re.compile(r"\bFILE\b")
# a "next steps" comment: "#   bposim run FILE -n 10           what it does"
_STEP = re.compile(r"^(#\s+)(bposim \S.*?)(\s{2,})(\S.*)$")


def _folder():
    return files("bposim").joinpath("templates")


def templates() -> dict[str, str]:
    """Template name -> one-line description, in the order ``bposim new --list`` shows."""
    found = {}
    for entry in _folder().iterdir():
        if entry.name.endswith(".yaml"):
            name = entry.name[: -len(".yaml")]
            first = entry.read_text(encoding="utf-8").split("\n", 1)[0]
            prefix = f"# {name}:"
            found[name] = first[len(prefix):].strip().rstrip(".") if first.startswith(prefix) else ""
    rank = {name: i for i, name in enumerate(TEMPLATE_ORDER)}
    return {name: found[name]
            for name in sorted(found, key=lambda n: (rank.get(n, len(rank)), n))}


def _resolve(name: str) -> str:
    """The template's canonical name; ``single_queue`` and ``Single-Queue`` are accepted."""
    names = templates()
    key = name.strip().lower().replace("_", "-")
    if key.endswith(".yaml"):
        key = key[: -len(".yaml")]
    if key in names:
        return key
    close = difflib.get_close_matches(key, list(names), n=1, cutoff=0.5)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    raise InputError(f"unknown template '{name}'{hint} (bposim new --list shows all: "
                     f"{', '.join(names)})")


def template_text(name: str) -> str:
    """The text of template ``name`` (a valid scenario file, comments included)."""
    return _folder().joinpath(f"{_resolve(name)}.yaml").read_text(encoding="utf-8")


def _personalise(text: str, path: Path) -> str:
    """Put the real file name and results folder into the "next steps" comments,
    keeping their explanations in one column."""
    shown = shlex.quote(str(path))
    results = shlex.quote(f"results/{path.stem}")
    lines = text.split("\n")
    steps = {}
    for i, line in enumerate(lines):
        step = _STEP.match(line)
        if step:
            lead, command, gap, note = step.groups()
            width = len(lead) + len(command) + len(gap) - 2   # the template's column
            command = _FILE_TOKEN.sub(lambda _m: shown, command).replace("results/NAME", results)
            steps[i] = (lead + command, width, note)
    if steps:
        column = max(max(len(head), width) for head, width, _ in steps.values())
        for i, (head, _width, note) in steps.items():
            lines[i] = f"{head.ljust(column)}  {note}"
    return "\n".join(lines)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_template(name: str, path: str | os.PathLike, *, force: bool = False) -> Path:
    """Write template ``name`` to ``path`` atomically and return the path.

    The text goes to a temporary file in the destination folder, which is then
    linked (or, with ``force``, renamed) into place, so ``path`` is either absent,
    or complete. Raises :class:`~bposim.errors.InputError` for an unknown template,
    a missing folder, or an existing ``path`` without ``force``.
    """
    path = Path(path)
    text = _personalise(template_text(name), path)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise InputError(f"{path} is a folder; give a file name such as {path / (_resolve(name) + '.yaml')}")
    if not folder.is_dir():
        raise InputError(f"cannot write {path}: folder {folder} does not exist")
    if path.exists() and not force:
        raise InputError(f"{path} already exists; use --force to overwrite it")
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        if force:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)           # atomic, and never replaces a file
            except FileExistsError:
                raise InputError(f"{path} already exists; use --force to overwrite it") from None
            except OSError:                  # no hard links here: check, then rename
                if path.exists():
                    raise InputError(f"{path} already exists; use --force to overwrite it") from None
                os.replace(tmp, path)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if tmp and os.path.exists(tmp):
            os.unlink(tmp)
    return path


@click.command("new")
@click.argument("template", required=False)
@click.argument("file", required=False, type=click.Path(path_type=Path))
@click.option("--list", "list_templates", is_flag=True,
              help="List the templates with a one-line description, then exit.")
@click.option("--force", is_flag=True, help="Overwrite FILE if it already exists.")
@user_errors
def new_command(template, file, list_templates, force):
    """Write a commented starter scenario from TEMPLATE to FILE.

    FILE defaults to TEMPLATE.yaml in the current folder; '-' prints the scenario
    instead. An existing FILE is never overwritten without --force. Every field in
    the file is commented with its meaning and default. See --list for templates."""
    if list_templates:
        names = templates()
        width = max(map(len, names))
        for name, description in names.items():
            click.echo(f"{name.ljust(width)}  {description}")
        return
    if template is None:
        raise InputError("missing TEMPLATE; `bposim new --list` shows the templates")
    name = _resolve(template)
    if file is not None and str(file) == "-":
        sys.stdout.write(template_text(name))
        return
    path = write_template(name, file if file is not None else Path(f"{name}.yaml"), force=force)
    shown = shlex.quote(str(path))
    click.echo(f"Wrote {path} (template {name}). Next: bposim validate {shown}, then "
               f"bposim run {shown}")

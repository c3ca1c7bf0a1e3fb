"""Shared CLI plumbing: one-line errors with exit status 2, table printing."""

from __future__ import annotations

import functools
import logging
import sys
from typing import Callable

import click

from bposim.errors import BposimError

USER_ERROR = 2


def fail(message: str) -> None:
    """Print ``message`` as a clear error and exit with status 2 (a user mistake)."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(USER_ERROR)


def user_errors(func: Callable) -> Callable:
    """Turn bposim's own errors raised by ``func`` into a message and exit status 2."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except BposimError as exc:
            fail(str(exc))

    return wrapper


class Share(click.ParamType):
    """A share on the command line: ``0.33`` and ``33%`` alike (:func:`bposim.numfmt.parse_share`)."""

    name = "share"

    def convert(self, value, param, ctx):
        from bposim.numfmt import parse_share

        if isinstance(value, float):
            return value
        try:
            return parse_share(value)
        except ValueError:
            self.fail(f"{value!r} is not a share: give a fraction like 0.33 or a percentage like 33%",
                      param, ctx)


SHARE = Share()


class ProgressBar:
    """A click progress bar on stderr fed with absolute counts ``bar(done, total)``, or
    nothing when ``quiet``.  It is drawn at the first count, once the work has started,
    so an error raised before (a refused scenario or output folder) prints alone."""

    def __init__(self, label: str, length: int, quiet: bool, *, show_eta: bool = True):
        self._args = None if quiet else {"length": length, "label": label, "show_pos": True,
                                         "show_eta": show_eta}
        self.bar = None
        self.shown = 0

    def __enter__(self):
        return self

    def __call__(self, done: int, _total: int) -> None:
        if self._args is None:
            return
        if self.bar is None:
            self.bar = click.progressbar(**self._args, file=sys.stderr)
            self.bar.__enter__()
        if done > self.shown:
            self.bar.update(done - self.shown)
            self.shown = done

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


ENGINE_CHOICE = click.Choice(["auto", "simpy", "fast"])


def engine_option(func: Callable) -> Callable:
    """``--engine auto|simpy|fast``: overrides the scenario's ``simulation.engine``."""
    return click.option(
        "--engine", type=ENGINE_CHOICE, default=None,
        help="Engine for the simulations: auto (the compiled fast engine where it covers the "
             "scenario, else SimPy), simpy or fast (an error if it cannot cover the scenario). "
             "Results are identical. Default: the scenario's simulation.engine (auto).")(func)


def engine_notes(func: Callable) -> Callable:
    """Print each distinct message of the ``bposim.engine`` logger (why ``auto`` runs on
    SimPy, the fast engine's compile time) once, on stderr, while the command runs."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        logger = logging.getLogger("bposim.engine")
        handler, level = _OnceHandler(), logger.level
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        try:
            return func(*args, **kwargs)
        finally:
            logger.removeHandler(handler)
            logger.setLevel(level)

    return wrapper


class _OnceHandler(logging.Handler):
    """Echo each distinct log message once (a plan runs dozens of simulations)."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.seen: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message not in self.seen:
            self.seen.add(message)
            click.echo(message, err=True)

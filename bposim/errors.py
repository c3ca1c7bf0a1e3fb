"""Exception hierarchy: user mistakes get clear messages, never tracebacks."""

from __future__ import annotations

from dataclasses import dataclass


class BposimError(Exception):
    """Base class for every error bposim raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a user's input: where it is and what is wrong."""

    file: str
    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        field = f" {self.path}:" if self.path else ""
        return f"{where}:{field} {self.message}"


class ScenarioError(BposimError):
    """A scenario (or an input file it names) is invalid; carries every problem found."""

    def __init__(self, problems: list[Problem] | Problem):
        if isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class InputError(BposimError):
    """A command-line argument or input file (forecast CSV, results dir) is invalid."""


class SimulationError(BposimError):
    """The simulation reached a state that a valid scenario must never produce."""

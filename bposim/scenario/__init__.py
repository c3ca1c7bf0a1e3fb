"""Scenarios: the typed model of a contact centre and its YAML loader.

``load_scenario(path)`` / ``parse_scenario(text_or_dict)`` return a validated
:class:`Scenario` or raise :class:`~bposim.errors.ScenarioError` listing every problem.
"""

from bposim.scenario.load import load_scenario, parse_scenario
from bposim.scenario.schema import (
    CHANNELS,
    ESCALATION_MODES,
    SL_DEFINITIONS,
    TIERS,
    WEEKDAYS,
    Arrivals,
    Escalation,
    Horizon,
    Pool,
    Queue,
    Scenario,
    ServiceLevelTarget,
    Shift,
    SimulationSettings,
    Skill,
    Staffing,
)

__all__ = [
    "load_scenario",
    "parse_scenario",
    "Arrivals",
    "Escalation",
    "Horizon",
    "Pool",
    "Queue",
    "Scenario",
    "ServiceLevelTarget",
    "Shift",
    "SimulationSettings",
    "Skill",
    "Staffing",
    "CHANNELS",
    "ESCALATION_MODES",
    "SL_DEFINITIONS",
    "TIERS",
    "WEEKDAYS",
]

"""Planning: from a forecast and targets to a least-cost shift schedule (``bposim plan``).

Stage 1 (:mod:`.requirements`): agents per interval and pool, Erlang A then simulation.
Stage 2 (:mod:`.schedule`, :mod:`.templates`): shifts chosen by an integer program.
Stage 3 (:mod:`.loop`): the schedule simulated, shortfalls raised, solved again.
:func:`plan` runs them and the Erlang C reference; :mod:`.outputs` keeps the folder.
"""

from bposim.planning.core import Plan, plan

__all__ = ["Plan", "plan"]

"""Engine events as data: ``(time, kind, target, epoch)`` with an optional payload.

SimPy keeps the clock: an :class:`Event` goes on SimPy's own heap as the entry
``Environment.schedule(event, NORMAL, delay)`` makes, ``(now + delay, NORMAL, next
insertion id, event)``, so ties are broken by insertion order as for any SimPy event
(the engine pushes the entry itself, saving a call per event). It is a light slotted
object instead of a ``simpy.Timeout`` with a closure: its ``callbacks`` is the
one-handler tuple the engine registered for its ``kind`` (the dispatch table), which
``Environment.step`` calls with the event; handlers read the time from
``event.time``, the ``env.now`` SimPy has just set.

Cancellation is lazy: nothing is ever taken off the heap. A handler ignores an event
that has gone stale, because the agent's ``epoch`` moved on (a new duty span started)
or the target's state says the event no longer applies (an answered contact's
abandonment deadline).
"""

from __future__ import annotations

# Event kinds: the index into the engine's dispatch table.
(ARRIVAL, ABANDON, OVERFLOW, END_TALK, FREE, COME_BACK,  # contacts and the dispatcher
 ON_DUTY, OFF_DUTY, DUE, SHRINK_DUE, BACK,  # the workforce
 WAKE, PREVIEW_DONE, DIAL_END, DIAL_ANSWER, CONNECT_TIMEOUT, OUT_TALK_END,  # the dialer
 RETRY, CALLBACK_DUE, CALLBACK_MISS,  # retrials after abandonment, callbacks
 RELEASE, TASK_END,  # the backlog: a coaching session becomes workable, a task ends
 CHAT_END, CHAT_FREE,  # chat: a session's talk ends, its slot frees
 CHAT_BLOCK_END,  # chat: a backlog block ends (agents saving chat slots take chats again)
 ) = range(25)
KIND_NAMES = (
    "arrival", "abandon", "overflow", "end_talk", "free", "come_back",
    "on_duty", "off_duty", "due", "shrink_due", "back",
    "wake", "preview_done", "dial_end", "dial_answer", "connect_timeout", "out_talk_end",
    "retry", "callback_due", "callback_miss",
    "release", "task_end",
    "chat_end", "chat_free",
    "chat_block_end",
)
N_KINDS = len(KIND_NAMES)


class Event:
    """One scheduled event. ``callbacks`` is what SimPy's ``step`` calls (then clears)."""

    __slots__ = ("callbacks", "time", "kind", "target", "epoch", "data")
    _ok = True  # SimPy's step reads this after the callbacks: events never fail

    def __init__(self, callbacks, time: float, kind: int, target, epoch: int, data):
        self.callbacks = callbacks
        self.time = time
        self.kind = kind
        self.target = target
        self.epoch = epoch
        self.data = data


def target_name(target) -> str:
    """A short readable name of an event's target, for traces."""
    for attr in ("id", "record"):
        value = getattr(target, attr, None)
        if value is not None:
            return str(value)
    queue = getattr(target, "queue", None)  # an arrival stream
    if queue is not None:
        target = queue
    m = getattr(target, "m", None)
    return str(getattr(m, "id", "")) if m is not None else ""

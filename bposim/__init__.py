"""bposim: discrete-event simulation of contact centres, with Erlang baselines."""

__version__ = "0.1.0"

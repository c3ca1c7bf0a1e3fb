"""Test configuration: property tests are derandomised so CI runs are reproducible.

Profiles: ``bposim`` (the default: quick, derandomised) and ``long`` for the fuzz test
and other property tests at length (``pytest --hypothesis-profile=long``: 10 000
examples, randomised, with the seed of any failure printed).
"""

import os

from hypothesis import settings

settings.register_profile("bposim", derandomize=True, deadline=None, print_blob=True)
# BPOSIM_LONG_EXAMPLES splits a long run across processes (e.g. two of 5 000 with
# different --hypothesis-seed values)
settings.register_profile("long", max_examples=int(os.environ.get("BPOSIM_LONG_EXAMPLES", 10_000)),
                          deadline=None, print_blob=True)
settings.load_profile("bposim")

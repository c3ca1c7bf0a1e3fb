"""Test configuration: property tests are derandomised so CI runs are reproducible."""

from hypothesis import settings

settings.register_profile("bposim", derandomize=True, deadline=None, print_blob=True)
settings.load_profile("bposim")

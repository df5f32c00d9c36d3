"""Hypothesis profiles of the property-based checks (tests/test_properties.py).

* ``ci`` (the default, used by ``make test``): few examples per property, derandomized
  (the same examples on every run and machine, so a failure reproduces), no deadline
  (the machine is shared and a slow example is not a bug). The whole property suite
  stays within about a minute of one core.
* ``deep`` (``make test-deep``, or ``CVBOOK_HYPOTHESIS_PROFILE=deep``): twenty times
  more examples, a random seed per run (new examples each time; a failure prints the
  seed and the smallest failing example to reproduce it).
"""

from __future__ import annotations

import os

try:
    from hypothesis import HealthCheck, settings
except ImportError:  # hypothesis is in the [test] extra; without it only tests/test_properties.py skips
    settings = None

#: Environment variable that selects the Hypothesis profile.
PROFILE_ENV = "CVBOOK_HYPOTHESIS_PROFILE"

if settings is not None:
    _quiet = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
    settings.register_profile(
        "ci",
        max_examples=25,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=_quiet,
        print_blob=True,
    )
    settings.register_profile(
        "deep",
        max_examples=500,
        deadline=None,
        derandomize=False,
        database=None,
        suppress_health_check=_quiet,
        print_blob=True,
    )
    settings.load_profile(os.environ.get(PROFILE_ENV, "ci"))

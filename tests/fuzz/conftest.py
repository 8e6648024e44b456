"""Hypothesis profiles for the fuzz tests: modest in `make test` (well under a minute), longer in
`make reliability` (HYPOTHESIS_PROFILE=long). No example database is written to the checkout."""

import os

from hypothesis import HealthCheck, settings

_common = {
    "deadline": None,  # a loaded two-core machine: a timing is not a property
    "database": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}
settings.register_profile("default", max_examples=40, **_common)
settings.register_profile("long", max_examples=1500, **_common)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

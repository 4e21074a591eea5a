"""Settings every test shares.

Hypothesis runs derandomized by default, so a CI run tries the same examples as the last
local run and a failure reproduces from its seed; ``HYPOTHESIS_PROFILE=explore`` draws fresh
examples (with more of them) to hunt for new counterexamples.
"""

import os

from hypothesis import settings

settings.register_profile("repeatable", derandomize=True, print_blob=True)
settings.register_profile("explore", max_examples=500, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

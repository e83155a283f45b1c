"""Maintainer tooling (`python -m tools.NAME`), not installed for learners."""

# The environment every test runs in: offline, on the shipped sample, the smallest profile, deprecations as errors
# (helpers/session.py). The Makefile's TEST_ENV says the same, with COURSE_OUTPUT (tests/test_packaging.py checks).
# EVALUATE_VERBOSITY=error: offline, `evaluate.load` logs a line to stderr ("Using the latest cached version of the module
# ...") on every load, as it ships for learners; nbval would count that line in the checked cells' output.
TEST_ENV = {"HF_HUB_OFFLINE": "1", "COURSE_PROFILE": "smoke", "COURSE_WARNINGS": "error", "MRPC_DIR": "", "COURSE_BUNDLE": "",
            "EVALUATE_VERBOSITY": "error"}

"""Maintainer tooling (`python -m tools.NAME`), not installed for learners."""

# The environment every test runs in: offline, on the shipped sample, the smallest profile, deprecations as errors
# (helpers/session.py). The Makefile's TEST_ENV says the same, with COURSE_OUTPUT (tests/test_packaging.py checks).
TEST_ENV = {"HF_HUB_OFFLINE": "1", "COURSE_PROFILE": "smoke", "COURSE_WARNINGS": "error", "MRPC_DIR": "", "COURSE_BUNDLE": ""}

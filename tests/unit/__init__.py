"""Unit tests that mirror camera_core's modules: tests/unit/test_<package>_<module>.py tests
camera_core/<package>/<module>.py on its own (fakes, no cameras, no sleeps); the end-to-end tests
stay in tests/test_<feature>_*.py."""

"""pytest's configuration for the whole suite: test_ftplib2.py here and the modules in tests/.

The shared fixtures live in tests/fixtures.py and are loaded here, once, as a plugin: every
test module sees the same session-scoped servers, so each starts once per run. The helpers in
tests/servers.py assert too, so they get pytest's assertion rewriting like the test modules.
"""

import pytest

pytest.register_assert_rewrite("tests.servers")

pytest_plugins = ["tests.fixtures"]

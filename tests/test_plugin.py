"""The pytest plugin (flywheel.pytest_plugin) as a user meets it: the files of docs/testing.md
are written into a fresh directory and run by a pytest session of their own (pytester).

One run is in a subprocess with no flywheel settings at all, as on a fresh machine: the
plugin, loaded through its entry point, starts its own embedded server. The other runs point
the plugin at this session's server, so they start nothing.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ("pytester",)

ROOT = Path(__file__).resolve().parents[1]
TESTING_PAGE = ROOT / "docs" / "testing.md"
FILE_BLOCK = re.compile(r"^<!-- file: (\S+) -->\n<!-- not run -->\n```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
SETTINGS = ("FLYWHEEL_TEST_SERVER", "FLYWHEEL_TEST_ENDPOINT", "FLYWHEEL_TEST_REGION")


def page_files() -> dict[str, str]:
    files = dict(FILE_BLOCK.findall(TESTING_PAGE.read_text()))
    assert set(files) == {"models.py", "conftest.py", "test_accounts.py", "test_accounts_unittest.py"}
    return files


@pytest.fixture
def user_project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A directory holding the page's files, with no flywheel settings in the environment."""
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    for name, source in page_files().items():
        (pytester.path / name).write_text(source)
    pytester.syspathinsert()  # `from models import ...`, as pytest's rootdir conftest allows
    return pytester


def test_the_testing_page_works_on_a_fresh_machine(user_project: pytest.Pytester) -> None:
    result = user_project.runpytest_subprocess("-p", "no:cacheprovider", "test_accounts.py")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["flywheel test server: local moto server"])


def test_the_unittest_example_of_the_page(
    user_project: pytest.Pytester, local_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLYWHEEL_TEST_ENDPOINT", local_server.endpoint)
    result = user_project.runpytest_inprocess("-p", "no:cacheprovider", "test_accounts_unittest.py")
    result.assert_outcomes(passed=2)


def test_the_options_point_the_fixtures_at_a_server(user_project: pytest.Pytester, local_server: Any) -> None:
    user_project.makepyfile(test_where="""
        def test_where(flywheel_server, flywheel_connection, flywheel_namespace, flywheel_engine):
            assert flywheel_server.kind == 'endpoint'
            assert flywheel_connection.endpoint_url.rstrip('/') == flywheel_server.endpoint
            assert flywheel_engine.namespace == [flywheel_namespace]
            assert flywheel_namespace.startswith('test-')
    """)
    result = user_project.runpytest_inprocess(
        "-p", "no:cacheprovider", "--flywheel-endpoint", local_server.endpoint, "test_where.py"
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"flywheel test server: endpoint {local_server.endpoint}"])


def test_tables_are_dropped_even_when_a_test_fails(
    user_project: pytest.Pytester, local_server: Any, dynamo: Any
) -> None:
    user_project.makepyfile(test_failing="""
        from models import Account

        def test_fails(flywheel_engine, flywheel_namespace):
            flywheel_engine.save(Account('ada'))
            # a table the test makes itself, outside the models, is dropped too
            flywheel_engine.dynamo.create_table({
                'TableName': flywheel_namespace + '-Extra',
                'KeySchema': [{'AttributeName': 'k', 'KeyType': 'HASH'}],
                'AttributeDefinitions': [{'AttributeName': 'k', 'AttributeType': 'S'}],
                'BillingMode': 'PAY_PER_REQUEST',
            })
            open('namespace.txt', 'w').write(flywheel_namespace)
            assert False, 'on purpose'
    """)
    result = user_project.runpytest_inprocess(
        "-p", "no:cacheprovider", "--flywheel-endpoint", local_server.endpoint, "test_failing.py"
    )
    result.assert_outcomes(failed=1)
    namespace = (user_project.path / "namespace.txt").read_text()
    assert [name for name in dynamo.list_tables() if name.startswith(namespace)] == []


def test_a_bad_setting_stops_the_run_with_a_clear_message(user_project: pytest.Pytester) -> None:
    result = user_project.runpytest_inprocess("-p", "no:cacheprovider", "--flywheel-endpoint", "ftp://x")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*flywheel test endpoint 'ftp://x' is not an http(s)://host:port URL*"])

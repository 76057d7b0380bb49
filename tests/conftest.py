"""Shared fixtures: real qbittorrent-nox instances that are always cleaned up.

Tests needing real servers are marked ``qbt`` (automatically when they use the
qBittorrent fixtures). Such a test fails, never skips, when a required program is
missing: a skipped real-server test would hide exactly the bugs it exists for.
"""

from __future__ import annotations

import subprocess
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from tests.harness.qbt import QbtFactory, QbtInstance  # QbtFactory: also imported from here
from tests.harness.tools import missing_message, missing_tools, qbittorrent_binary

QBT_FIXTURES = frozenset({"qbt", "qbt_factory"})
_CALL_REPORT = pytest.StashKey[pytest.TestReport]()


def pytest_report_header(config: pytest.Config) -> str:
    """Which qbittorrent-nox the real-server tests drive (EARMARK_TEST_QBT picks another)."""
    try:
        binary = qbittorrent_binary()
        version = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout.strip()
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        return f"qbittorrent-nox under test: not usable ({exc})"
    return f"qbittorrent-nox under test: {version or '?'} ({binary})"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that uses a qBittorrent fixture as ``qbt`` (for ``-m qbt``)."""
    for item in items:
        if QBT_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.qbt)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Fail a ``qbt`` test loudly when a program it needs is not installed."""
    if item.get_closest_marker("qbt") is not None:
        missing = missing_tools()
        if missing:
            pytest.fail(missing_message(missing), pytrace=False)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Remember the test's outcome so fixtures can add diagnostics when it failed."""
    report = yield
    if report.when == "call":
        item.stash[_CALL_REPORT] = report
    return report


@pytest.fixture
def qbt_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[QbtFactory]:
    """Start throw-away loopback-only qBittorrent instances; all stopped at teardown.

    When the test failed, the instances' log tails are printed (shown by pytest under
    "Captured stdout teardown").
    """
    factory = QbtFactory(tmp_path / "qbt")
    try:
        yield factory
    finally:
        try:
            report = request.node.stash.get(_CALL_REPORT, None)
            if report is not None and report.failed and factory.instances:
                print(factory.diagnostics())
        finally:
            factory.stop_all()


@pytest.fixture
def qbt(qbt_factory: QbtFactory) -> QbtInstance:
    """One healthy qBittorrent instance with the default credentials."""
    return qbt_factory()

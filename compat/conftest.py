"""Fixtures for the Outpost compatibility suite.

Run (from the repository root, after `swift build`):

    <venv>/bin/python -m pytest compat -q

The hub binary is `$OUTPOST_BIN_DIR/iothub` (default `<repo>/.build/debug/iothub`). The suite
binds loopback addresses 127.B.C.D on ports 8883 and 443, so it must run as root (or with
CAP_NET_BIND_SERVICE). Each hub writes `hub.log` in its data directory; the log of every hub a
failed test touched is attached to the failure report.
"""

from __future__ import annotations

import os
import time
from typing import Callable, Iterator

import pytest

import outpost
from outpost import Hub


def _start_or_fail(h: Hub) -> Hub:
    try:
        return h.start()
    except outpost.HubError as e:
        error = str(e)
    pytest.fail(error, pytrace=False)


def _teardown_hubs(hubs: list[Hub]) -> None:
    errors = [err for err in (h.teardown() for h in hubs) if err]
    if errors:
        pytest.fail("\n\n".join(errors), pytrace=False)


@pytest.fixture
def hub_factory(tmp_path_factory) -> Iterator[Callable[..., Hub]]:
    """make(name="hub", start=True, extra_args=()) -> Hub; every hub made is stopped at teardown."""
    hubs: list[Hub] = []

    def make(name: str = "hub", start: bool = True, extra_args: tuple[str, ...] = ()) -> Hub:
        h = Hub(tmp_path_factory.mktemp(name), outpost.allocate_host(), extra_args)
        hubs.append(h)
        if start:
            _start_or_fail(h)
        return h

    yield make
    _teardown_hubs(hubs)


@pytest.fixture
def hub(hub_factory) -> Hub:
    """A fresh, running hub for this test only."""
    return hub_factory("hub")


@pytest.fixture(scope="module")
def module_hub(tmp_path_factory) -> Iterator[Hub]:
    """One running hub shared by the tests of a module (use unique device ids)."""
    h = Hub(tmp_path_factory.mktemp("modhub"), outpost.allocate_host())
    _start_or_fail(h)
    yield h
    _teardown_hubs([h])


@pytest.fixture
def registry_manager(monkeypatch):
    """registry_manager(hub, cs=None) -> IoTHubRegistryManager talking to `hub`, with
    REQUESTS_CA_BUNDLE pointing at the hub's ca.pem (as a user would set it)."""
    from azure.iot.hub import IoTHubRegistryManager

    def make(h: Hub, cs: str | None = None) -> IoTHubRegistryManager:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(h.ca_path))
        return IoTHubRegistryManager.from_connection_string(cs or h.service_cs)

    return make


# ---- attach hub logs to failure reports ------------------------------------------------------

_ITEM_START = pytest.StashKey[float]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    item.stash[_ITEM_START] = time.time()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if not rep.failed:
        return
    since = item.stash.get(_ITEM_START, 0.0)
    for h in outpost.ALL_HUBS:
        if h.running or h.last_activity >= since:
            rep.sections.append((f"hub {h.host} log ({h.log_path})", h.log_tail(300)))


def pytest_report_header(config):
    exists = "found" if outpost.IOTHUB.exists() else "MISSING"
    return [f"outpost hub binary: {outpost.IOTHUB} ({exists}); "
            f"OUTPOST_BIN_DIR={os.environ.get('OUTPOST_BIN_DIR', '(unset)')}"]

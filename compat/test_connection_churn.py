"""Connection churn: 1,000 MQTT connections over TLS (50 devices × 20 cycles, at most 50 at a
time) that connect and end, some with DISCONNECT and some by dropping the socket. Every event
must be in the Connections log exactly once: the records are counted per device, operation and
level through the log query and compared with what the test did."""

from __future__ import annotations

import collections
import concurrent.futures
import time

import sas
from devicekit import OutpostApi, create_devices, end_connection, raw_mqtt_connect
from outpost import client_ssl_context

DEVICES = 50
CYCLES = 20
WORKERS = 50
BUDGET = 60.0  # seconds for the whole churn


def dropped(device_index: int, cycle: int) -> bool:
    """About one connection in four ends without DISCONNECT."""
    return (device_index + cycle) % 4 == 0


def test_every_connect_and_disconnect_is_logged_once(hub, registry_manager):
    rm = registry_manager(hub)
    ids = [f"churn-{i:02d}" for i in range(DEVICES)]
    css = create_devices(rm, hub, ids)
    ctx = client_ssl_context(hub.ca_pem)
    # One token per device (valid for the whole run) keeps the client side cheap.
    tokens = {d: sas.device_token_from_connection_string(cs) for d, cs in css.items()}

    def run_device(i: int) -> collections.Counter:
        did = ids[i]
        done: collections.Counter = collections.Counter()
        for cycle in range(CYCLES):
            sock, rc = raw_mqtt_connect(hub.host, ctx, did, tokens[did], keepalive=60)
            if rc != 0:
                sock.close()
                raise AssertionError(f"{did} cycle {cycle}: CONNACK {rc}")
            done["connect"] += 1
            clean = not dropped(i, cycle)
            if not end_connection(sock, clean=clean, timeout=10):
                raise AssertionError(f"{did} cycle {cycle}: the hub did not close its side")
            done["clean" if clean else "dropped"] += 1
        return done

    started = time.monotonic()
    results: dict[str, collections.Counter] = {}
    with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
        futures = {pool.submit(run_device, i): ids[i] for i in range(DEVICES)}
        for f in concurrent.futures.as_completed(futures, timeout=BUDGET + 30):
            results[futures[f]] = f.result()
    churn_seconds = time.monotonic() - started

    # What the test did, as (DeviceId, OperationName, Level) -> count.
    expected: dict[tuple[str, str, str], int] = {}
    for did, done in results.items():
        assert done["connect"] == CYCLES and done["clean"] + done["dropped"] == CYCLES
        expected[(did, "deviceConnect", "Information")] = CYCLES
        if done["clean"]:
            expected[(did, "deviceDisconnect", "Information")] = done["clean"]
        if done["dropped"]:
            expected[(did, "deviceDisconnect", "Error")] = done["dropped"]
    total_dropped = sum(d["dropped"] for d in results.values())
    assert sum(expected.values()) == 2 * DEVICES * CYCLES
    assert 0 < total_dropped < DEVICES * CYCLES

    api = OutpostApi(hub)
    try:
        kql = ('AzureDiagnostics | where DeviceId startswith "churn-" '
               '| summarize count() by DeviceId, OperationName, Level')

        def counted() -> dict[tuple[str, str, str], int]:
            return {(r["DeviceId"], r["OperationName"], r["Level"]): int(r["count_"])
                    for r in api.query(kql)}

        # Records may be written a little after the connection ends; wait for them, then make
        # sure nothing more trickles in (a doubled record would).
        deadline = time.monotonic() + 30
        got = counted()
        while got != expected and time.monotonic() < deadline:
            time.sleep(0.5)
            got = counted()
        time.sleep(1.0)
        got = counted()
        missing = {k: v - got.get(k, 0) for k, v in expected.items() if got.get(k, 0) < v}
        extra = {k: got[k] - expected.get(k, 0) for k in got if got[k] > expected.get(k, 0)}
        assert not missing and not extra, \
            f"records lost: {sorted(missing.items())[:10]} (of {len(missing)}); " \
            f"doubled or unexpected: {sorted(extra.items())[:10]} (of {len(extra)})"

        # Every error is a socket closed without DISCONNECT; nothing else went wrong.
        by_type = {(r["ResultType"] or ""): int(r["count_"]) for r in api.query(
            'AzureDiagnostics | where DeviceId startswith "churn-" and Level == "Error" '
            '| summarize count() by ResultType')}
        assert by_type == {"404104": total_dropped}, by_type
        # No conflicts and no server errors anywhere on the hub.
        others = api.query('AzureDiagnostics | where Category == "Connections" '
                           'and ResultType in ("409002", "500001")')
        assert others == [], f"unexpected errors under churn: {others[:5]}"

        assert api.wait_metric("connectedDeviceCount", lambda v: v == 0, timeout=10) == 0
    finally:
        api.close()

    assert churn_seconds < BUDGET, \
        f"{DEVICES * CYCLES} connections took {churn_seconds:.1f} s (budget {BUDGET} s)"


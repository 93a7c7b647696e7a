"""Twin writes under concurrency: 200 paho-mqtt devices over TLS reporting at once while the
service patches their desired properties, and many service writers on one twin.
No update may be lost; versions count every accepted patch (a new twin starts at 1)."""

from __future__ import annotations

import gc
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from azure.iot.hub.models import Twin, TwinProperties

from devicekit import create_devices, twin_paho
from outpost import unique


@pytest.fixture(scope="module", autouse=True)
def _release_http_connections(module_hub):
    """Collect garbage before the module's hub stops: msrest responses sit in reference cycles
    that keep their keep-alive sockets open, and the hub waits for open connections on stop."""
    yield
    gc.collect()


DEVICES = 200
ROUNDS = 5
REPORTED = "$iothub/twin/PATCH/properties/reported/"


def user_props(section: dict) -> dict:
    return {k: v for k, v in (section or {}).items() if not k.startswith("$")}


def test_200_devices_report_concurrently_and_lose_nothing(module_hub, registry_manager):
    rm = registry_manager(module_hub)
    run = unique("load")
    ids = [f"{run}-{i:03d}" for i in range(DEVICES)]
    css = create_devices(rm, module_hub, ids)

    clients = {}
    lock = threading.Lock()

    def connect(did: str) -> None:
        p = twin_paho(module_hub, css[did])  # connected and subscribed to $iothub/twin/res/#
        with lock:
            clients[did] = p

    try:
        with ThreadPoolExecutor(16) as ex:
            for f in [ex.submit(connect, did) for did in ids]:
                f.result(timeout=60)
        assert len(clients) == DEVICES

        # The service writes desired on every twin while the devices write reported.
        svc_errors: list = []

        def service_writer(part: list[str]) -> None:
            mine = registry_manager(module_hub)
            for did in part:
                try:
                    mine.update_twin(did, Twin(properties=TwinProperties(
                        desired={"svc": did})), "*")
                except Exception as e:  # noqa: BLE001
                    svc_errors.append((did, e))

        writers = [threading.Thread(target=service_writer, args=(ids[i::4],), daemon=True)
                   for i in range(4)]
        for w in writers:
            w.start()

        bad = []
        for k in range(1, ROUNDS + 1):
            # Every device publishes its k-th patch, then all answers are awaited.
            rids = {did: p.send_twin_request(REPORTED, json.dumps({"counter": k, f"r{k}": k}))
                    for did, p in clients.items()}
            deadline = time.monotonic() + 30
            for did, p in clients.items():
                try:
                    status, params, _ = p.await_twin_response(
                        rids[did], timeout=max(0.1, deadline - time.monotonic()))
                except TimeoutError as e:
                    bad.append((did, k, str(e)))
                    continue
                if status != 204 or params.get("$version") != str(k + 1):
                    bad.append((did, k, status, params))
            assert not bad, f"{len(bad)} bad answers in round {k}, e.g. {bad[:5]}"

        for w in writers:
            w.join(60)
        assert not any(w.is_alive() for w in writers), "a service writer hung"
        assert not svc_errors, svc_errors[:5]
    finally:
        for p in clients.values():
            p.close()

    want = {"counter": ROUNDS, **{f"r{k}": k for k in range(1, ROUNDS + 1)}}
    wrong = []
    for did in ids:
        t = rm.get_twin(did)
        rep, des = t.properties.reported, t.properties.desired
        if user_props(rep) != want or rep["$version"] != ROUNDS + 1 \
                or user_props(des) != {"svc": did} or des["$version"] != 2:
            wrong.append((did, rep, des))
    assert not wrong, f"{len(wrong)} twins lost updates, e.g. {wrong[:3]}"


def test_concurrent_service_patches_on_one_twin(module_hub, registry_manager):
    """N threads patch desired with If-Match "*": every patch lands, $version is 1 + N."""
    rm = registry_manager(module_hub)
    did = unique("svcload")
    create_devices(rm, module_hub, [did])
    n = 32
    rms = [registry_manager(module_hub) for _ in range(8)]
    errors: list = []
    start = threading.Barrier(n)

    def worker(i: int) -> None:
        try:
            start.wait(10)
            rms[i % len(rms)].update_twin(
                did, Twin(properties=TwinProperties(desired={f"k{i}": i})), "*")
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "a patch hung"
    assert not errors, errors[:5]
    desired = rm.get_twin(did).properties.desired
    assert desired["$version"] == 1 + n
    assert user_props(desired) == {f"k{i}": i for i in range(n)}


def test_concurrent_etag_patches_one_winner_per_etag(module_hub, registry_manager):
    """Writers racing with the same ETag: exactly one wins, the others get 412."""
    rm = registry_manager(module_hub)
    did = unique("etagrace")
    create_devices(rm, module_hub, [did])
    etag = rm.get_twin(did).etag
    n = 8
    rms = [registry_manager(module_hub) for _ in range(n)]
    results: list = [None] * n
    start = threading.Barrier(n)

    def worker(i: int) -> None:
        try:
            start.wait(10)
            rms[i].update_twin(did, Twin(properties=TwinProperties(desired={"w": i})), etag)
            results[i] = 200
        except Exception as e:  # noqa: BLE001
            results[i] = getattr(getattr(e, "response", None), "status_code", repr(e))

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results, key=str) == sorted([200] + [412] * (n - 1), key=str), results
    desired = rm.get_twin(did).properties.desired
    assert desired["$version"] == 2
    assert desired["w"] == results.index(200)

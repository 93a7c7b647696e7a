"""The IoT Hub query language over twins: azure-iot-hub 2.7.0 `query_iot_hub` (POST
/devices/query with x-ms-max-item-count / x-ms-continuation) and `iothub query`.

The SDK deserialises every item as a `Twin` and drops keys a Twin does not have, so raw
projections (GROUP BY, COUNT, SELECT a AS b) are checked through `iothub query --json`.
Every test marks its devices with a unique tag `run` and filters on it: the hub is shared."""

from __future__ import annotations

import gc
import json
import re

import pytest
from azure.iot.hub.models import QuerySpecification, Twin, TwinProperties
from msrest.exceptions import HttpOperationError

from devicekit import assert_hub_error, cli_failed_with, create_devices, twin_paho
from outpost import unique


@pytest.fixture(scope="module", autouse=True)
def _release_http_connections(module_hub):
    """Collect garbage before the module's hub stops: msrest responses sit in reference cycles
    that keep their keep-alive sockets open, and the hub waits for open connections on stop."""
    yield
    gc.collect()


def query_all(rm, q: str, page: int | None = None) -> tuple[list, list[int], str | None]:
    """Follow continuation tokens; -> (items, page sizes, item type of the first page)."""
    items, sizes, token, kind = [], [], None, None
    for _ in range(100):
        r = rm.query_iot_hub(QuerySpecification(query=q), token, page)
        kind = kind or r.type
        items += r.items
        sizes.append(len(r.items))
        token = r.continuation_token
        if not token:
            return items, sizes, kind
    raise AssertionError("more than 100 pages: the continuation token never ends")


def cli_query(hub, q: str, *extra: str) -> list:
    cp = hub.cli("query", q, "--json", *extra)
    assert cp.returncode == 0, cp.stderr
    out = json.loads(cp.stdout)
    assert isinstance(out, list), "--json prints one JSON array"
    return out


def tag(rm, did: str, tags: dict, module: str | None = None) -> None:
    if module:
        rm.update_module_twin(did, module, Twin(tags=tags))
    else:
        rm.update_twin(did, Twin(tags=tags))


@pytest.fixture
def fleet(module_hub, registry_manager):
    """Three devices tagged with this test's run id: a(red, 1) b(red, 5) c(blue, 3)."""
    rm = registry_manager(module_hub)
    run = unique("run").replace("-", "_")
    ids = {k: f"{run}-{k}" for k in "abc"}
    css = create_devices(rm, module_hub, list(ids.values()))
    tag(rm, ids["a"], {"run": run, "color": "red", "n": 1, "loc": {"floor": 1}})
    tag(rm, ids["b"], {"run": run, "color": "red", "n": 5, "loc": {"floor": 2}})
    tag(rm, ids["c"], {"run": run, "color": "blue", "n": 3})
    return run, ids, css, rm


def ids_of(items) -> list[str]:
    return sorted(t.device_id for t in items)


def test_select_by_tags(module_hub, fleet):
    run, ids, _, rm = fleet
    base = f"SELECT * FROM devices WHERE tags.run = '{run}'"
    items, _, kind = query_all(rm, base)
    assert kind == "twin"
    assert ids_of(items) == sorted(ids.values())
    assert all(isinstance(t, Twin) for t in items)
    a = next(t for t in items if t.device_id == ids["a"])
    assert a.tags["color"] == "red" and a.properties.desired["$version"] == 1

    items, _, _ = query_all(rm, f"{base} AND tags.color = 'red'")
    assert ids_of(items) == sorted([ids["a"], ids["b"]])
    items, _, _ = query_all(rm, f"{base} AND tags.color = 'purple'")
    assert items == []


def test_where_operators(module_hub, fleet):
    run, ids, _, rm = fleet
    base = f"SELECT * FROM devices WHERE tags.run = '{run}'"
    cases = {
        f"{base} AND tags.n > 2": ["b", "c"],
        f"{base} AND tags.n >= 1 AND tags.n < 5": ["a", "c"],
        f"{base} AND (tags.color = 'blue' OR tags.n = 1)": ["a", "c"],
        f"{base} AND tags.color != 'red'": ["c"],
        f"{base} AND tags.loc.floor = 2": ["b"],
        f"{base} AND tags.color IN ['blue', 'green']": ["c"],
        f"{base} AND deviceId = '{ids['b']}'": ["b"],
        f"{base} AND NOT (tags.color = 'red')": ["c"],
    }
    wrong = {}
    for q, want in cases.items():
        try:
            got = ids_of(query_all(rm, q)[0])
        except HttpOperationError as e:
            got = f"HTTP {e.response.status_code}: {e.response.text[:200]}"
        if got != sorted(ids[k] for k in want):
            wrong[q.removeprefix(base)] = (got, want)
    assert not wrong, wrong


def test_select_by_reported_properties(module_hub, fleet):
    run, ids, css, rm = fleet
    for k, fw in (("a", "1.2"), ("b", "2.0"), ("c", "1.2")):
        p = twin_paho(module_hub, css[ids[k]])
        try:
            assert p.patch_reported({"fw": fw, "battery": {"level": 80 if k == "a" else 20}}) \
                == (204, 2)
        finally:
            p.close()
    base = f"SELECT * FROM devices WHERE tags.run = '{run}'"
    items, _, _ = query_all(rm, f"{base} AND properties.reported.fw = '1.2'")
    assert ids_of(items) == sorted([ids["a"], ids["c"]])
    items, _, _ = query_all(rm, f"{base} AND properties.reported.battery.level < 50")
    assert ids_of(items) == sorted([ids["b"], ids["c"]])
    assert all(t.properties.reported["battery"]["level"] == 20 for t in items)

    # Desired properties too.
    rm.update_twin(ids["b"], Twin(properties=TwinProperties(desired={"mode": "eco"})))
    items, _, _ = query_all(rm, f"{base} AND properties.desired.mode = 'eco'")
    assert ids_of(items) == [ids["b"]]


def test_paging_follows_continuation_tokens(module_hub, registry_manager):
    rm = registry_manager(module_hub)
    run = unique("page").replace("-", "_")
    ids = [f"{run}-{i}" for i in range(5)]
    create_devices(rm, module_hub, ids)
    for did in ids:
        tag(rm, did, {"run": run})
    q = f"SELECT * FROM devices WHERE tags.run = '{run}'"

    items, sizes, _ = query_all(rm, q, page=2)
    assert sizes == [2, 2, 1]
    got = [t.device_id for t in items]
    assert sorted(got) == ids and len(set(got)) == 5, "every device exactly once"

    first = rm.query_iot_hub(QuerySpecification(query=q), None, 2)
    assert len(first.items) == 2 and first.continuation_token

    # A page size bigger than the result: one page, no token.
    r = rm.query_iot_hub(QuerySpecification(query=q), None, 100)
    assert len(r.items) == 5 and not r.continuation_token

    # The CLI follows the tokens itself.
    out = cli_query(module_hub, q, "--page-size", "2")
    assert sorted(item["deviceId"] for item in out) == ids


def test_group_by_and_count(module_hub, fleet):
    run, _, _, rm = fleet
    out = cli_query(module_hub, f"SELECT COUNT() AS total FROM devices WHERE tags.run = '{run}'")
    assert out == [{"total": 3}]

    out = cli_query(module_hub, f"SELECT tags.color AS color, COUNT() AS n FROM devices "
                                f"WHERE tags.run = '{run}' GROUP BY tags.color")
    assert sorted(out, key=lambda r: r["color"]) == [{"color": "blue", "n": 1},
                                                    {"color": "red", "n": 2}]

    out = cli_query(module_hub, f"SELECT deviceId, tags.n AS n FROM devices "
                                f"WHERE tags.run = '{run}' AND tags.color = 'red'")
    assert sorted(out, key=lambda r: r["n"]) == [{"deviceId": f"{run}-a", "n": 1},
                                                {"deviceId": f"{run}-b", "n": 5}]

    # Through the SDK: a raw result is announced as such (its items lose unknown keys).
    r = rm.query_iot_hub(QuerySpecification(
        query=f"SELECT COUNT() AS total FROM devices WHERE tags.run = '{run}'"))
    assert r.type == "raw"
    assert len(r.items) == 1


def test_module_twins_query(module_hub, registry_manager):
    rm = registry_manager(module_hub)
    run = unique("mods").replace("-", "_")
    did = f"{run}-dev"
    create_devices(rm, module_hub, [did])
    for mid, role in (("m1", "cam"), ("m2", "mic")):
        module_hub.create_module(did, mid)
        tag(rm, did, {"run": run, "role": role}, module=mid)
    tag(rm, did, {"run": run})  # the device twin itself is not a module

    items, _, kind = query_all(rm, f"SELECT * FROM devices.modules WHERE tags.run = '{run}'")
    assert kind == "twin"
    assert sorted((t.device_id, t.module_id) for t in items) == [(did, "m1"), (did, "m2")]

    items, _, _ = query_all(
        rm, f"SELECT * FROM devices.modules WHERE deviceId = '{did}' AND tags.role = 'mic'")
    assert [(t.device_id, t.module_id) for t in items] == [(did, "m2")]

    items, _, _ = query_all(rm, f"SELECT * FROM devices WHERE tags.run = '{run}'")
    assert [t.device_id for t in items] == [did]
    assert items[0].module_id in (None, "")


@pytest.mark.parametrize("bad", [
    "SELECT * FROM devices WHERE",
    "SELEC * FROM devices",
    "SELECT * FROM devices WHERE tags.a = 'unterminated",
    "SELECT * FROM nosuchcollection",
    "SELECT * FROM devices WHERE tags.a == 1 AND",
])
def test_bad_query_is_400_with_position(module_hub, registry_manager, bad):
    rm = registry_manager(module_hub)
    with pytest.raises(HttpOperationError) as ei:
        rm.query_iot_hub(QuerySpecification(query=bad))
    text = assert_hub_error(ei, 400, 400004, "ArgumentInvalid")
    if "nosuchcollection" not in bad:
        assert re.search(r"position \d+", text), f"the message says where: {text}"


def test_cli_query(module_hub, fleet):
    run, ids, _, _ = fleet
    cp = module_hub.cli("query", f"SELECT * FROM devices WHERE tags.run = '{run}'")
    assert cp.returncode == 0, cp.stderr
    for did in ids.values():
        assert did in cp.stdout, "the twin table lists every device"
    assert "deviceId" in cp.stdout or "DEVICE" in cp.stdout.upper()

    out = cli_query(module_hub, f"SELECT * FROM devices WHERE tags.run = '{run}'")
    assert sorted(t["deviceId"] for t in out) == sorted(ids.values())
    assert all("properties" in t and "etag" in t for t in out), "--json prints whole twins"

    cp = module_hub.cli("query", f"SELECT tags.color AS color, COUNT() AS n FROM devices "
                                 f"WHERE tags.run = '{run}' GROUP BY tags.color")
    assert cp.returncode == 0, cp.stderr
    header = cp.stdout.splitlines()[0]
    assert "color" in header and "n" in header, "raw results: columns are the keys"
    assert "blue" in cp.stdout and "red" in cp.stdout

    cli_failed_with(module_hub.cli("query", "SELECT * FROM devices WHERE"), "position")

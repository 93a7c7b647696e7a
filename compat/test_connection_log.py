"""The Connections diagnostic log (issue 5): one resource-log record per deviceConnect and
deviceDisconnect, each disconnect classified with the troubleshooting page's codes, driven by
real clients: azure-iot-device 2.14.0, paho-mqtt 1.6.1 and raw sockets.

The hub runs with `--connect-timeout 2s` so that a connection that never finishes TLS or CONNECT
is cut (500008) quickly. Records are read through `GET /$outpost/diagnostics/records`."""

from __future__ import annotations

import datetime as dt
import gc
import socket
import time

import pytest

import sas
from devicekit import (CODE_NAMES, OutpostApi, RawMqtt, check_record_shape, drop_paho, errors_of,
                       parse_time, random_key, running_hub, shape, silence_paho)
from outpost import (MQTT_PORT, PahoDevice, bounded, read_until_closed, sdk_device_client,
                     shutdown_quietly, unique)

CONNECT_TIMEOUT = 2.0
SETTLE = 1.0  # after the expected records are there, how long to wait for unexpected ones


@pytest.fixture(scope="module")
def chub(tmp_path_factory):
    with running_hub(tmp_path_factory, "connlog",
                     ("--connect-timeout", f"{int(CONNECT_TIMEOUT)}s")) as h:
        yield h
        gc.collect()


@pytest.fixture
def api(chub):
    a = OutpostApi(chub)
    yield a
    a.close()


@pytest.fixture
def pahos():
    made: list[PahoDevice] = []
    yield made
    for p in made:
        p.close()


def paho(hub, cs: str, made: list, **kw) -> PahoDevice:
    p = PahoDevice.from_connection_string(hub, cs, **kw)
    made.append(p)
    return p


def description(rec: dict) -> str:
    return rec["resultDescription"].lower()


# ---- clean disconnects ---------------------------------------------------------------------


@pytest.mark.parametrize("websockets", [False, True], ids=["mqtt", "mqtt-ws"])
def test_clean_sdk_disconnect_is_information(chub, api, websockets):
    did = unique("clean")
    cs = chub.create_device(did)
    c = sdk_device_client(chub, cs, websockets=websockets)
    try:
        bounded(c.connect, timeout=30, what="connect")
        time.sleep(0.5)
        bounded(c.disconnect, timeout=30, what="disconnect")
    finally:
        shutdown_quietly(c)

    recs = api.wait_records(did, 2, settle=SETTLE)
    assert shape(recs) == [("deviceConnect", "Information", ""),
                           ("deviceDisconnect", "Information", "")], recs
    for r in recs:
        check_record_shape(r, chub)
        p = r["properties"]
        assert p["deviceId"] == did and p["moduleId"] is None, p
        assert p["protocol"] == ("MqttWs" if websockets else "Mqtt"), p
        assert p["authType"], p
        assert p["sdkVersion"].startswith("azure-iot-device-iothub-py/2.14.0"), p
    assert recs[1]["durationMs"] >= 400, "a disconnect says how long the connection lived"
    assert parse_time(recs[0]["time"]) <= parse_time(recs[1]["time"])


def test_module_connection_names_the_module(chub, api):
    did = unique("modlog")
    chub.create_device(did)
    cs = chub.create_module(did, "m1")
    c = sdk_device_client(chub, cs, module=True)
    try:
        bounded(c.connect, timeout=30, what="connect")
        bounded(c.disconnect, timeout=30, what="disconnect")
    finally:
        shutdown_quietly(c)
    recs = api.wait_records(did, 2, settle=SETTLE)
    assert shape(recs) == [("deviceConnect", "Information", ""),
                           ("deviceDisconnect", "Information", "")], recs
    for r in recs:
        check_record_shape(r, chub)
        assert (r["properties"]["deviceId"], r["properties"]["moduleId"]) == (did, "m1")


# ---- 404104: the device vanished ---------------------------------------------------------


def test_socket_closed_without_disconnect_is_404104(chub, api):
    """A raw MQTT client that closes its socket: 404104 at once, saying the socket closed."""
    did = unique("vanish")
    cs = chub.create_device(did)
    raw = RawMqtt(chub, cs, keepalive=60)
    assert raw.connect() == 0
    time.sleep(1.0)
    closed_at = time.monotonic()
    raw.close()

    recs = api.wait_records(did, 2, settle=SETTLE)
    seen = time.monotonic() - closed_at
    assert shape(recs) == [("deviceConnect", "Information", ""),
                           ("deviceDisconnect", "Error", "404104")], recs
    for r in recs:
        check_record_shape(r, chub)
    d = recs[1]
    assert d["resultDescription"].startswith("DeviceConnectionClosedRemotely"), d
    assert "socket" in description(d) or "closed" in description(d), d
    assert "keep-alive" not in description(d) and "keepalive" not in description(d), \
        f"a closed socket is not a keep-alive expiry: {d}"
    assert d["durationMs"] >= 900, d
    assert d["properties"]["sdkVersion"] == "outpost-compat/1.0", d["properties"]
    assert seen < 5, f"the 404104 record took {seen:.1f} s after the socket closed"


def test_paho_socket_closed_is_404104(chub, api, pahos):
    did = unique("pahodrop")
    cs = chub.create_device(did)
    p = paho(chub, cs, pahos)
    assert p.connect() == 0
    drop_paho(p)
    recs = api.wait_records(did, 2, settle=SETTLE)
    assert shape(recs) == [("deviceConnect", "Information", ""),
                           ("deviceDisconnect", "Error", "404104")], recs
    assert "keep-alive" not in description(recs[1]), recs[1]


@pytest.mark.parametrize("keepalive", [2, 4])
def test_keepalive_expiry_is_404104_within_1_5x(chub, api, pahos, keepalive):
    """paho with a short keep-alive whose network loop stops: it sends no PINGREQ, the socket
    stays open, and the hub cuts it after 1.5 × the keep-alive, saying so."""
    did = unique("hung")
    cs = chub.create_device(did)
    p = paho(chub, cs, pahos, keepalive=keepalive)
    assert p.connect() == 0
    silence_paho(p)  # from here on nothing is sent (the last packet left before this returned)
    silent_since = time.monotonic()
    limit = 1.5 * keepalive
    slack = 2.5

    recs = api.wait_records(did, 2, timeout=limit + slack + 5, settle=0)
    seen = time.monotonic() - silent_since
    assert shape(recs)[:2] == [("deviceConnect", "Information", ""),
                               ("deviceDisconnect", "Error", "404104")], recs
    assert seen <= limit + slack, \
        f"404104 after {seen:.1f} s of silence; the keep-alive is {keepalive} s"
    d = recs[1]
    check_record_shape(d, chub)
    text = description(d)
    assert "keep-alive" in text or "keepalive" in text or "keep alive" in text, d
    assert str(keepalive) in d["resultDescription"], d
    assert d["properties"].get("keepAliveSeconds") == keepalive, d["properties"]
    assert d["durationMs"] >= limit * 1000 - 300, \
        f"cut after {d['durationMs']} ms, before 1.5 × the keep-alive of {keepalive} s"

    # The hub closed the socket: the silenced client reads EOF.
    closed, _ = read_until_closed(p.client.socket(), 2)
    drop_paho(p)
    assert closed, "the hub did not close the connection it logged as expired"
    time.sleep(SETTLE)
    assert len(api.records(device=did)) == 2


# ---- 401003: refused ----------------------------------------------------------------------


def _token(chub, did, cs, how):
    if how == "expired":
        return sas.device_token_from_connection_string(cs, expiry=int(time.time()) - 120)
    if how == "bad-signature":
        return sas.generate_sas_token(sas.resource_uri(chub.host, did), random_key())
    if how == "wrong-resource":
        other = sas.parse_connection_string(cs)["SharedAccessKey"]
        return sas.generate_sas_token(sas.resource_uri(chub.host, did + "-other"), other)
    return sas.device_token_from_connection_string(cs)


# how -> words, one of which the description names the reason with
REFUSALS = {
    "expired": ("expired",),
    "bad-signature": ("signature",),
    "wrong-resource": ("resource", "not \"", "token is for"),
    "unknown-device": ("unknown", "not found", "does not exist", "no such"),
    "disabled-device": ("disabled",),
}


@pytest.mark.parametrize("how", list(REFUSALS))
def test_refused_connect_is_401003(chub, api, pahos, how):
    """paho (the SDK refuses an expired token locally) with a token the hub must refuse:
    CONNACK 5, and one deviceConnect Error 401003 that says why; no disconnect record."""
    did = unique(how)
    key = random_key()
    cs = f"HostName={chub.host};DeviceId={did};SharedAccessKey={key}"
    if how == "disabled-device":
        cs = chub.create_device(did, status="disabled")
    elif how != "unknown-device":
        cs = chub.create_device(did)
    p = paho(chub, cs, pahos)
    p.client.username_pw_set(sas.mqtt_username(chub.host, did), _token(chub, did, cs, how))
    rc = p.connect()
    assert rc in (4, 5), f"CONNACK {rc}: the hub accepted a {how} token"

    recs = api.wait_records(did, 1, settle=SETTLE)
    assert shape(recs) == [("deviceConnect", "Error", "401003")], recs
    r = recs[0]
    check_record_shape(r, chub)
    assert r["resultDescription"].lower().startswith(CODE_NAMES["401003"].lower()), r
    assert r["properties"]["deviceId"] == did, r["properties"]
    assert r["properties"]["statusCode"] == "401", r["properties"]
    assert any(w in description(r) for w in REFUSALS[how]), \
        f"the description should say the token was refused because {how}: {r['resultDescription']}"


# ---- 409002: a second connection with the same id ----------------------------------------


def test_second_connection_closes_first_with_409002(chub, api, pahos):
    did = unique("twice")
    cs = chub.create_device(did)
    first = paho(chub, cs, pahos)
    assert first.connect() == 0
    time.sleep(1.0)
    second = paho(chub, cs, pahos)
    assert second.connect() == 0
    assert first.disconnected.wait(10), "the hub did not close the older connection"
    time.sleep(1.0)
    assert not second.disconnected.is_set(), "the newer connection stays"

    recs = api.wait_records(did, 3, settle=SETTLE)
    assert sorted(shape(recs)) == sorted([("deviceConnect", "Information", ""),
                                          ("deviceConnect", "Information", ""),
                                          ("deviceDisconnect", "Error", "409002")]), recs
    conflict = errors_of(recs, "409002")[0]
    check_record_shape(conflict, chub)
    assert conflict["resultDescription"].startswith("LinkCreationConflict"), conflict
    # It is the first connection that was closed: it had lived for over a second.
    assert conflict["durationMs"] >= 900, conflict

    second.close()
    recs = api.wait_records(did, 4, settle=SETTLE)
    assert shape(recs)[3:] == [("deviceDisconnect", "Information", "")], recs
    assert len(errors_of(recs)) == 1


# ---- 500008: TLS or CONNECT not finished in time -----------------------------------------


def _timeout_records(api, since: dt.datetime) -> list[dict]:
    return [r for r in api.records(since="1h") if r["resultType"] == "500008"
            and parse_time(r["time"]) >= since]


def _wait_timeout_records(api, since: dt.datetime, n: int) -> list[dict]:
    deadline = time.monotonic() + 10
    got = _timeout_records(api, since)
    while len(got) < n and time.monotonic() < deadline:
        time.sleep(0.1)
        got = _timeout_records(api, since)
    time.sleep(SETTLE)
    return _timeout_records(api, since)


def test_tcp_without_tls_is_cut_with_500008(chub, api):
    """A TCP connection to 8883 that never starts TLS: closed after --connect-timeout and
    logged as deviceConnect 500008 with no device id."""
    since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
    started = time.monotonic()
    with socket.create_connection((chub.host, MQTT_PORT), timeout=5) as s:
        closed, data = read_until_closed(s, 10)
    waited = time.monotonic() - started
    assert closed, "the hub kept a silent TCP connection open"
    assert CONNECT_TIMEOUT - 0.5 <= waited <= CONNECT_TIMEOUT + 3, \
        f"closed after {waited:.1f} s; --connect-timeout is {CONNECT_TIMEOUT} s"

    recs = _wait_timeout_records(api, since, 1)
    assert len(recs) == 1, recs
    r = recs[0]
    check_record_shape(r, chub)
    assert (r["operationName"], r["level"]) == ("deviceConnect", "Error"), r
    assert r["resultDescription"].startswith("GenericTimeout"), r
    assert r["properties"]["deviceId"] is None, r["properties"]
    assert r["properties"]["statusCode"] == "500", r["properties"]


def test_tls_without_connect_is_cut_with_500008(chub, api):
    """TLS finished but no MQTT CONNECT: the same."""
    since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
    started = time.monotonic()
    raw = socket.create_connection((chub.host, MQTT_PORT), timeout=5)
    with chub.ssl_context().wrap_socket(raw, server_hostname=chub.host) as s:
        closed, _ = read_until_closed(s, 10)
    waited = time.monotonic() - started
    assert closed and waited <= CONNECT_TIMEOUT + 3, (closed, waited)
    recs = _wait_timeout_records(api, since, 1)
    assert [(r["operationName"], r["level"]) for r in recs] == [("deviceConnect", "Error")], recs
    assert recs[0]["resultDescription"].startswith("GenericTimeout"), recs


def test_connect_within_timeout_is_not_cut(chub, api, pahos):
    """A device that stays connected past --connect-timeout is not a timeout."""
    did = unique("stays")
    cs = chub.create_device(did)
    p = paho(chub, cs, pahos)
    assert p.connect() == 0
    time.sleep(CONNECT_TIMEOUT + 1.5)
    assert not p.disconnected.is_set(), f"disconnected with rc {p.disconnect_rc}"
    p.close()
    recs = api.wait_records(did, 2, settle=SETTLE)
    assert shape(recs) == [("deviceConnect", "Information", ""),
                           ("deviceDisconnect", "Information", "")], recs

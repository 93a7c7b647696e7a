"""Helpers for the twin, direct-method, cloud-to-device and query tests (issue 4).

- `TwinPaho`: a PahoDevice that records every PUBLISH it receives and speaks the twin
  request/response topics the way azure-iot-device does (`$iothub/twin/...?$rid=N`).
- `RawMqtt`: a hand-rolled MQTT 3.1.1 client over TLS that never acknowledges anything by itself,
  for "the device got the message but never sent PUBACK" (paho 1.6.1 always PUBACKs QoS 1).
- `hub_error`, `assert_hub_error`: the status, error code and text of an HttpOperationError.
- `create_devices`: many SAS devices through the REST API, faster than one CLI call each.

Issue 5 (connection diagnostics): `OutpostApi` (the `/$outpost/...` REST endpoints: diagnostic
settings and records, the log query, metrics, alerts), `running_hub` (a hub with serve options
for module fixtures), `raw_mqtt_connect`/`end_connection` (many short connections),
`silence_paho`/`drop_paho` (a hung or vanished device), `HookReceiver` (a real HTTP receiver for
webhooks) and `prometheus_samples`.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import struct
import threading
import time
import urllib.parse
from typing import Any, Callable, Iterator

import sas
from outpost import MQTT_PORT, Hub, PahoDevice, client_ssl_context, random_key, wait_for


# --------------------------------------------------------------------------------------------
# Service errors


def hub_error(e: Any) -> tuple[int, str]:
    """(HTTP status, headers + body text) of an HttpOperationError (or its ExceptionInfo)."""
    e = getattr(e, "value", e)
    r = e.response
    return r.status_code, f"{r.headers.get('iothub-errorcode', '')} {r.text}"


def assert_hub_error(e: Any, status: int, code: int, name: str | None = None) -> str:
    """Check the HTTP status and that the numeric IoT Hub error code (e.g. 404103) is in the
    body; return the text for further checks."""
    got, text = hub_error(e)
    assert got == status, f"expected HTTP {status}, got {got}: {text}"
    assert str(code) in text or (name is not None and name in text), \
        f"expected error code {code} ({name}) in the answer: {text}"
    return text


def cli_failed_with(cp, *needles: str) -> None:
    """A CLI call exited non-zero and said (on stderr) at least one of `needles`."""
    assert cp.returncode != 0, f"expected a failure, got exit 0: {cp.stdout}"
    err = cp.stderr
    assert err.strip(), "an error exit says why on stderr"
    assert any(n.lower() in err.lower() for n in needles), \
        f"stderr should mention one of {needles}: {err!r}"


# --------------------------------------------------------------------------------------------
# Registry


def device_cs(hub: Hub, device_id: str, key: str) -> str:
    return f"HostName={hub.host};DeviceId={device_id};SharedAccessKey={key}"


def create_devices(rm, hub: Hub, ids: list[str]) -> dict[str, str]:
    """Create SAS devices through the registry REST API; returns {id: connection string}."""
    out = {}
    for did in ids:
        pk = random_key()
        rm.create_device_with_sas(did, pk, random_key(), "enabled")
        out[did] = device_cs(hub, did, pk)
    return out


# --------------------------------------------------------------------------------------------
# paho with twin request/response


def parse_response_topic(topic: str) -> tuple[int, dict[str, str]]:
    """`$iothub/twin/res/204/?$rid=7&$version=3` -> (204, {"$rid": "7", "$version": "3"})."""
    head, _, query = topic.partition("?")
    status = int(head.rstrip("/").split("/")[-1])
    params = {urllib.parse.unquote(k): urllib.parse.unquote(v)
              for k, _, v in (p.partition("=") for p in query.split("&") if p)}
    return status, params


class TwinPaho(PahoDevice):
    """PahoDevice + a record of received messages + twin requests with $rid correlation."""

    def __init__(self, *a: Any, **kw: Any):
        super().__init__(*a, **kw)
        self.cond = threading.Condition()
        self.received: list[tuple[str, bytes]] = []
        self._rid = 0
        self.client.on_message = self._on_message

    def _on_message(self, client, userdata, msg):
        with self.cond:
            self.received.append((msg.topic, bytes(msg.payload)))
            self.cond.notify_all()

    def next_rid(self) -> str:
        with self.cond:
            self._rid += 1
            return str(self._rid)

    def subscribe(self, topic: str, timeout: float = 10.0) -> tuple:
        result, mid = self.client.subscribe(topic, qos=1)
        assert result == 0, f"subscribe({topic}) failed locally: {result}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if mid in self.suback:
                    return self.suback[mid]
            if self.disconnected.is_set():
                raise ConnectionError(f"disconnected while subscribing to {topic}")
            time.sleep(0.01)
        raise TimeoutError(f"no SUBACK for {topic} within {timeout} s")

    def wait_message(self, pred: Callable[[str, bytes], bool], timeout: float
                     ) -> tuple[str, bytes] | None:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for m in self.received:
                    if pred(*m):
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def messages(self, prefix: str = "") -> list[tuple[str, bytes]]:
        with self.cond:
            return [m for m in self.received if m[0].startswith(prefix)]

    def send_twin_request(self, topic_without_rid: str, payload: bytes | str) -> str:
        """Publish `{topic}?$rid=N`; returns N."""
        rid = self.next_rid()
        info = self.publish(f"{topic_without_rid}?$rid={rid}", payload, qos=1)
        assert info.rc == 0, f"publish failed locally: {info.rc}"
        return rid

    def await_twin_response(self, rid: str, timeout: float = 10.0
                            ) -> tuple[int, dict[str, str], bytes]:
        """Wait for `$iothub/twin/res/{status}/?$rid={rid}...` -> (status, params, payload).
        Needs a subscription to `$iothub/twin/res/#`."""

        def match(topic: str, _payload: bytes) -> bool:
            return topic.startswith("$iothub/twin/res/") and \
                parse_response_topic(topic)[1].get("$rid") == rid

        m = self.wait_message(match, timeout)
        if m is None:
            raise TimeoutError(f"no twin response for $rid={rid} within {timeout} s")
        status, params = parse_response_topic(m[0])
        return status, params, m[1]

    def twin_request(self, topic_without_rid: str, payload: bytes | str,
                     timeout: float = 10.0) -> tuple[int, dict[str, str], bytes]:
        """send_twin_request + await_twin_response."""
        return self.await_twin_response(self.send_twin_request(topic_without_rid, payload),
                                        timeout)

    def patch_reported(self, patch: Any, timeout: float = 10.0) -> tuple[int, int | None]:
        """-> (status, new reported $version or None)."""
        body = patch if isinstance(patch, (bytes, str)) else json.dumps(patch)
        status, params, _ = self.twin_request("$iothub/twin/PATCH/properties/reported/", body,
                                              timeout)
        v = params.get("$version")
        return status, (int(v) if v is not None else None)

    def get_twin(self, timeout: float = 10.0) -> tuple[int, Any]:
        status, _, payload = self.twin_request("$iothub/twin/GET/", b" ", timeout)
        return status, (json.loads(payload) if payload.strip() else None)


def twin_paho(hub: Hub, cs: str, subscribe_twin: bool = True, **kw: Any) -> TwinPaho:
    """A connected TwinPaho (subscribed to `$iothub/twin/res/#` unless told otherwise)."""
    p = TwinPaho.from_connection_string(hub, cs, **kw)
    rc = p.connect()
    if rc != 0:
        p.close()
        raise ConnectionError(f"CONNACK {rc}")
    if subscribe_twin:
        p.subscribe("$iothub/twin/res/#")
    return p


# --------------------------------------------------------------------------------------------
# A raw MQTT 3.1.1 client that acknowledges nothing unless told to


def _utf8(s: str) -> bytes:
    b = s.encode()
    return struct.pack("!H", len(b)) + b


def _remaining_length(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n % 128
        n //= 128
        if n:
            byte |= 0x80
        out.append(byte)
        if not n:
            return bytes(out)


class RawMqtt:
    """Minimal MQTT over TLS: CONNECT (clean_session=0 by default), SUBSCRIBE, read PUBLISH,
    PUBACK only when asked. close() drops the TCP connection without DISCONNECT."""

    def __init__(self, hub: Hub, cs: str, *, clean_session: bool = False, keepalive: int = 60):
        p = sas.parse_connection_string(cs)
        self.device_id = p["DeviceId"]
        self.module_id = p.get("ModuleId")
        self.hub = hub
        self.clean_session = clean_session
        self.keepalive = keepalive
        self.password = sas.device_token_from_connection_string(cs)
        self.sock: ssl.SSLSocket | None = None
        self.buf = b""
        self.next_pid = 1
        self.publishes: list[dict] = []  # PUBLISH packets read so far, in order

    def connect(self, timeout: float = 10.0) -> int:
        raw = socket.create_connection((self.hub.host, MQTT_PORT), timeout=timeout)
        self.sock = client_ssl_context(self.hub.ca_pem).wrap_socket(
            raw, server_hostname=self.hub.host)
        flags = 0xC0 | (0x02 if self.clean_session else 0)
        body = (_utf8("MQTT") + bytes([4, flags]) + struct.pack("!H", self.keepalive)
                + _utf8(sas.mqtt_client_id(self.device_id, self.module_id))
                + _utf8(sas.mqtt_username(self.hub.host, self.device_id, self.module_id))
                + _utf8(self.password))
        self._send(0x10, body)
        ptype, _flags, body = self._read_packet(timeout)
        assert ptype == 2, f"expected CONNACK, got packet type {ptype}"
        return body[1]

    def _send(self, first: int, body: bytes) -> None:
        assert self.sock is not None
        self.sock.sendall(bytes([first]) + _remaining_length(len(body)) + body)

    def _fill(self, n: int, deadline: float) -> bool:
        assert self.sock is not None
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except (socket.timeout, TimeoutError):
                return False
            if not chunk:
                raise ConnectionError("the hub closed the connection")
            self.buf += chunk
        return True

    def _read_packet(self, timeout: float) -> tuple[int, int, bytes]:
        """-> (packet type, flags, body); raises TimeoutError."""
        deadline = time.monotonic() + timeout
        if not self._fill(2, deadline):
            raise TimeoutError("no packet")
        # Remaining length: up to 4 bytes after the first.
        mult, length, i = 1, 0, 1
        while True:
            if not self._fill(i + 1, deadline):
                raise TimeoutError("incomplete packet header")
            byte = self.buf[i]
            length += (byte & 0x7F) * mult
            mult *= 128
            i += 1
            if not byte & 0x80:
                break
        if not self._fill(i + length, deadline):
            raise TimeoutError("incomplete packet")
        first = self.buf[0]
        body = self.buf[i:i + length]
        self.buf = self.buf[i + length:]
        return first >> 4, first & 0x0F, body

    def _record_publish(self, flags: int, body: bytes) -> dict:
        tlen = struct.unpack("!H", body[:2])[0]
        topic = body[2:2 + tlen].decode()
        qos = (flags >> 1) & 3
        pos = 2 + tlen
        pid = None
        if qos:
            pid = struct.unpack("!H", body[pos:pos + 2])[0]
            pos += 2
        p = {"topic": topic, "payload": body[pos:], "qos": qos, "pid": pid,
             "dup": bool(flags & 0x08)}
        self.publishes.append(p)
        return p

    def subscribe(self, topic: str, qos: int = 1, timeout: float = 10.0) -> int:
        """-> the granted QoS (0x80 = refused). PUBLISH packets read meanwhile are kept."""
        pid = self.next_pid
        self.next_pid += 1
        self._send(0x82, struct.pack("!H", pid) + _utf8(topic) + bytes([qos]))
        deadline = time.monotonic() + timeout
        while True:
            ptype, flags, body = self._read_packet(max(0.01, deadline - time.monotonic()))
            if ptype == 9 and struct.unpack("!H", body[:2])[0] == pid:
                return body[2]
            if ptype == 3:
                self._record_publish(flags, body)

    def next_publish(self, timeout: float, consumed: int = 0) -> dict | None:
        """The PUBLISH number `consumed` (0-based) of this connection, reading as needed;
        None if none arrives in time."""
        deadline = time.monotonic() + timeout
        while len(self.publishes) <= consumed:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                ptype, flags, body = self._read_packet(left)
            except TimeoutError:
                return None
            if ptype == 3:
                self._record_publish(flags, body)
        return self.publishes[consumed]

    def puback(self, pid: int) -> None:
        self._send(0x40, struct.pack("!H", pid))

    def disconnect(self) -> None:
        try:
            self._send(0xE0, b"")
        except OSError:
            pass
        self.close()

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None


# --------------------------------------------------------------------------------------------
# Collecting what SDK handlers receive


class Inbox:
    """A thread-safe list for SDK handlers (`client.on_... = inbox.put`)."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self.cond = threading.Condition()

    def put(self, item: Any) -> None:
        with self.cond:
            self.items.append(item)
            self.cond.notify_all()

    def snapshot(self) -> list[Any]:
        with self.cond:
            return list(self.items)

    def wait_for(self, pred: Callable[[Any], bool], timeout: float) -> Any | None:
        """The first item matching `pred`, waiting up to `timeout` s."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for it in self.items:
                    if pred(it):
                        return it
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def wait_count(self, n: int, timeout: float) -> list[Any]:
        """Wait until at least `n` items arrived (or the timeout); return them all."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.items) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(left)
            return list(self.items)


def set_handler(client: Any, name: str, handler: Any, timeout: float = 20.0) -> None:
    """`client.<name> = handler`, bounded: setting a receive handler subscribes (and connects
    the client if needed), which blocks."""
    from outpost import bounded
    bounded(setattr, client, name, handler, timeout=timeout, what=f"set {name}")


# --------------------------------------------------------------------------------------------
# Issue 5: diagnostics, the log query, metrics, alerts. Shapes: /tmp/spec/issue5-interfaces.md


SEED_QUERY = ('search *\n'
              '| where ( Type == "AzureDiagnostics" and ResourceType == "IOTHUBS")\n'
              '| where ( Category == "Connections" and Level == "Error")')
"""The troubleshooting page's query, verbatim (seed 004)."""

CODE_NAMES = {
    "404104": "DeviceConnectionClosedRemotely",
    "401003": "IotHubUnauthorized",
    "409002": "LinkCreationConflict",
    "500001": "ServerError",
    "500008": "GenericTimeout",
}
"""resultType -> the name resultDescription starts with (IoTHubErrorCode's spelling)."""


@contextlib.contextmanager
def running_hub(tmp_path_factory, name: str, extra_args: tuple[str, ...] = (),
                host: str | None = None) -> Iterator[Hub]:
    """A started hub with `extra_args`, stopped when the block ends (for module fixtures that
    need serve options). A hub that fails to start, or died by itself, fails the test."""
    import pytest

    from outpost import HubError, allocate_host

    h = Hub(tmp_path_factory.mktemp(name), host or allocate_host(), extra_args)
    try:
        h.start()
    except HubError as e:
        error = str(e)
        pytest.fail(error, pytrace=False)
    try:
        yield h
    finally:
        crashed = h.teardown()
        if crashed:
            pytest.fail(crashed, pytrace=False)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on at `host` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def service_token(hub: Hub) -> str:
    p = sas.parse_connection_string(hub.service_cs)
    return sas.generate_sas_token(p["HostName"], p["SharedAccessKey"],
                                  policy_name=p["SharedAccessKeyName"])


def table_rows(table: dict) -> list[dict]:
    """A `{"columns":[{"name"…}], "rows":[[…]]}` table as a list of {column: value}."""
    names = [c["name"] for c in table["columns"]]
    for row in table["rows"]:
        assert len(row) == len(names), f"row {row} does not match columns {names}"
    return [dict(zip(names, row)) for row in table["rows"]]


class OutpostApi:
    """Outpost's own REST endpoints (`/$outpost/...`) with the service SAS token. The CA goes
    with every request: REQUESTS_CA_BUNDLE (set by other fixtures) would win over a session's
    `verify`."""

    def __init__(self, hub: Hub, timeout: float = 15.0):
        import requests

        self.hub = hub
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["Authorization"] = service_token(hub)

    def url(self, path: str) -> str:
        return f"https://{self.hub.host}/$outpost/{path.lstrip('/')}"

    def request(self, method: str, path: str, **kw: Any):
        kw.setdefault("timeout", self.timeout)
        kw.setdefault("verify", str(self.hub.ca_path))
        return self.session.request(method, self.url(path), **kw)

    def get(self, path: str, **kw: Any):
        return self.request("GET", path, **kw)

    def put(self, path: str, body: Any, **kw: Any):
        return self.request("PUT", path, json=body, **kw)

    def post(self, path: str, body: Any, **kw: Any):
        return self.request("POST", path, json=body, **kw)

    def delete(self, path: str, **kw: Any):
        return self.request("DELETE", path, **kw)

    def ok_json(self, r) -> Any:
        assert r.status_code == 200, f"{r.request.method} {r.url}: {r.status_code} {r.text}"
        return r.json()

    # ---- diagnostics ---------------------------------------------------------------------

    def settings(self) -> dict[str, dict]:
        return {s["category"]: s for s in self.ok_json(self.get("diagnostics/settings"))}

    def records(self, category: str | None = "Connections", device: str | None = None,
                since: str | None = None, limit: int | None = None) -> list[dict]:
        params = {k: v for k, v in (("category", category), ("device", device),
                                    ("since", since), ("limit", limit)) if v is not None}
        return self.ok_json(self.get("diagnostics/records", params=params))

    def wait_records(self, device: str, n: int, *, timeout: float = 10.0, settle: float = 0.5,
                     pred: Callable[[dict], bool] | None = None,
                     category: str = "Connections") -> list[dict]:
        """Poll until `device` has at least `n` records (matching `pred`), then wait `settle`
        seconds and return all its records (matching `pred`), so that doubles show."""
        def current() -> list[dict]:
            recs = self.records(category=category, device=device)
            return [r for r in recs if pred is None or pred(r)]

        deadline = time.monotonic() + timeout
        got = current()
        while len(got) < n and time.monotonic() < deadline:
            time.sleep(0.1)
            got = current()
        if len(got) >= n and settle:
            time.sleep(settle)
            got = current()
        return got

    # ---- logs query ----------------------------------------------------------------------

    def query_raw(self, kql: str):
        return self.post("logs/query", {"query": kql})

    def query(self, kql: str) -> list[dict]:
        """POST /$outpost/logs/query -> the PrimaryResult rows as {column: value}."""
        body = self.ok_json(self.query_raw(kql))
        tables = {t["name"]: t for t in body["tables"]}
        assert "PrimaryResult" in tables, body
        return table_rows(tables["PrimaryResult"])

    # ---- metrics -------------------------------------------------------------------------

    def metrics(self) -> dict[str, dict]:
        return {m["name"]: m for m in self.ok_json(self.get("metrics"))}

    def metric(self, name: str) -> float:
        return self.metrics()[name]["value"]

    def wait_metric(self, name: str, pred: Callable[[float], bool], timeout: float = 10.0
                    ) -> float:
        v = wait_for(lambda: (lambda x: (x,) if pred(x) else None)(self.metric(name)), timeout,
                     0.1)
        value = self.metric(name)
        assert v is not None and pred(value), f"metric {name} is {value} after {timeout} s"
        return value

    def close(self) -> None:
        self.session.close()


def cli_json(hub: Hub, *args: str, timeout: float = 60.0) -> Any:
    """`iothub ARGS --json`, which must succeed; its parsed output."""
    cp = hub.cli(*args, "--json", timeout=timeout)
    assert cp.returncode == 0, f"iothub {' '.join(args)} exited {cp.returncode}: {cp.stderr}"
    try:
        return json.loads(cp.stdout)
    except json.JSONDecodeError as e:
        raise AssertionError(
            f"iothub {' '.join(args)} --json printed no JSON: {cp.stdout!r}") from e


def check_record_shape(rec: dict, hub: Hub) -> None:
    """The resource-log fields every Connections record carries (WIRE.md)."""
    for key in ("time", "resourceId", "operationName", "category", "level", "resultType",
                "resultDescription", "properties", "location"):
        assert key in rec, f"record without {key}: {rec}"
    assert rec["category"] == "Connections", rec
    assert rec["operationName"] in ("deviceConnect", "deviceDisconnect"), rec
    assert rec["level"] in ("Information", "Error"), rec
    assert rec["resourceId"].startswith("/SUBSCRIPTIONS/"), rec["resourceId"]
    assert rec["resourceId"].endswith("/IOTHUBS/" + hub.host.upper()), rec["resourceId"]
    assert "/PROVIDERS/MICROSOFT.DEVICES/" in rec["resourceId"], rec["resourceId"]
    parse_time(rec["time"])
    props = rec["properties"]
    for key in ("deviceId", "moduleId", "protocol", "authType", "maskedIpAddress",
                "sdkVersion"):
        assert key in props, f"record properties without {key}: {rec}"
    if props["maskedIpAddress"] is not None:
        assert props["maskedIpAddress"].endswith("XXX"), props
    if rec["level"] == "Information":
        assert rec["resultType"] in ("", None), rec
        if rec["operationName"] == "deviceConnect":
            assert not rec["resultDescription"], rec
        else:  # free text for a clean end (DISCONNECT, hub shutdown), but no error name
            assert not any(rec["resultDescription"].startswith(n) for n in CODE_NAMES.values()), rec
    else:
        code = rec["resultType"]
        assert code in CODE_NAMES, f"unexpected resultType {code!r}: {rec}"
        assert rec["resultDescription"].lower().startswith(CODE_NAMES[code].lower()), rec
        assert str(props.get("statusCode")) == code[:3], f"statusCode of an error: {rec}"


def parse_time(s: str):
    import datetime as dt

    t = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
    assert t.tzinfo is not None, f"time without a zone: {s}"
    return t


def errors_of(records: list[dict], code: str | None = None) -> list[dict]:
    return [r for r in records
            if r["level"] == "Error" and (code is None or r["resultType"] == code)]


def shape(records: list[dict]) -> list[tuple[str, str, str]]:
    """(operationName, level, resultType) of each record, in order."""
    return [(r["operationName"], r["level"], r["resultType"] or "") for r in records]


# --------------------------------------------------------------------------------------------
# Ending connections the ways devices do


def silence_paho(p: PahoDevice) -> None:
    """Stop a PahoDevice's network loop: it keeps the socket open but sends nothing more
    (no PINGREQ), like a hung device."""
    if p._loop:
        p.client.loop_stop()
        p._loop = False


def drop_paho(p: PahoDevice) -> None:
    """Stop the loop and close the socket without DISCONNECT."""
    silence_paho(p)
    sock = p.client.socket()
    if sock is not None:
        try:
            sock.close()
        except OSError:
            pass


def shutdown_write(sock: socket.socket) -> None:
    """TCP FIN under a TLS socket, without close_notify or an MQTT DISCONNECT."""
    try:
        socket.socket.shutdown(sock, socket.SHUT_WR)
    except OSError:
        pass


def raw_mqtt_connect(host: str, ctx: ssl.SSLContext, device_id: str, password: str, *,
                     keepalive: int = 60, clean_session: bool = True, timeout: float = 10.0,
                     client_type: str = "outpost-compat/1.0") -> tuple[ssl.SSLSocket, int]:
    """TLS + MQTT CONNECT; returns (socket, CONNACK return code). For many short connections
    with one shared SSL context."""
    raw = socket.create_connection((host, MQTT_PORT), timeout=timeout)
    try:
        sock = ctx.wrap_socket(raw, server_hostname=host)
        flags = 0xC0 | (0x02 if clean_session else 0)
        body = (_utf8("MQTT") + bytes([4, flags]) + struct.pack("!H", keepalive)
                + _utf8(device_id)
                + _utf8(sas.mqtt_username(host, device_id, client_type=client_type))
                + _utf8(password))
        sock.sendall(bytes([0x10]) + _remaining_length(len(body)) + body)
        data = b""
        deadline = time.monotonic() + timeout
        while len(data) < 4:
            sock.settimeout(max(0.05, deadline - time.monotonic()))
            chunk = sock.recv(4 - len(data))
            if not chunk:
                raise ConnectionError(f"{device_id}: the hub closed the connection before CONNACK")
            data += chunk
            if time.monotonic() > deadline:
                raise TimeoutError(f"{device_id}: no CONNACK within {timeout} s")
    except BaseException:
        raw.close()
        raise
    assert data[0] == 0x20 and data[1] == 2, f"{device_id}: expected CONNACK, got {data!r}"
    return sock, data[3]


def end_connection(sock: ssl.SSLSocket, clean: bool, timeout: float = 10.0) -> bool:
    """End a raw MQTT connection: DISCONNECT first when `clean`, then a TCP FIN, then wait until
    the hub closes its side (so it has seen the end before the next connection with the same
    client id). Returns whether the hub closed within `timeout`."""
    from outpost import read_until_closed

    try:
        if clean:
            try:
                sock.sendall(b"\xe0\x00")
            except OSError:
                pass
        shutdown_write(sock)
        closed, _ = read_until_closed(sock, timeout)
        return closed
    finally:
        try:
            sock.close()
        except OSError:
            pass


# --------------------------------------------------------------------------------------------
# A real HTTP receiver for webhooks


class HookReceiver:
    """http.server on 127.0.0.1 (random port) in a thread, recording every request. `status`
    (an int, or a callable(request dict) -> int) is what it answers."""

    def __init__(self, status: int | Callable[[dict], int] = 200):
        import http.server

        self.status = status
        self.cond = threading.Condition()
        self.requests: list[dict] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                req = {"method": self.command, "path": self.path, "headers": dict(self.headers),
                       "body": body, "time": time.time()}
                try:
                    req["json"] = json.loads(body) if body.strip() else None
                except ValueError:
                    req["json"] = None
                st = receiver.status(req) if callable(receiver.status) else receiver.status
                req["answered"] = st
                with receiver.cond:
                    receiver.requests.append(req)
                    receiver.cond.notify_all()
                self.send_response(st)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_PUT = do_GET = _handle

            def log_message(self, *a: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True,
                                       name=f"hook:{self.port}")
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def snapshot(self, pred: Callable[[dict], bool] | None = None) -> list[dict]:
        with self.cond:
            return [r for r in self.requests if pred is None or pred(r)]

    def wait_count(self, n: int, timeout: float, pred: Callable[[dict], bool] | None = None
                   ) -> list[dict]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                got = [r for r in self.requests if pred is None or pred(r)]
                left = deadline - time.monotonic()
                if len(got) >= n or left <= 0:
                    return got
                self.cond.wait(left)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def records_in_body(req: dict) -> list[dict]:
    """Diagnostic records carried by one sink delivery: a JSON array, {"records": [...]} (Azure
    Monitor's export shape), one record object, or NDJSON."""
    j = req.get("json")
    if isinstance(j, list):
        return j
    if isinstance(j, dict):
        return j["records"] if isinstance(j.get("records"), list) else [j]
    return [json.loads(line) for line in req["body"].decode().splitlines() if line.strip()]


# --------------------------------------------------------------------------------------------
# Prometheus text


def prometheus_samples(text: str) -> dict[str, float]:
    """Prometheus text -> {"name{labels}": value}; a labelled sample is also under its bare name
    (first one wins)."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if "}" in line:
            i = line.rindex("}")
            key, rest = line[:i + 1], line[i + 1:]
        else:
            key, _, rest = line.partition(" ")
        value = float(rest.split()[0])  # an optional timestamp may follow
        out[key] = value
        if "{" in key:
            out.setdefault(key[:key.index("{")], value)
    return out


# --------------------------------------------------------------------------------------------
# Scripted connection histories (each returns once the hub has ended the connection)


def paho_clean_cycle(hub: Hub, cs: str, hold: float = 0.2, keepalive: int = 60) -> None:
    """Connect with paho, stay `hold` seconds, DISCONNECT."""
    p = PahoDevice.from_connection_string(hub, cs, keepalive=keepalive)
    try:
        rc = p.connect()
        assert rc == 0, f"CONNACK {rc}"
        time.sleep(hold)
    finally:
        p.close()


def raw_vanish(hub: Hub, cs: str, hold: float = 0.2) -> None:
    """Connect over raw MQTT, stay `hold` seconds, then drop the socket without DISCONNECT and
    wait until the hub has closed its side."""
    p = sas.parse_connection_string(cs)
    sock, rc = raw_mqtt_connect(hub.host, client_ssl_context(hub.ca_pem), p["DeviceId"],
                                sas.device_token_from_connection_string(cs))
    assert rc == 0, f"CONNACK {rc}"
    time.sleep(hold)
    assert end_connection(sock, clean=False), "the hub did not close a dropped connection"


def paho_refused(hub: Hub, device_id: str, password: str) -> int | None:
    """A paho CONNECT with `password` that the hub must refuse; returns the CONNACK code."""
    p = PahoDevice(hub, device_id=device_id, password=password)
    try:
        return p.connect()
    finally:
        p.close()


def expired_token(cs: str, seconds_ago: int = 120) -> str:
    return sas.device_token_from_connection_string(cs, expiry=int(time.time()) - seconds_ago)


def badly_signed_token(hub: Hub, device_id: str) -> str:
    return sas.generate_sas_token(sas.resource_uri(hub.host, device_id), random_key())


def paho_conflict(hub: Hub, cs: str, hold: float = 1.0) -> None:
    """Two paho clients with one device id: the first is replaced (409002); then the second
    disconnects cleanly."""
    first = PahoDevice.from_connection_string(hub, cs)
    second = PahoDevice.from_connection_string(hub, cs)
    try:
        assert first.connect() == 0
        time.sleep(hold)
        assert second.connect() == 0
        assert first.disconnected.wait(10), "the hub did not close the older connection"
    finally:
        first.close()
        second.close()


def keepalive_expiry(hub: Hub, cs: str, keepalive: int = 1) -> None:
    """A paho client with a short keep-alive that stops its network loop (no PINGREQ): returns
    once the hub has cut it."""
    from outpost import read_until_closed

    p = PahoDevice.from_connection_string(hub, cs, keepalive=keepalive)
    try:
        assert p.connect() == 0
        silence_paho(p)
        closed, _ = read_until_closed(p.client.socket(), 1.5 * keepalive + 5)
        assert closed, f"the hub did not cut a client silent for 1.5 × {keepalive} s"
    finally:
        drop_paho(p)
        p.close()


def tcp_silent(hub: Hub, timeout: float = 15.0) -> float:
    """A TCP connection to the MQTT port that sends nothing; returns how long until the hub
    closed it."""
    from outpost import read_until_closed

    started = time.monotonic()
    with socket.create_connection((hub.host, MQTT_PORT), timeout=5) as s:
        closed, _ = read_until_closed(s, timeout)
    assert closed, f"the hub kept a silent TCP connection open for {timeout} s"
    return time.monotonic() - started

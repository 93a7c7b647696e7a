"""Helpers for the twin, direct-method, cloud-to-device and query tests (issue 4).

- `TwinPaho`: a PahoDevice that records every PUBLISH it receives and speaks the twin
  request/response topics the way azure-iot-device does (`$iothub/twin/...?$rid=N`).
- `RawMqtt`: a hand-rolled MQTT 3.1.1 client over TLS that never acknowledges anything by itself,
  for "the device got the message but never sent PUBACK" (paho 1.6.1 always PUBACKs QoS 1).
- `hub_error`, `assert_hub_error`: the status, error code and text of an HttpOperationError.
- `create_devices`: many SAS devices through the REST API, faster than one CLI call each.
"""

from __future__ import annotations

import json
import socket
import ssl
import struct
import threading
import time
import urllib.parse
from typing import Any, Callable

import sas
from outpost import MQTT_PORT, Hub, PahoDevice, client_ssl_context, random_key


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

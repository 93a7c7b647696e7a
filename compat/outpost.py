"""Harness for the Outpost compatibility suite: start/stop `iothub serve`, run the CLI, read
`monitor-events`, and drive raw MQTT with paho-mqtt 1.6.1.

Every hub gets its own loopback address (the Azure SDKs hard-code ports 8883 and 443), its own
data directory, and a log file `hub.log` in that directory. Fixtures live in conftest.py.
"""

from __future__ import annotations

import atexit
import errno
import itertools
import json
import os
import signal
import socket
import ssl
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable

import sas

REPO = Path(__file__).resolve().parent.parent
BIN_DIR = Path(os.environ.get("OUTPOST_BIN_DIR", str(REPO / ".build" / "debug")))
IOTHUB = BIN_DIR / "iothub"

MQTT_PORT = 8883
HTTPS_PORT = 443
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
CLI_TIMEOUT = 60.0

# Every Hub ever created in this pytest process (for failure reports and the atexit sweep).
ALL_HUBS: list["Hub"] = []


class HubError(Exception):
    pass


# --------------------------------------------------------------------------------------------
# Bounded calls: the device SDK has no timeout on connect (60 s watchdog) or on send_message
# (paho retries a publish forever), so every SDK call in the suite goes through `bounded`.


def bounded(fn: Callable[..., Any], *args: Any, timeout: float = 20.0, what: str | None = None,
            **kwargs: Any) -> Any:
    """Run fn(*args, **kwargs) in a daemon thread; raise TimeoutError if it takes too long."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn(*args, **kwargs)
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = e

    t = threading.Thread(target=run, daemon=True, name=f"bounded:{what or fn}")
    t.start()
    t.join(timeout)
    if t.is_alive():
        raise TimeoutError(f"{what or getattr(fn, '__qualname__', fn)} did not finish in {timeout} s")
    if "error" in box:
        raise box["error"]
    return box.get("value")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# --------------------------------------------------------------------------------------------
# Loopback addresses. 127.B.C.D with B derived from the pid (and the xdist worker in C), so that
# two concurrent runs of the suite, or the Swift tests on 127.0.0.x, do not collide. An address
# is only used if nothing answers on 8883 or 443 there.


def _worker_number() -> int:
    w = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    digits = "".join(ch for ch in w if ch.isdigit())
    return int(digits or 0)


_B = 20 + (os.getpid() % 200)
_C = _worker_number() % 256
_counter = itertools.count(10)
_alloc_lock = threading.Lock()


def _port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def allocate_host() -> str:
    with _alloc_lock:
        for _ in range(2000):
            n = next(_counter)
            c = (_C + n // 240) % 256
            d = 10 + n % 240
            host = f"127.{_B}.{c}.{d}"
            if not _port_open(host, MQTT_PORT, 0.2) and not _port_open(host, HTTPS_PORT, 0.2):
                return host
    raise HubError("no free loopback address found")


# --------------------------------------------------------------------------------------------


class Hub:
    """One `iothub serve` process on one loopback address and data directory."""

    def __init__(self, data_dir: Path, host: str, extra_args: tuple[str, ...] = ()):
        self.data_dir = Path(data_dir)
        self.host = host
        self.extra_args = tuple(extra_args)
        self.log_path = self.data_dir / "hub.log"
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self.last_exit_code: int | None = None
        self.stop_timed_out = False
        self.last_activity = 0.0
        self._expected_exit = True  # no process yet
        self._service_cs: str | None = None
        ALL_HUBS.append(self)

    def __repr__(self) -> str:
        return f"<Hub {self.host} {self.data_dir}>"

    # ---- process control -----------------------------------------------------------------

    @property
    def serve_command(self) -> list[str]:
        return [str(IOTHUB), "serve", "--data-dir", str(self.data_dir), "--host", self.host,
                *self.extra_args]

    def start(self, timeout: float = READY_TIMEOUT) -> "Hub":
        if self.running:
            raise HubError(f"{self} is already running")
        if not IOTHUB.exists():
            raise HubError(
                f"{IOTHUB} does not exist: build the hub (swift build) or set OUTPOST_BIN_DIR")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        self.last_activity = time.time()
        with open(self.log_path, "ab") as log:
            log.write(
                f"\n===== compat: start #{self.starts} at {time.strftime('%H:%M:%S')}: "
                f"{' '.join(self.serve_command)} =====\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                self.serve_command, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        self._expected_exit = False
        self.stop_timed_out = False
        self.last_exit_code = None
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while True:
            rc = self.proc.poll()
            if rc is not None:
                self._expected_exit = True
                self.last_exit_code = rc
                raise HubError(
                    f"iothub serve on {self.host} exited with {rc} before it was ready\n"
                    f"--- {self.log_path} ---\n{self.log_tail()}")
            if _port_open(self.host, MQTT_PORT) and _port_open(self.host, HTTPS_PORT):
                return
            if time.monotonic() > deadline:
                self.kill9()
                raise HubError(
                    f"iothub serve on {self.host} did not accept connections on {MQTT_PORT} "
                    f"and {HTTPS_PORT} within {timeout} s\n--- {self.log_path} ---\n"
                    f"{self.log_tail()}")
            time.sleep(0.1)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def signal_and_wait(self, sig: int, timeout: float = STOP_TIMEOUT) -> int | None:
        """Send `sig` to the hub (by pid) and wait; on timeout SIGKILL it and return None."""
        if self.proc is None:
            return self.last_exit_code
        self.last_activity = time.time()
        self._expected_exit = True
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.stop_timed_out = True
                self.proc.kill()
                self.proc.wait()
                self.last_exit_code = None
                return None
        self.last_exit_code = self.proc.returncode
        return self.last_exit_code

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """Graceful stop: SIGTERM, then SIGKILL after `timeout`. Returns the exit code, or
        None if it had to be killed."""
        return self.signal_and_wait(signal.SIGTERM, timeout)

    def kill9(self) -> None:
        if self.proc is None:
            return
        self.last_activity = time.time()
        self._expected_exit = True
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.last_exit_code = self.proc.returncode

    def restart(self, timeout: float = READY_TIMEOUT) -> "Hub":
        self.stop()
        return self.start(timeout)

    def teardown(self) -> str | None:
        """Always stop the process. Returns an error text if the hub had died on its own."""
        if self.proc is None:
            return None
        crashed = None
        if self.proc.poll() is not None and not self._expected_exit:
            crashed = (f"iothub serve on {self.host} exited by itself with code "
                       f"{self.proc.returncode} during the test\n--- {self.log_path} ---\n"
                       f"{self.log_tail()}")
        self.stop()
        return crashed

    # ---- files -----------------------------------------------------------------------------

    @property
    def ca_path(self) -> Path:
        return self.data_dir / "ca.pem"

    @property
    def ca_pem(self) -> str:
        return self.ca_path.read_text()

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log file)"

    def log_tail(self, lines: int = 200) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    # ---- CLI -------------------------------------------------------------------------------

    def cli(self, *args: str, check: bool = False, login: str | None = None,
            timeout: float = CLI_TIMEOUT, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess:
        """Run `iothub ARGS --data-dir DIR` (or `--login CS` when login is given)."""
        target = ["--login", login] if login else ["--data-dir", str(self.data_dir)]
        cmd = [str(IOTHUB), *args, *target]
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        cp = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=full_env,
                            stdin=subprocess.DEVNULL)
        if check and cp.returncode != 0:
            raise HubError(f"{' '.join(cmd)} exited {cp.returncode}\nstdout: {cp.stdout}\n"
                           f"stderr: {cp.stderr}")
        return cp

    @property
    def service_cs(self) -> str:
        if self._service_cs is None:
            out = self.cli("connection-string", check=True).stdout.strip()
            assert out.startswith("HostName="), out
            self._service_cs = out.splitlines()[-1].strip()
        return self._service_cs

    def create_device(self, device_id: str, status: str | None = None) -> str:
        """Create a device with the CLI and return its connection string."""
        args = ["device", "create", device_id]
        if status:
            args += ["--status", status]
        self.cli(*args, check=True)
        return self.device_cs(device_id)

    def device_cs(self, device_id: str) -> str:
        out = self.cli("device", "connection-string", device_id, check=True).stdout.strip()
        return out.splitlines()[-1].strip()

    def create_module(self, device_id: str, module_id: str) -> str:
        self.cli("module", "create", device_id, module_id, check=True)
        return self.module_cs(device_id, module_id)

    def module_cs(self, device_id: str, module_id: str) -> str:
        out = self.cli("module", "connection-string", device_id, module_id,
                       check=True).stdout.strip()
        return out.splitlines()[-1].strip()

    def monitor(self, device: str | None = None, group: str | None = None,
                from_sequence: int | None = None, count: int | None = None,
                timeout: float = 5.0) -> list[dict]:
        """`monitor-events --output json`; returns the parsed events in output order."""
        args = ["monitor-events", "--output", "json", "--timeout", str(int(timeout))]
        if device:
            args += ["--device", device]
        if group:
            args += ["--consumer-group", group]
        if from_sequence is not None:
            args += ["--from-sequence", str(from_sequence)]
        if count is not None:
            args += ["--count", str(count)]
        cp = self.cli(*args, timeout=timeout + CLI_TIMEOUT)
        if cp.returncode != 0:
            raise HubError(f"monitor-events exited {cp.returncode}\nstderr: {cp.stderr}")
        events = []
        for line in cp.stdout.splitlines():
            if not line.strip():
                continue
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise HubError(f"monitor-events printed a line that is not JSON: {line!r}") from e
        return events

    # ---- service SDK -----------------------------------------------------------------------

    def ssl_context(self) -> ssl.SSLContext:
        """A client context like azure-iot-device's: TLS 1.2 only, CA = the hub's ca.pem,
        certificate and host name checked."""
        return client_ssl_context(self.ca_pem)


def _sweep() -> None:
    for h in ALL_HUBS:
        if h.proc is not None and h.proc.poll() is None:
            try:
                h.proc.kill()
                h.proc.wait(5)
            except Exception:  # noqa: BLE001
                pass


atexit.register(_sweep)


# --------------------------------------------------------------------------------------------
# Raw MQTT with paho-mqtt 1.6.1


def client_ssl_context(ca_pem: str) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_verify_locations(cadata=ca_pem)
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.check_hostname = True
    return ctx


class PahoDevice:
    """A paho-mqtt 1.6.1 client set up the way azure-iot-device sets one up (MQTT 3.1.1,
    clean_session=False, TLS 1.2, SAS password), with its callbacks recorded."""

    def __init__(self, hub: Hub, *, device_id: str, password: str,
                 module_id: str | None = None, username: str | None = None,
                 client_id: str | None = None, keepalive: int = 60):
        import paho.mqtt.client as mqtt

        self.mqtt = mqtt
        self.hub = hub
        self.device_id = device_id
        self.module_id = module_id
        self.client = mqtt.Client(
            client_id=client_id or sas.mqtt_client_id(device_id, module_id),
            clean_session=False, protocol=mqtt.MQTTv311)
        self.client.tls_set_context(hub.ssl_context())
        self.client.username_pw_set(
            username or sas.mqtt_username(hub.host, device_id, module_id), password)
        # paho's loop thread reconnects by itself after a drop; push that far away so a test
        # sees exactly one connection.
        self.client.reconnect_delay_set(3600, 3600)
        self.keepalive = keepalive

        self.lock = threading.Lock()
        self.connack_rc: int | None = None
        self.connack = threading.Event()
        self.disconnected = threading.Event()
        self.disconnect_rc: int | None = None
        self.acked_mids: list[int] = []
        self.suback: dict[int, tuple] = {}
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish
        self.client.on_subscribe = self._on_subscribe
        self._loop = False

    @classmethod
    def from_connection_string(cls, hub: Hub, cs: str, *, expiry: int | None = None,
                               **kw: Any) -> "PahoDevice":
        p = sas.parse_connection_string(cs)
        token = sas.device_token_from_connection_string(cs, expiry=expiry)
        return cls(hub, device_id=p["DeviceId"], module_id=p.get("ModuleId"), password=token,
                   **kw)

    def _on_connect(self, client, userdata, flags, rc):
        self.connack_rc = rc
        self.connack.set()

    def _on_disconnect(self, client, userdata, rc):
        self.disconnect_rc = rc
        self.disconnected.set()
        self.connack.set()

    def _on_publish(self, client, userdata, mid):
        with self.lock:
            self.acked_mids.append(mid)

    def _on_subscribe(self, client, userdata, mid, granted_qos):
        with self.lock:
            self.suback[mid] = tuple(granted_qos)

    def connect(self, timeout: float = 10.0) -> int | None:
        """Connect and wait for the CONNACK. Returns its return code, or None if the server
        closed the connection without one."""
        self.client.connect(self.hub.host, MQTT_PORT, keepalive=self.keepalive)
        self.client.loop_start()
        self._loop = True
        if not self.connack.wait(timeout):
            raise TimeoutError(f"no CONNACK from {self.hub.host} within {timeout} s")
        return self.connack_rc

    def publish(self, topic: str, payload: bytes | str, qos: int = 1):
        return self.client.publish(topic, payload, qos=qos)

    def acked(self) -> list[int]:
        with self.lock:
            return list(self.acked_mids)

    def close(self) -> None:
        try:
            self.client.disconnect()
        except Exception:  # noqa: BLE001
            pass
        if self._loop:
            self.client.loop_stop()
            self._loop = False


# --------------------------------------------------------------------------------------------
# Device SDK helpers


def sdk_device_client(hub: Hub, cs: str, *, websockets: bool = False, module: bool = False,
                      **kw: Any):
    from azure.iot.device import IoTHubDeviceClient, IoTHubModuleClient

    cls = IoTHubModuleClient if module else IoTHubDeviceClient
    return cls.create_from_connection_string(
        cs, server_verification_cert=hub.ca_pem, websockets=websockets, **kw)


def shutdown_quietly(client: Any, timeout: float = 15.0) -> None:
    """client.shutdown(), bounded; used in `finally` blocks."""
    if client is None:
        return
    try:
        bounded(client.shutdown, timeout=timeout, what="client.shutdown")
    except Exception:  # noqa: BLE001
        pass


def wait_for(predicate: Callable[[], Any], timeout: float, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v:
            return v
        if time.monotonic() > deadline:
            return v
        time.sleep(interval)


def random_key() -> str:
    import base64
    return base64.b64encode(os.urandom(32)).decode()


def read_until_closed(sock: socket.socket, timeout: float) -> tuple[bool, bytes]:
    """Read until the peer closes. Returns (closed, bytes received)."""
    deadline = time.monotonic() + timeout
    data = b""
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            chunk = sock.recv(4096)
        except socket.timeout:
            continue
        except ssl.SSLZeroReturnError:
            return True, data
        except (ConnectionResetError, BrokenPipeError, ssl.SSLEOFError):
            return True, data
        except ssl.SSLError:
            return True, data
        except OSError as e:
            if e.errno in (errno.ECONNRESET, errno.EPIPE, errno.ENOTCONN):
                return True, data
            raise
        if not chunk:
            return True, data
        data += chunk
    return False, data

"""Process lifecycle of `iothub serve`: graceful signals, and state kept across restarts."""

from __future__ import annotations

import signal

from azure.iot.device import Message

import outpost
import sas
from outpost import bounded, sdk_device_client, shutdown_quietly, unique


def test_sigterm_exits_0(hub):
    assert hub.stop() == 0, "SIGTERM must end iothub serve with exit code 0 within 10 s"
    assert not hub.stop_timed_out


def test_sigint_exits_0(hub):
    assert hub.signal_and_wait(signal.SIGINT) == 0


def test_sigterm_with_connected_device_exits_0(hub):
    cs = hub.create_device(unique("conn"))
    client = sdk_device_client(hub, cs, connection_retry=False)
    try:
        bounded(client.connect, timeout=30, what="connect")
        bounded(client.send_message, Message("hi"), timeout=15, what="send_message")
        assert hub.stop() == 0
    finally:
        shutdown_quietly(client)


def test_restart_reuses_ca_keys_and_registry(hub, registry_manager):
    ca_before = hub.ca_path.read_bytes()
    assert b"BEGIN CERTIFICATE" in ca_before
    service_cs = hub.service_cs
    did = unique("keep")
    dev_cs = hub.create_device(did)
    mod_cs = hub.create_module(did, "m1")

    assert hub.stop() == 0
    hub.start()

    assert hub.ca_path.read_bytes() == ca_before, "ca.pem must not be regenerated"
    hub._service_cs = None
    assert hub.service_cs == service_cs, "the iothubowner key must be kept"
    assert hub.device_cs(did) == dev_cs
    assert hub.module_cs(did, "m1") == mod_cs

    # The old CA still validates the server certificate, and the old keys still work.
    rm = registry_manager(hub, service_cs)
    assert rm.get_device(did).device_id == did
    client = sdk_device_client(hub, dev_cs, connection_retry=False)
    try:
        bounded(client.connect, timeout=30, what="connect")
        bounded(client.send_message, Message("after restart", message_id="r1"), timeout=15,
                what="send_message")
    finally:
        shutdown_quietly(client)
    [ev] = hub.monitor(device=did, group=unique("cg"), from_sequence=1, count=1, timeout=5)
    assert ev["systemProperties"]["message-id"] == "r1"


def test_restart_after_kill_9_reuses_ca(hub):
    ca_before = hub.ca_path.read_bytes()
    cs = hub.create_device(unique("k9"))
    hub.kill9()
    hub.start()
    assert hub.ca_path.read_bytes() == ca_before
    client = sdk_device_client(hub, cs, connection_retry=False)
    try:
        bounded(client.connect, timeout=30, what="connect")
    finally:
        shutdown_quietly(client)


def test_files_created_on_first_start(hub):
    assert hub.ca_path.is_file()
    p = sas.parse_connection_string(hub.service_cs)
    assert p["HostName"] == hub.host
    assert p["SharedAccessKeyName"] == "iothubowner"
    import base64
    assert len(base64.b64decode(p["SharedAccessKey"])) >= 16


def test_server_certificate_names_the_host(hub):
    """The certificate chains to ca.pem and carries the host (IP SAN) -- checked the way the
    SDK checks it: TLS 1.2, CERT_REQUIRED, check_hostname."""
    import socket

    from outpost import HTTPS_PORT, MQTT_PORT

    for port in (MQTT_PORT, HTTPS_PORT):
        with socket.create_connection((hub.host, port), timeout=10) as raw:
            with hub.ssl_context().wrap_socket(raw, server_hostname=hub.host) as tls:
                assert tls.version() == "TLSv1.2"
                cert = tls.getpeercert()
                sans = [v for k, v in cert.get("subjectAltName", ())]
                assert hub.host in sans



def test_second_hub_on_same_data_dir_is_refused(hub):
    import subprocess
    other = outpost.allocate_host()
    cp = subprocess.run([str(outpost.IOTHUB), "serve", "--data-dir", str(hub.data_dir), "--host", other],
                        capture_output=True, text=True, timeout=30)
    assert cp.returncode != 0
    assert "is using" in cp.stderr and str(hub.data_dir) in cp.stderr
    # The first hub is unharmed.
    assert hub.running
    assert hub.cli("device", "list", "--output", "json", check=True).returncode == 0


def test_unknown_sync_mode_is_refused_with_the_choices(tmp_path):
    import subprocess
    cp = subprocess.run([str(outpost.IOTHUB), "serve", "--data-dir", str(tmp_path / "hub"),
                         "--host", outpost.allocate_host(), "--sync", "sometimes"],
                        capture_output=True, text=True, timeout=30)
    assert cp.returncode != 0
    assert "--sync \"sometimes\"" in cp.stderr and "full" in cp.stderr and "normal" in cp.stderr
    assert not (tmp_path / "hub" / "hub.sqlite").exists(), "nothing is created for a refused start"

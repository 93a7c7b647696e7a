"""Shared Access Signature helpers for the raw-MQTT (paho) tests.

Written from the Azure IoT Hub documentation and the azure-iot-device 2.14.0 sources, not
from Outpost's code, so that the two implementations check each other:

    sr  = url-encode(resource uri)                  e.g. "host%2Fdevices%2Fdev1"
    sig = url-encode(base64(HMAC-SHA256(base64-decode(key), sr + "\n" + se)))
    token = "SharedAccessSignature sr={sr}&sig={sig}&se={se}[&skn={policy}]"

The signed string uses the *encoded* resource uri, exactly as it appears in the token
(azure.iot.device.common.auth.sastoken.RenewableSasToken._build_token does the same).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse

IOTHUB_API_VERSION = "2019-10-01"


def parse_connection_string(cs: str) -> dict[str, str]:
    """`HostName=h;DeviceId=d;SharedAccessKey=k` -> {"HostName": "h", ...}.

    Values may contain "=" (base64 padding), so split each part on the first "=" only.
    """
    out: dict[str, str] = {}
    for part in cs.strip().split(";"):
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"malformed connection string part: {part!r}")
        out[key] = value
    return out


def resource_uri(host: str, device_id: str, module_id: str | None = None) -> str:
    if module_id:
        return f"{host}/devices/{device_id}/modules/{module_id}"
    return f"{host}/devices/{device_id}"


def generate_sas_token(
    uri: str,
    key: str,
    *,
    expiry: int | None = None,
    ttl: int = 3600,
    policy_name: str | None = None,
) -> str:
    """Build a SAS token for `uri` signed with the base64 `key`.

    `expiry` is an absolute unix time; when omitted it is now + `ttl`. Pass an expiry in the
    past to build an expired (but correctly signed) token.
    """
    se = int(time.time() + ttl) if expiry is None else int(expiry)
    sr = urllib.parse.quote(uri, safe="")
    to_sign = f"{sr}\n{se}".encode("utf-8")
    digest = hmac.new(base64.b64decode(key), to_sign, hashlib.sha256).digest()
    sig = urllib.parse.quote(base64.b64encode(digest).decode("ascii"), safe="")
    token = f"SharedAccessSignature sr={sr}&sig={sig}&se={se}"
    if policy_name:
        token += f"&skn={policy_name}"
    return token


def device_token_from_connection_string(
    cs: str, *, expiry: int | None = None, ttl: int = 3600
) -> str:
    p = parse_connection_string(cs)
    uri = resource_uri(p["HostName"], p["DeviceId"], p.get("ModuleId"))
    return generate_sas_token(uri, p["SharedAccessKey"], expiry=expiry, ttl=ttl)


def mqtt_client_id(device_id: str, module_id: str | None = None) -> str:
    return f"{device_id}/{module_id}" if module_id else device_id


def mqtt_username(host: str, device_id: str, module_id: str | None = None,
                  client_type: str = "outpost-compat/1.0") -> str:
    """Username in the SDK's shape: `{host}/{clientId}/?api-version=...&DeviceClientType=...`.

    The host and client id are not encoded; the query parameters are (urllib quote, safe="").
    """
    query = urllib.parse.urlencode(
        [("api-version", IOTHUB_API_VERSION), ("DeviceClientType", client_type)],
        quote_via=urllib.parse.quote,
    )
    return f"{host}/{mqtt_client_id(device_id, module_id)}/?{query}"


def telemetry_topic(device_id: str, module_id: str | None = None,
                    system: list[tuple[str, str]] | None = None,
                    props: dict[str, str] | None = None) -> str:
    """Telemetry topic with a property bag, encoded the way azure-iot-device does it
    (`$` becomes `%24`, values are quoted with safe="")."""
    base = f"devices/{device_id}/modules/{module_id}" if module_id else f"devices/{device_id}"
    topic = base + "/messages/events/"
    pairs: list[tuple[str, str]] = list(system or [])
    pairs += sorted((str(k), str(v)) for k, v in (props or {}).items())
    return topic + urllib.parse.urlencode(pairs, quote_via=urllib.parse.quote)


def _self_check() -> None:
    # Cross-check against the SDK's own token builder when it is installed.
    try:
        from azure.iot.device.common.auth import sastoken as st
        from azure.iot.device.common.auth.signing_mechanism import SymmetricKeySigningMechanism
    except ImportError:  # pragma: no cover
        return
    key = base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
    uri = resource_uri("127.0.0.9", "dev 1", "mod/1")
    sdk = st.RenewableSasToken(uri, SymmetricKeySigningMechanism(key), ttl=100)
    ours = generate_sas_token(uri, key, expiry=sdk.expiry_time)
    assert str(sdk) == ours, (str(sdk), ours)


if __name__ == "__main__":
    _self_check()
    print("sas.py agrees with azure-iot-device")

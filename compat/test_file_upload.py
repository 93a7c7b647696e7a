"""File upload and the hub's blob storage (issue 7): a device asks for an upload URL with
azure-iot-device 2.14.0's `get_storage_info_for_blob`, uploads with azure-storage-blob's
`BlobClient.from_blob_url`, notifies with `notify_blob_upload_status`; the operator lists and
fetches the blob with `iothub files`. A container SAS URL from `iothub files sas` takes a PUT of
`<container-url>/<blob>?<sas>`, the way edgeAgent uploads a support bundle. Every refusal
(expired or forged SAS, bad container name, path traversal, missing permission) answers with
Azure Storage's status and error code, says what was wrong, and writes nothing."""

from __future__ import annotations

import datetime
import gc
import json
import os
import stat

import pytest
import requests
from azure.core.exceptions import HttpResponseError, ResourceExistsError
from azure.storage.blob import BlobClient, ContainerClient, generate_blob_sas, generate_container_sas

from outpost import bounded, random_key, sdk_device_client, shutdown_quietly, unique

ACCOUNT = "blobs"


@pytest.fixture(scope="module", autouse=True)
def _release_http_connections(module_hub):
    """Collect garbage before the module's hub stops, so no keep-alive socket holds it open."""
    yield
    gc.collect()


@pytest.fixture
def device(module_hub):
    """(device id, IoTHubDeviceClient) of a new device; shut down afterwards."""
    did = unique("fu")
    client = sdk_device_client(module_hub, module_hub.create_device(did))
    yield did, client
    shutdown_quietly(client)


def storage_key(hub) -> str:
    return (hub.data_dir / "storage.key").read_text().strip()


def stored(hub) -> dict[str, bytes]:
    """Every file under blobs/ (including unfinished uploads), path -> bytes."""
    root = hub.data_dir / "blobs"
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def blob_url(info: dict) -> str:
    """The URL Azure's file upload sample builds from the storage info."""
    return f"https://{info['hostName']}/{info['containerName']}/{info['blobName']}{info['sasToken']}"


def put(hub, path_and_query: str, data: bytes = b"payload") -> requests.Response:
    return requests.put(f"https://{hub.host}/{path_and_query}", data=data, timeout=10,
                        headers={"x-ms-blob-type": "BlockBlob"}, verify=str(hub.ca_path))


def azure_error(r: requests.Response) -> tuple[int, str, str]:
    return r.status_code, r.headers.get("x-ms-error-code", ""), r.text


def test_device_upload_with_the_real_sdks(module_hub, device, tmp_path):
    hub = module_hub
    did, client = device
    info = bounded(client.get_storage_info_for_blob, "reports/today.bin", timeout=20,
                   what="get_storage_info_for_blob")
    assert info["hostName"] == f"{hub.host}/{ACCOUNT}"
    assert info["containerName"] == "fileupload"
    assert info["blobName"] == f"{did}/reports/today.bin"
    assert info["sasToken"].startswith("?") and "sig=" in info["sasToken"]

    data = os.urandom(300_000)
    with BlobClient.from_blob_url(blob_url(info), connection_verify=str(hub.ca_path)) as bc:
        result = bc.upload_blob(data)  # one Put Blob, If-None-Match: * (overwrite=False)
        assert result["etag"] and result["last_modified"]
        assert bc.download_blob().readall() == data, "the same SAS (sp=rw) reads the blob back"
        with pytest.raises(ResourceExistsError) as e:
            bc.upload_blob(b"again")
        assert e.value.error_code == "BlobAlreadyExists"
    bounded(client.notify_blob_upload_status, info["correlationId"], True, 201, "uploaded", timeout=20,
            what="notify_blob_upload_status")

    path = hub.data_dir / "blobs" / "fileupload" / did / "reports" / "today.bin"
    assert path.read_bytes() == data
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not any((hub.data_dir / "blobs" / ".incoming").iterdir()), "no upload is left half-way"

    listed = json.loads(hub.cli("files", "list", "--container", "fileupload", "--json", check=True).stdout)
    [item] = [b for b in listed if b["name"] == f"{did}/reports/today.bin"]
    assert item["container"] == "fileupload" and item["size"] == len(data)
    table = hub.cli("files", "list", check=True).stdout.splitlines()
    assert table[0].split() == ["CONTAINER", "NAME", "SIZE", "LAST", "MODIFIED"]
    row = next(line for line in table if f"{did}/reports/today.bin" in line)
    assert table[0].index("NAME") == row.index(did), "columns are aligned"

    out = tmp_path / "today.bin"
    cp = hub.cli("files", "get", f"fileupload/{did}/reports/today.bin", "-o", str(out), check=True)
    assert out.read_bytes() == data and str(len(data)) in cp.stdout

    notes = json.loads(hub.cli("files", "notifications", "--json", check=True).stdout)
    [note] = [n for n in notes if n["deviceId"] == did]
    assert note["blobName"] == f"{did}/reports/today.bin" and note["isSuccess"] is True
    assert note["statusCode"] == 201 and note["statusDescription"] == "uploaded"
    assert note["blobSizeInBytes"] == len(data)
    assert did in hub.cli("files", "notifications", check=True).stdout


def test_container_sas_takes_a_put_as_edge_agent_makes_it(module_hub, tmp_path):
    hub = module_hub
    container = unique("bundles")
    url = hub.cli("files", "sas", "--container", container, "--permissions", "rwl", "--expiry", "10m",
                  check=True).stdout.strip()
    assert url.startswith(f"https://{hub.host}/{ACCOUNT}/{container}?"), url
    base, query = url.split("?", 1)
    bundle = os.urandom(50_000)
    # edgeAgent puts the blob's name after the container in the URL's path, keeping the query.
    r = requests.put(f"{base}/gw1/support_bundle.zip?{query}", data=bundle, timeout=10,
                     headers={"x-ms-blob-type": "BlockBlob"}, verify=str(hub.ca_path))
    assert r.status_code == 201, r.text
    for h in ("ETag", "Last-Modified", "x-ms-request-id"):
        assert r.headers.get(h), f"Put Blob answers with {h}"

    with ContainerClient.from_container_url(url, connection_verify=str(hub.ca_path)) as cc:
        cc.upload_blob("module-logs.json", b'[{"id":"m"}]')
        assert sorted(b.name for b in cc.list_blobs()) == ["gw1/support_bundle.zip", "module-logs.json"]

    cp = hub.cli("files", "get", f"{container}/gw1/support_bundle.zip", "-o", str(tmp_path / "b.zip"), check=True)
    assert (tmp_path / "b.zip").read_bytes() == bundle, cp.stdout


def test_refusals_name_the_problem_and_write_nothing(module_hub):
    hub = module_hub
    key = storage_key(hub)
    now = datetime.datetime.now(datetime.timezone.utc)
    hour = datetime.timedelta(hours=1)
    before = stored(hub)

    expired = generate_blob_sas(ACCOUNT, "fileupload", "late.txt", account_key=key, permission="rw",
                                expiry=now - hour, start=now - 2 * hour)
    status, code, text = azure_error(put(hub, f"{ACCOUNT}/fileupload/late.txt?{expired}"))
    assert (status, code) == (403, "AuthenticationFailed") and "expired" in text, text

    forged = generate_blob_sas(ACCOUNT, "fileupload", "forged.txt", account_key=random_key(), permission="rw",
                               expiry=now + hour)
    status, code, text = azure_error(put(hub, f"{ACCOUNT}/fileupload/forged.txt?{forged}"))
    assert (status, code) == (403, "AuthenticationFailed") and "Signature did not match" in text, text

    other = generate_blob_sas(ACCOUNT, "fileupload", "a.txt", account_key=key, permission="rw", expiry=now + hour)
    status, code, text = azure_error(put(hub, f"{ACCOUNT}/fileupload/b.txt?{other}"))
    assert (status, code) == (403, "AuthenticationFailed"), "a blob SAS reaches only its own blob"

    bad = generate_container_sas(ACCOUNT, "Bad_Name", account_key=key, permission="rw", expiry=now + hour)
    status, code, text = azure_error(put(hub, f"{ACCOUNT}/Bad_Name/x.txt?{bad}"))
    assert (status, code) == (400, "InvalidResourceName") and "Bad_Name" in text and "lowercase" in text, text

    sas = generate_container_sas(ACCOUNT, "fileupload", account_key=key, permission="rw", expiry=now + hour)
    status, code, text = azure_error(put(hub, f"{ACCOUNT}/fileupload/%2E%2E/%2E%2E/escape.txt?{sas}"))
    assert (status, code) == (400, "InvalidResourceName") and "'..'" in text, text

    read_only = generate_container_sas(ACCOUNT, "fileupload", account_key=key, permission="r", expiry=now + hour)
    status, code, text = azure_error(put(hub, f"{ACCOUNT}/fileupload/ro.txt?{read_only}"))
    assert (status, code) == (403, "AuthorizationPermissionMismatch") and "sp=r" in text, text

    status, code, text = azure_error(put(hub, f"{ACCOUNT}/fileupload/nosas.txt"))
    assert (status, code) == (403, "AuthenticationFailed") and "iothub files sas" in text, text

    assert stored(hub) == before, "a refused upload writes nothing"
    assert not list(hub.data_dir.rglob("escape.txt"))

    # The library raises the hub's code and text.
    with BlobClient.from_blob_url(f"https://{hub.host}/{ACCOUNT}/fileupload/late.txt?{expired}",
                                  connection_verify=str(hub.ca_path)) as bc:
        with pytest.raises(HttpResponseError) as e:
            bc.upload_blob(b"late")
    assert e.value.status_code == 403 and e.value.error_code == "AuthenticationFailed"
    assert "expired" in str(e.value)


def test_the_device_api_refuses_bad_names_and_foreign_correlations(module_hub, device):
    hub = module_hub
    did, client = device
    # The SDK raises ClientError("Unexpected failure") from ServiceError("HTTP operation returned: 400 …").
    with pytest.raises(Exception) as e:
        bounded(client.get_storage_info_for_blob, "../../etc/passwd", timeout=20)
    assert "400" in str(e.value.__cause__), repr(e.value.__cause__)
    with pytest.raises(Exception) as e:
        bounded(client.notify_blob_upload_status, "forged.correlation", True, 200, "ok", timeout=20)
    assert "400" in str(e.value.__cause__), repr(e.value.__cause__)
    assert not (hub.data_dir / "blobs" / "fileupload" / "etc").exists()
    assert did not in hub.cli("files", "notifications", check=True).stdout
    # A service token may not ask for device upload URLs.
    r = requests.post(f"https://{hub.host}/devices/{did}/files?api-version=2021-04-12", json={"blobName": "x"},
                      headers={"Authorization": service_token(hub)}, timeout=10, verify=str(hub.ca_path))
    assert r.status_code == 401 and "device's own SAS token" in r.text


def service_token(hub) -> str:
    import sas
    p = sas.parse_connection_string(hub.service_cs)
    return sas.generate_sas_token(p["HostName"], p["SharedAccessKey"], policy_name=p["SharedAccessKeyName"])


def test_cli_help_and_input_errors(module_hub):
    hub = module_hub
    for sub in ([], ["sas"], ["list"], ["get"], ["notifications"]):
        cp = hub.cli("files", *sub, "--help")
        assert cp.returncode == 0 and "USAGE" in cp.stdout.upper(), cp.stderr
    cp = hub.cli("files", "sas", "--container", "NoGood")
    assert cp.returncode != 0 and "container name" in cp.stderr and "lowercase" in cp.stderr
    cp = hub.cli("files", "sas", "--container", "okay", "--permissions", "rwz")
    assert cp.returncode != 0 and "permissions" in cp.stderr
    cp = hub.cli("files", "sas", "--container", "okay", "--expiry", "soon")
    assert cp.returncode != 0 and "--expiry" in cp.stderr
    cp = hub.cli("files", "get", "just-a-name")
    assert cp.returncode != 0 and "CONTAINER/NAME" in cp.stderr
    cp = hub.cli("files", "get", "fileupload/absent.bin", "-o", "-")
    assert cp.returncode != 0 and "absent.bin" in cp.stderr

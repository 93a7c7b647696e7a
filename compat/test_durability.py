"""A QoS 1 PUBACK means the message is stored: nothing acknowledged is lost to `kill -9`."""

from __future__ import annotations

import json

import pytest

import sas
from outpost import PahoDevice, unique, wait_for

KILL_AFTER_ACKS = 150
TOTAL = 5000
INFLIGHT = 20


# `--sync normal` leaves the fsync to checkpoints: a killed hub still loses nothing it
# acknowledged, because the OS holds what was written (only a power loss could).
@pytest.mark.parametrize("sync", ["full", "normal"])
def test_acknowledged_messages_survive_kill_9(hub_factory, sync):
    hub = hub_factory(extra_args=("--sync", sync))
    did = unique("dur")
    cs = hub.create_device(did)
    p = PahoDevice.from_connection_string(hub, cs)
    p.client.max_inflight_messages_set(INFLIGHT)
    p.client.max_queued_messages_set(0)  # unbounded queue behind the in-flight window

    mid_to_id: dict[int, str] = {}
    try:
        assert p.connect() == 0
        # Queue the whole stream; paho keeps INFLIGHT unacknowledged on the wire.
        for i in range(TOTAL):
            msg_id = f"dur-{i}"
            info = p.publish(
                sas.telemetry_topic(did, system=[("$.mid", msg_id)], props={"i": str(i)}),
                json.dumps({"i": i}), qos=1)
            assert info.rc == 0, info.rc
            mid_to_id[info.mid] = msg_id
        reached = wait_for(lambda: len(p.acked()) >= KILL_AFTER_ACKS, timeout=60, interval=0.002)
        assert reached, f"only {len(p.acked())} PUBACKs in 60 s"
        hub.kill9()  # mid-stream: more messages are in flight at this moment
        p.disconnected.wait(10)  # paho notices the dead socket
    finally:
        p.close()

    acked_ids = [mid_to_id[m] for m in p.acked()]
    assert len(acked_ids) >= KILL_AFTER_ACKS
    assert len(acked_ids) < TOTAL, "the hub was killed before the stream ended"

    hub.start()
    events = hub.monitor(device=did, group=unique("cg"), from_sequence=1, timeout=5)
    stored = [e["systemProperties"]["message-id"] for e in events]

    missing = sorted(set(acked_ids) - set(stored), key=lambda s: int(s.split("-")[1]))
    assert not missing, f"{len(missing)} acknowledged messages lost, e.g. {missing[:10]}"
    assert len(stored) >= len(acked_ids)
    assert set(stored) <= set(mid_to_id.values()), "nothing invented"
    assert len(stored) == len(set(stored)), "no message stored twice"
    # Stored in the order they were sent (one connection, QoS 1, in-order PUBACKs).
    order = [int(s.split("-")[1]) for s in stored]
    assert order == sorted(order)
    seqs = [e["sequenceNumber"] for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)

    # After the restart, new messages continue the sequence instead of reusing numbers.
    p2 = PahoDevice.from_connection_string(hub, cs)
    try:
        assert p2.connect() == 0
        info = p2.publish(sas.telemetry_topic(did, system=[("$.mid", "after-restart")]),
                          b"{}", qos=1)
        assert wait_for(lambda: info.mid in p2.acked(), timeout=10)
    finally:
        p2.close()
    after = [e for e in hub.monitor(device=did, group=unique("cg"), from_sequence=1, timeout=3)
             if e["systemProperties"]["message-id"] == "after-restart"]
    assert len(after) == 1, "the message sent after the restart is read back once " \
        "(a reused sequence number can hide it from a reader)"
    assert after[0]["sequenceNumber"] > max(seqs), "sequence numbers are not reused"


def test_graceful_restart_keeps_everything(hub):
    did = unique("grace")
    cs = hub.create_device(did)
    p = PahoDevice.from_connection_string(hub, cs)
    try:
        assert p.connect() == 0
        infos = [p.publish(sas.telemetry_topic(did, system=[("$.mid", f"g-{i}")]), b"x", qos=1)
                 for i in range(300)]
        assert wait_for(lambda: len(p.acked()) == 300, timeout=60), len(p.acked())
    finally:
        p.close()
    assert {i.mid for i in infos} == set(p.acked())
    assert hub.stop() == 0
    hub.start()
    stored = [e["systemProperties"]["message-id"]
              for e in hub.monitor(device=did, group=unique("cg"), from_sequence=1, count=300,
                                   timeout=5)]
    assert stored == [f"g-{i}" for i in range(300)]

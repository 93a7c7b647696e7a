#!/usr/bin/env python3
"""Writes the seed inputs of Fuzz/corpus/mqtt: small MQTT 3.1.1 byte streams, valid and invalid.

Run once from the repository root (python3 Fuzz/make_seeds.py); the files it writes are
committed. Inputs that libFuzzer finds to crash are added to the same directory by hand, under
their crash-* names, and are not touched by this script.
"""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "mqtt")


def remaining_length(n):
    out = bytearray()
    while True:
        byte = n % 128
        n //= 128
        if n:
            byte |= 0x80
        out.append(byte)
        if not n:
            return bytes(out)


def packet(header, body=b""):
    return bytes([header]) + remaining_length(len(body)) + body


def s(text):
    data = text.encode() if isinstance(text, str) else text
    return struct.pack(">H", len(data)) + data


def connect(client_id, username=None, password=None, will=None, clean=True, keep_alive=60):
    flags = 0x02 if clean else 0
    payload = s(client_id)
    if will:
        topic, message, qos, retain = will
        flags |= 0x04 | (qos << 3) | (0x20 if retain else 0)
        payload += s(topic) + s(message)
    if username is not None:
        flags |= 0x80
        payload += s(username)
    if password is not None:
        flags |= 0x40
        payload += s(password)
    return packet(0x10, s("MQTT") + bytes([4, flags]) + struct.pack(">H", keep_alive) + payload)


def publish(topic, payload, qos=0, packet_id=None, dup=False, retain=False):
    header = 0x30 | (0x08 if dup else 0) | (qos << 1) | (0x01 if retain else 0)
    body = s(topic) + (struct.pack(">H", packet_id) if qos else b"") + payload
    return packet(header, body)


def subscribe(packet_id, *filters):
    return packet(0x82, struct.pack(">H", packet_id) + b"".join(s(f) + bytes([q]) for f, q in filters))


SDK_USER = ("myhub.azure-devices.net/dev1/?api-version=2019-10-01&DeviceClientType="
            "azure-iot-device-iothub-py%2F2.14.0%283.11.7%3BLinux%3Bx86_64%29")
SAS = ("SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdev1"
       "&sig=wosmA3uJK9T0mdB5CIYn%2BsAVA2ODflnucuvNO5S6mbM%3D&se=1700000000")
TELEMETRY = "devices/dev1/messages/events/%24.ct=application%2Fjson&%24.ce=utf-8&temp=high"

SEEDS = {
    # valid packets
    "valid-connect-sdk": connect("dev1", SDK_USER, SAS, clean=False),
    "valid-connect-will": connect("dev1/mod1", "hub/dev1/mod1/?api-version=2019-10-01", b"\x00\xffpw",
                                  will=("devices/dev1/messages/events/", b"gone", 1, True)),
    "valid-connect-minimal": connect(""),
    "valid-connack": packet(0x20, b"\x01\x00"),
    "valid-publish-qos0-telemetry": publish(TELEMETRY, b'{"temperature": 21.5}'),
    "valid-publish-qos1-dup-retain": publish("devices/dev1/messages/events/", b"\x00\x01\x02", qos=1,
                                             packet_id=0xBEEF, dup=True, retain=True),
    "valid-publish-two-byte-length": publish("t", bytes(range(256)) * 2),
    "valid-puback": packet(0x40, b"\x00\x01"),
    "valid-subscribe": subscribe(2, ("devices/dev1/messages/devicebound/#", 1), ("$iothub/methods/POST/#", 0)),
    "valid-suback-with-failure": packet(0x90, b"\x00\x02\x01\x00\x80"),
    "valid-unsubscribe-unsuback": packet(0xA2, b"\x00\x03" + s("$iothub/twin/res/#")) + packet(0xB0, b"\x00\x03"),
    "valid-qos2-flow": packet(0x50, b"\x00\x07") + packet(0x62, b"\x00\x07") + packet(0x70, b"\x00\x07"),
    "valid-ping-disconnect": packet(0xC0) + packet(0xD0) + packet(0xE0),
    "valid-session": (connect("dev1", SDK_USER, SAS) + subscribe(1, ("$iothub/twin/res/#", 0))
                      + publish("$iothub/twin/GET/?$rid=1", b"", qos=1, packet_id=5) + packet(0xC0) + packet(0xE0)),
    # invalid: each is rejected by a different rule
    "invalid-reserved-type-0": packet(0x00),
    "invalid-reserved-type-15": packet(0xF0),
    "invalid-five-byte-length": b"\x30\x80\x80\x80\x80\x01",
    "invalid-too-large": b"\x30\xff\xff\x7f",
    "invalid-pingreq-flags": b"\xc1\x00",
    "invalid-publish-qos3": b"\x36" + remaining_length(5) + s("a/b") + b"",
    "invalid-publish-wildcard": publish("devices/+/messages/events/", b"x"),
    "invalid-utf8-topic": publish(b"\xc0\x80", b""),
    "invalid-packet-id-0": publish("a", b"x", qos=1, packet_id=0),
    "invalid-empty-subscribe": packet(0x82, b"\x00\x01"),
    "invalid-connect-flags": packet(0x10, s("MQTT") + bytes([4, 0x40]) + b"\x00\x3c" + s("dev1") + s("pw")),
    "invalid-trailing-bytes": packet(0x40, b"\x00\x01\x00"),
    "truncated-connect": connect("dev1", SDK_USER, SAS)[:40],
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    print(f"{len(SEEDS)} seeds written to {OUT}")


if __name__ == "__main__":
    main()

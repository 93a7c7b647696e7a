"""A simulated temperature sensor, after IoT Edge's SimulatedTemperatureSensor sample: it sends
machine and ambient temperature readings as telemetry with the unmodified azure-iot-device SDK.

    python samples/simulated_temperature_sensor.py CONNECTION_STRING CA_PEM_FILE [COUNT] [INTERVAL]

COUNT 0 sends until interrupted.
"""
import json
import random
import sys
import time
import uuid

from azure.iot.device import IoTHubDeviceClient, IoTHubModuleClient, Message


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    conn_str, ca_file = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    interval = float(sys.argv[4]) if len(sys.argv) > 4 else 1.0
    with open(ca_file) as f:
        ca = f.read()
    client_type = IoTHubModuleClient if ";ModuleId=" in conn_str else IoTHubDeviceClient
    client = client_type.create_from_connection_string(conn_str, server_verification_cert=ca)
    client.connect()
    machine = 21.0
    try:
        sent = 0
        while count == 0 or sent < count:
            machine += random.uniform(-0.5, 1.0)
            reading = {
                "machine": {"temperature": round(machine, 2), "pressure": round(1 + (machine - 21) / 10, 3)},
                "ambient": {"temperature": round(random.uniform(20.5, 21.5), 2), "humidity": random.randint(24, 27)},
                "timeCreated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
            msg = Message(json.dumps(reading), message_id=str(uuid.uuid4()),
                          content_encoding="utf-8", content_type="application/json")
            msg.custom_properties["sensor"] = "simulated"
            client.send_message(msg)
            sent += 1
            print(f"sent {sent}: machine {reading['machine']['temperature']} °C", flush=True)
            time.sleep(interval)
    except KeyboardInterrupt:
        pass
    finally:
        client.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())

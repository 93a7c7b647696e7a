import ArgumentParser

/// The load generator of issue 8: drives Outpost (SAS devices, the events endpoint, methods,
/// twins) and Mosquitto (anonymous) with the same MQTT code, and prints what it measured.
@main
struct OutpostBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outpost-bench",
        abstract: "Load generator for Outpost and other MQTT brokers: throughput, latency, connections, memory.",
        discussion: """
            Examples (bench/run runs them all against Outpost and Mosquitto):
              outpost-bench fan-in --host 127.0.0.20 --port 1883 --label mosquitto --server-pid 1234
              outpost-bench fan-in --host 127.0.0.21 --tls --data-dir /tmp/hub --server-pid 5678
              outpost-bench idle --host 127.0.0.21 --tls --data-dir /tmp/hub --devices 10000
            """,
        subcommands: [FanIn.self, Idle.self, Storm.self, Methods.self, Twins.self])
}

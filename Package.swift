// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Outpost",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "iothub", targets: ["iothub"]),
        .executable(name: "iotedged", targets: ["iotedged"]),
        .executable(name: "iotedge", targets: ["iotedge"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/weichsel/ZIPFoundation.git", from: "0.9.20"),
    ],
    targets: [
        // Pure MQTT 3.1.1 packet model and codec, plus the NIO frame handler.
        .target(name: "MQTT", dependencies: [
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        // Azure IoT conventions: connection strings, SAS tokens, topics, property bags, error codes.
        .target(name: "IoTProtocol", dependencies: [
            "MQTT",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // Twins as documents: JSON values, desired/reported properties with versions and
        // metadata, merge patches and the size and depth limits. Pure, no I/O.
        .target(name: "Twin"),
        // The IoT Hub query language (SELECT … FROM devices WHERE …): parser and evaluator over
        // twin documents. Pure, so it is unit-tested and fuzzed on its own.
        .target(name: "TwinQuery", dependencies: ["Twin"]),
        // Kusto (KQL) over in-memory tables, for `logs query`: parser, evaluator and printer.
        // Pure, so it is unit-tested and fuzzed on its own.
        .target(name: "LogQuery"),
        // edgeHub's route language (FROM … WHERE … INTO …): parser, type checker and evaluator
        // over messages, and route sets with priorities and TTLs. Pure, unit-tested and fuzzed.
        .target(name: "EdgeRoutes"),
        // edgeAgent's logic: the deployment from its twin, the reconcile plan, restart back-off,
        // reported properties. Pure; the edge-agent executable wires it to the daemon and hub.
        .target(name: "EdgeAgent", dependencies: ["Twin"]),
        // Storage protocol and its SQLite implementation.
        .target(name: "HubStore", dependencies: [
            "Twin",
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .target(name: "HubServer", dependencies: [
            "MQTT", "IoTProtocol", "HubStore", "Twin", "TwinQuery", "LogQuery",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOWebSocket", package: "swift-nio"),
            .product(name: "NIOFoundationCompat", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        // A device/module client for Azure IoT over MQTT 3.1.1 (TLS or WebSocket), with reconnect,
        // token renewal and transport fallback; used by edgeAgent and edgeHub's upstream link.
        .target(name: "IoTClient", dependencies: [
            "MQTT", "IoTProtocol", "Twin",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOWebSocket", package: "swift-nio"),
            .product(name: "NIOTLS", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "iothub", dependencies: [
            "HubServer", "HubStore", "IoTProtocol",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // The edge daemon (security manager): config.toml, provisioning, the module runtime (processes),
        // the management and workload APIs on unix sockets, the edge CA.
        .target(name: "EdgeDaemon", dependencies: [
            "IoTProtocol", "Twin", "COutpostLinux",
            .product(name: "TOMLKit", package: "TOMLKit"),
            .product(name: "Yams", package: "Yams"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "ZIPFoundation", package: "ZIPFoundation"),
        ]),
        // iotedged is also edgeAgent and edgeHub (picked by argv[0], see its MultiCall), so the
        // daemon starts them from its own executable and the three share its text pages.
        .executableTarget(name: "iotedged", dependencies: [
            "EdgeDaemon", "EdgeAgentProgram", "EdgeHubProgram", "EdgeModule",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // `iotedge check`'s framework and checks (IoT Edge 1.5's): config, daemon, hub
        // connectivity, certificates, ports and production readiness; a library so it is unit-tested.
        .target(name: "EdgeCheck", dependencies: [
            "EdgeDaemon", "EdgeModule", "Twin",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOTLS", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "X509", package: "swift-certificates"),
        ]),
        // `iotedge`, the device's command line: modules, logs, the daemon, its config, troubleshooting.
        .executableTarget(name: "iotedge", dependencies: [
            "EdgeDaemon", "EdgeModule", "EdgeCheck", "Twin",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        // The preview's `iotedgectl` (seed 002): runs `iotedge legacy …` from beside itself.
        .executableTarget(name: "iotedgectl"),
        // libFuzzer target for the MQTT decoder (built with -sanitize=fuzzer by Fuzz/run); without
        // FUZZING it replays the inputs given as arguments, so the corpus runs as a regression test.
        .target(name: "FuzzReplay", path: "Fuzz/FuzzReplay"),
        .executableTarget(name: "MQTTFuzz", dependencies: [
            "MQTT", "FuzzReplay", .product(name: "NIOCore", package: "swift-nio"),
        ], path: "Fuzz/MQTTFuzz"),
        // The same for the query parser: FUZZING builds a libFuzzer target, otherwise corpus replay.
        .executableTarget(name: "QueryFuzz", dependencies: ["TwinQuery", "Twin", "FuzzReplay"], path: "Fuzz/QueryFuzz"),
        // And for the KQL engine.
        .executableTarget(name: "LogQueryFuzz", dependencies: ["LogQuery", "FuzzReplay"], path: "Fuzz/LogQueryFuzz"),
        // And for edgeHub's routes.
        .executableTarget(name: "RouteFuzz", dependencies: ["EdgeRoutes", "FuzzReplay"], path: "Fuzz/RouteFuzz"),
        .testTarget(name: "MQTTTests", dependencies: ["MQTT"]),
        .testTarget(name: "TwinTests", dependencies: ["Twin"]),
        .testTarget(name: "EdgeAgentTests", dependencies: ["EdgeAgent", "Twin"]),
        .testTarget(name: "EdgeModuleTests", dependencies: ["EdgeModule"]),
        .testTarget(name: "EdgeCheckTests", dependencies: ["EdgeCheck", "EdgeDaemon", "EdgeModule", "Twin"]),
        // epoll and pidfd_open, which the Glibc module does not export (the daemon's ModuleWatcher).
        .target(name: "COutpostLinux"),
        // The system zlib, for gzip-encoded module logs.
        .systemLibrary(name: "COutpostZlib", path: "Sources/COutpostZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // What the system modules share: the daemon's unix-socket APIs (workload, management).
        .target(name: "EdgeModule", dependencies: [
            "Twin", "COutpostZlib",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // edgeHub: the local broker (the hub's code), routes with store-and-forward, upstream links.
        .target(name: "EdgeHub", dependencies: [
            "HubServer", "HubStore", "IoTClient", "IoTProtocol", "EdgeRoutes", "EdgeModule", "Twin",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // edgeHub's program (settings from the environment, logging, exit codes), for the
        // edge-hub executable and iotedged.
        .target(name: "EdgeHubProgram", dependencies: [
            "EdgeHub", "EdgeModule", "HubServer", .product(name: "NIOCore", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "edge-hub", dependencies: ["EdgeHubProgram"]),
        // The sample module shipped with Outpost (Azure's SimulatedTemperatureSensor's behaviour).
        .executableTarget(name: "simulated-temperature-sensor", dependencies: [
            "EdgeModule", "IoTClient", "Twin",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // edgeAgent as iotedged starts it: the EdgeAgent logic wired to the daemon's APIs and the
        // hub; for the edge-agent executable and iotedged.
        .target(name: "EdgeAgentProgram", dependencies: [
            "EdgeAgent", "EdgeModule", "IoTClient", "Twin",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "edge-agent", dependencies: ["EdgeAgentProgram"]),
        .testTarget(name: "TwinQueryTests", dependencies: ["TwinQuery", "Twin"]),
        .testTarget(name: "LogQueryTests", dependencies: ["LogQuery"]),
        .testTarget(name: "EdgeRoutesTests", dependencies: ["EdgeRoutes"]),
        .testTarget(name: "HubServerTests", dependencies: [
            "HubServer", "IoTProtocol", "MQTT", .product(name: "NIOEmbedded", package: "swift-nio"),
        ]),
        .testTarget(name: "IoTProtocolTests", dependencies: ["IoTProtocol"]),
        .testTarget(name: "IoTClientTests", dependencies: [
            "IoTClient", "HubServer", "HubStore", "IoTProtocol", "Twin", "MQTT",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .testTarget(name: "HubStoreTests", dependencies: ["HubStore", "Twin", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "EdgeDaemonTests", dependencies: [
            "EdgeDaemon", "IoTProtocol", "Twin",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ZIPFoundation", package: "ZIPFoundation"),
        ]),
        // The load generator of issue 8 (bench/run drives it against Outpost and Mosquitto), and
        // its latency histogram, pure so that it is unit-tested on its own.
        .target(name: "BenchHistogram"),
        .testTarget(name: "BenchHistogramTests", dependencies: ["BenchHistogram"]),
        .executableTarget(name: "outpost-bench", dependencies: [
            "MQTT", "IoTProtocol", "BenchHistogram",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
    ],
    swiftLanguageModes: [.v5]
)

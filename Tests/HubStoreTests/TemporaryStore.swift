import Foundation
import HubStore

/// A store in a fresh temporary directory, removed when the test ends (`withTemporaryStore`).
struct TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("hubstore-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    var databasePath: String { url.appendingPathComponent("hub.sqlite").path }

    func remove() { try? FileManager.default.removeItem(at: url) }
}

func withTemporaryStore<T>(_ body: (SQLiteHubStore, TemporaryDirectory) async throws -> T) async throws -> T {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let store = try SQLiteHubStore(path: directory.databasePath)
    do {
        let result = try await body(store, directory)
        try? store.close()
        return result
    } catch {
        try? store.close()
        throw error
    }
}

/// Whole seconds: the database keeps dates to the millisecond.
let fixedDate = Date(timeIntervalSince1970: 1_700_000_000)

func device(_ id: String, etag: String = "e1", primaryKey: String? = "a2V5") -> IdentityRecord {
    IdentityRecord(deviceId: id, generationId: "g-\(id)", etag: etag, primaryKey: primaryKey, createdTime: fixedDate)
}

func module(_ deviceID: String, _ moduleID: String, etag: String = "m1") -> IdentityRecord {
    IdentityRecord(deviceId: deviceID, moduleId: moduleID, generationId: "g-\(deviceID)-\(moduleID)", etag: etag, createdTime: fixedDate)
}

func telemetry(_ deviceID: String, _ body: String = "{}", module: String? = nil) -> TelemetryRecord {
    TelemetryRecord(deviceId: deviceID, moduleId: module, enqueuedTime: 0, body: Data(body.utf8),
                    properties: "{}", systemProperties: "{}")
}

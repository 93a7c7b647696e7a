import Foundation
import HubStore
import Testing

@Suite("WAL checkpoints off the writer's path")
struct WALCheckpointerTests {
    static func size(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    }

    /// About 6 MB of telemetry, committed in 30 transactions like the writer's batches.
    static func fill(_ store: SQLiteHubStore) async throws {
        let body = Data(repeating: UInt8(ascii: "x"), count: 1024)
        for _ in 0..<30 {
            try await store.pool.write { db in
                for _ in 0..<200 {
                    try db.execute(sql: """
                        INSERT INTO messages (deviceId, moduleId, enqueuedTime, body, properties, systemProperties)
                        VALUES ('d1', NULL, 0, ?, '{}', '{}')
                        """, arguments: [body])
                }
            }
        }
    }

    @Test("with separate checkpoints, commits leave the WAL alone; the checkpointer moves it into the database")
    func checkpointsRunBesideTheWriter() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.databasePath
        let store = try SQLiteHubStore(path: path, separateCheckpoints: true)
        try await Self.fill(store)
        // SQLite's automatic checkpoint would have copied the pages after 1,000 (4 MB).
        #expect(Self.size(path) < 1_000_000)
        #expect(Self.size(path + "-wal") > 5_000_000)

        let checkpointer = WALCheckpointer(path: path, interval: .milliseconds(10))
        checkpointer.start()
        _ = checkpointer.noteCommit()
        var waited = 0
        while Self.size(path) < 5_000_000 && waited < 500 {
            try await Task.sleep(for: .milliseconds(20))
            waited += 1
        }
        checkpointer.stop()
        #expect(Self.size(path) > 5_000_000)
        let count = try await store.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM messages") }
        #expect(count == 6_000)
        try store.close()
    }

    @Test("a checkpointer opened before the store (as the hub does) checkpoints too, while a reader reads")
    func checkpointerOpenedFirst() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.databasePath
        let checkpointer = WALCheckpointer(path: path, interval: .milliseconds(10))
        let store = try SQLiteHubStore(path: path, separateCheckpoints: true)
        checkpointer.start()
        try await Self.fill(store)
        _ = checkpointer.noteCommit()
        var waited = 0
        while Self.size(path) < 5_000_000 && waited < 500 {
            _ = try await store.messages(after: 0, limit: 10)
            try await Task.sleep(for: .milliseconds(20))
            waited += 1
        }
        checkpointer.stop()
        #expect(Self.size(path) > 5_000_000)
        try store.close()
    }

    /// Frames in the WAL now; a passive checkpoint reports it. SQLite refuses it (SQLITE_BUSY)
    /// while the checkpointer's own pass runs, so it is tried again.
    static func walFrames(_ store: SQLiteHubStore) async throws -> Int {
        for _ in 0..<100 {
            if let frames = try? await store.pool.writeWithoutTransaction({ db in try db.checkpoint(.passive).walFrameCount }) {
                return frames
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        return try await store.pool.writeWithoutTransaction { db in try db.checkpoint(.passive).walFrameCount }
    }

    @Test("past its bound the checkpointer asks the committing thread to finish, and the next commit starts the WAL over")
    func writerFinishesPastTheBound() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.databasePath
        let store = try SQLiteHubStore(path: path, separateCheckpoints: true)
        let checkpointer = WALCheckpointer(path: path, interval: .milliseconds(10), maxWALFrames: 1_000)
        checkpointer.start()
        defer { checkpointer.stop() }
        // Below the bound: passes run, and nobody is asked.
        try await store.pool.write { db in try db.execute(sql: "INSERT INTO messages (deviceId, enqueuedTime, body, properties, systemProperties) VALUES ('d1', 0, x'00', '{}', '{}')") }
        for _ in 0..<10 {
            #expect(checkpointer.noteCommit() == false)
            try await Task.sleep(for: .milliseconds(20))
        }
        try await Self.fill(store)  // about 1,500 pages
        var asked = false
        for _ in 0..<250 where !asked {
            asked = checkpointer.noteCommit()
            if !asked { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(asked)
        // As the hub's writer does: a catch-up refused by the checkpointer's concurrent pass is
        // asked for again after the next commit.
        var caughtUp = store.checkpointBetweenCommits()
        for _ in 0..<100 where !caughtUp {
            checkpointer.catchUpFailed()
            try await Task.sleep(for: .milliseconds(10))
            #expect(checkpointer.noteCommit())
            caughtUp = store.checkpointBetweenCommits()
        }
        #expect(caughtUp)
        try await store.pool.write { db in try db.execute(sql: "INSERT INTO messages (deviceId, enqueuedTime, body, properties, systemProperties) VALUES ('d1', 0, x'00', '{}', '{}')") }
        #expect(try await Self.walFrames(store) < 10)
        try store.close()
    }

    @Test("by default a commit checkpoints once the WAL passes 1,000 pages")
    func automaticCheckpointsByDefault() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteHubStore(path: directory.databasePath)
        try await Self.fill(store)
        #expect(Self.size(directory.databasePath) > 3_000_000)
        try store.close()
    }

    @Test("stopping a checkpointer that never started returns at once")
    func stopWithoutStart() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteHubStore(path: directory.databasePath, separateCheckpoints: true)
        WALCheckpointer(path: directory.databasePath).stop()
        try store.close()
    }
}

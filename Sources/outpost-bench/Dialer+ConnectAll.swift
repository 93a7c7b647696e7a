import NIOCore

extension Dialer {
    /// Connects every id with at most `concurrency` connection attempts in flight (all at once
    /// for a connect storm). Failures are counted in `stats`, not thrown: how many fail, and
    /// why, is part of the result. Returns the connected clients by index.
    func connectAll(_ ids: [String], keepAlive: UInt16, concurrency: Int, stats: Stats,
                    configure: @escaping (Int, MQTTClient) -> Void = { _, _ in }) async -> [Int: MQTTClient] {
        var clients: [Int: MQTTClient] = [:]
        var pending = ids.enumerated().makeIterator()
        await withTaskGroup(of: (Int, MQTTClient?).self) { group in
            func next() -> Bool {
                guard let (i, id) = pending.next() else { return false }
                let packet = connectPacket(clientID: id, keepAlive: keepAlive)
                group.addTask {
                    let started = Clock.now
                    do {
                        let client = try await self.connect(packet) { configure(i, $0) }.get()
                        stats.connected(latencyNanos: Clock.now - started)
                        return (i, client)
                    } catch {
                        stats.error("connect: \(Self.summary(error))")
                        return (i, nil)
                    }
                }
                return true
            }
            for _ in 0..<max(1, concurrency) where !next() { break }
            while let (i, client) = await group.next() {
                if let client { clients[i] = client }
                _ = next()
            }
        }
        return clients
    }

    /// A short, stable description of an error, for grouping error counts.
    static func summary(_ error: Error) -> String {
        let text = "\(error)"
        return text.count > 100 ? String(text.prefix(100)) + "…" : text
    }

    /// Sends DISCONNECT and closes every client, and waits until the sockets are closed.
    static func closeAll(_ clients: some Collection<MQTTClient>) async {
        for client in clients {
            client.channel?.eventLoop.execute { client.close() }
        }
        for client in clients {
            try? await client.channel?.closeFuture.get()
        }
    }
}

/// A module's log lines, pulled one at a time: the reader goes only as fast as the client
/// reads, so a large log or a slow `iotedge logs -f` never piles up in memory.
public struct LogLines: AsyncSequence, Sendable {
    public typealias Element = String
    private let makeNext: @Sendable () -> @Sendable () async -> String?

    /// `makeNext` makes, for each iteration, the function that gives the next line or nil at
    /// the end.
    public init(_ makeNext: @escaping @Sendable () -> @Sendable () async -> String?) {
        self.makeNext = makeNext
    }

    public init(_ lines: [String]) {
        self.init {
            let box = ArrayCursor(lines)
            return { box.next() }
        }
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let nextLine: @Sendable () async -> String?
        public mutating func next() async -> String? { await nextLine() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(nextLine: makeNext()) }

    /// All lines, for tests and small logs (never with follow).
    public func collect() async -> [String] {
        var out: [String] = []
        for await line in self { out.append(line) }
        return out
    }
}

private final class ArrayCursor: @unchecked Sendable {
    private var lines: [String]
    private var index = 0
    init(_ lines: [String]) { self.lines = lines }
    func next() -> String? {
        guard index < lines.count else { return nil }
        defer { index += 1 }
        return lines[index]
    }
}

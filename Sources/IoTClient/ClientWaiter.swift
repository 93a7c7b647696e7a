/// Who waits for an operation of the session: one caller, or one place in a batch.
enum Waiter {
    case single(CheckedContinuation<ClientSession.Completion, Error>)
    case batch(BatchWaiter, Int)

    func resume(with result: Result<ClientSession.Completion, Error>) {
        switch self {
        case .single(let continuation): continuation.resume(with: result)
        case .batch(let batch, let index): batch.complete(index, result)
        }
    }
}

/// The outcomes of a batch, handed back when the last one is known. Used only on the engine
/// actor, so it needs no lock.
final class BatchWaiter: @unchecked Sendable {
    private var results: [Result<ClientSession.Completion, Error>?]
    private var remaining: Int
    private let continuation: CheckedContinuation<[Result<ClientSession.Completion, Error>], Never>

    init(count: Int, continuation: CheckedContinuation<[Result<ClientSession.Completion, Error>], Never>) {
        results = Array(repeating: nil, count: count)
        remaining = count
        self.continuation = continuation
    }

    func complete(_ index: Int, _ result: Result<ClientSession.Completion, Error>) {
        guard results[index] == nil else { return }
        results[index] = result
        remaining -= 1
        if remaining == 0 { continuation.resume(returning: results.map { $0! }) }
    }
}

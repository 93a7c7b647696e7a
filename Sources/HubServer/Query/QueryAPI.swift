import Foundation
import NIOHTTP1
import Twin
import TwinQuery

/// `POST /devices/query`: the IoT Hub query language over device or module twins, paged with
/// `x-ms-max-item-count` and an opaque `x-ms-continuation` token.
struct QueryAPI: Sendable {
    let hub: Hub

    static let defaultPageSize = 100
    static let maxPageSize = 1000

    func run(_ request: HTTPRequest) async throws -> HTTPResponse {
        let started = Date()
        do {
            let (response, text, count) = try await execute(request)
            hub.metrics.increment(.querySuccess)
            hub.diagnostics.record(DiagnosticRecord(category: .twinQueries, operationName: "query", error: nil,
                                                    durationMs: Int64(Date().timeIntervalSince(started) * 1000), deviceID: nil, moduleID: nil,
                                                    properties: ["query": .string(text), "items": .number(Double(count))]))
            return response
        } catch let error as HubError {
            hub.metrics.increment(.queryFailure)
            hub.diagnostics.record(DiagnosticRecord(category: .twinQueries, operationName: "query", error: error.code, detail: error.message,
                                                    deviceID: nil, moduleID: nil))
            throw error
        }
    }

    private func execute(_ request: HTTPRequest) async throws -> (HTTPResponse, String, Int) {
        let body = try TwinAPI.parseBody(request)
        guard let text = body["query"]?.stringValue, !text.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw HubError.argumentInvalid("The body needs a query: {\"query\": \"SELECT * FROM devices\"}.")
        }
        let query: Query
        do { query = try Query(parsing: text) } catch {
            throw HubError.argumentInvalid("The query is invalid. \(error)")
        }
        let pageSize = try pageSize(request.headers.first(name: "x-ms-max-item-count"))
        let offset = try Self.offset(request.headers.first(name: "x-ms-continuation"))
        let rows = try await hub.store.allTwins(modules: query.source == .modules)
        let items = query.evaluate(rows.map(TwinDocument.json))
        let page = Array(items.dropFirst(offset).prefix(pageSize))
        var headers: HTTPHeaders = ["x-ms-item-type": query.itemType.rawValue]
        if offset + page.count < items.count {
            headers.add(name: "x-ms-continuation", value: Self.token(offset + page.count))
        }
        return (.jsonValue(.array(page), headers: headers), text, page.count)
    }

    private func pageSize(_ header: String?) throws -> Int {
        guard let header else { return Self.defaultPageSize }
        guard let n = Int(header), (1...Self.maxPageSize).contains(n) else {
            throw HubError.argumentInvalid("x-ms-max-item-count \"\(header)\" is invalid: use 1 to \(Self.maxPageSize).")
        }
        return n
    }

    /// The token is the offset of the next item; results are ordered by id, so a page boundary
    /// stays put while the fleet is unchanged.
    static func token(_ offset: Int) -> String { Data("offset:\(offset)".utf8).base64EncodedString() }

    static func offset(_ token: String?) throws -> Int {
        guard let token, !token.isEmpty else { return 0 }
        guard let data = Data(base64Encoded: token), let text = String(data: data, encoding: .utf8),
              text.hasPrefix("offset:"), let n = Int(text.dropFirst(7)), n >= 0 else {
            throw HubError.argumentInvalid("x-ms-continuation is not a token this hub issued; start the query again without it.")
        }
        return n
    }
}

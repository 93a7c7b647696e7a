import AsyncHTTPClient
import Foundation
import NIOCore

extension HubClient {
    /// Streams a response body into `output` (a blob can be larger than any JSON answer);
    /// returns the number of bytes written.
    func download(_ path: String, into output: FileHandle) async throws -> Int {
        var request = HTTPClientRequest(url: baseURL + path)
        request.headers.add(name: "Authorization", value: authorization())
        let response: HTTPClientResponse
        do { response = try await http.execute(request, timeout: .minutes(30)) } catch {
            throw CLIError("cannot reach the hub at \(baseURL): \(error). Is `iothub serve` running?")
        }
        guard response.status == .ok else {
            let bytes = try await response.body.collect(upTo: 1 << 20)
            throw Self.error(response.status, Data(bytes.readableBytesView), response.headers)
        }
        var total = 0
        for try await chunk in response.body {
            try output.write(contentsOf: chunk.readableBytesView)
            total += chunk.readableBytes
        }
        return total
    }
}

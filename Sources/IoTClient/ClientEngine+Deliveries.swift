import IoTProtocol
import NIOCore
import Twin

/// What the hub pushes: desired patches, direct methods (answered with the handler's
/// response), cloud-to-device messages and module inputs.
extension ClientEngine {
    func deliver(_ delivery: ClientSession.Delivery) {
        switch delivery {
        case .desiredPatch(let payload, let version):
            do {
                output.desiredPatch(try JSONValue(parsing: String(buffer: payload)))
            } catch {
                logger.error("a desired-properties patch is not JSON; dropped", metadata: ["version": "\(version.map(String.init) ?? "-")", "error": "\(error)"])
            }
        case .method(let name, let requestID, let payload):
            let request = MethodRequest(name: name, payload: Self.methodPayload(payload), requestID: requestID)
            guard let handler = methodHandler else {
                Task { await self.answer(request, MethodResponse(status: 501, payload: ["message": .string("no handler for method \(name)")])) }
                return
            }
            Task {
                let response = await handler(request)
                await self.answer(request, response)
            }
        case .cloudToDevice(let bag, let payload):
            do { output.cloudToDevice(try IncomingMessage(payload: payload, bag: bag, inputName: nil)) } catch {
                logger.error("a cloud-to-device message has a broken property bag; dropped", metadata: ["error": "\(error)"])
            }
        case .moduleInput(let input, let bag, let payload):
            do { output.input(try IncomingMessage(payload: payload, bag: bag, inputName: input)) } catch {
                logger.error("an input message has a broken property bag; dropped", metadata: ["input": "\(input)", "error": "\(error)"])
            }
        }
    }

    private func answer(_ request: MethodRequest, _ response: MethodResponse) async {
        let topic = IoTTopic.methodResponse(status: response.status, requestID: request.requestID)
        do {
            _ = try await run(.publish(topic: topic, payload: ByteBuffer(string: response.payload.jsonText)),
                              name: "answer to method \(request.name)")
        } catch {
            logger.warning("could not answer a direct method", metadata: ["method": "\(request.name)", "error": "\(error)"])
        }
    }

    private static func methodPayload(_ buffer: ByteBuffer) -> JSONValue {
        let text = String(buffer: buffer)
        if text.allSatisfy(\.isWhitespace) { return .null }
        return (try? JSONValue(parsing: text)) ?? .string(text)
    }
}

import ArgumentParser

/// `iotedge restart MODULE`: stop and start it again (`iotedge restart edgeAgent && iotedge
/// restart edgeHub` restarts the runtime's own modules).
struct Restart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Restart a module.")

    @OptionGroup var target: TargetOptions
    @Argument(help: "The module, as `iotedge list` names it.") var module: String

    func run() async throws {
        let client = try EdgeTarget(target).client()
        _ = try await client.call(.POST, "/modules/\(percent(module))/restart")
        print(module)
    }
}

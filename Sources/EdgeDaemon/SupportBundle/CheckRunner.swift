import Foundation

/// Runs `iotedge check --output json` for a support bundle, as edgelet's bundle does: as a
/// separate process, so that a check that hangs on the network or crashes cannot take the
/// bundle (or the daemon serving it) down. A missing or failing `iotedge check` is an outcome
/// to record, not an error.
public struct CheckRunner: Sendable {
    public enum Outcome: Sendable, Equatable {
        /// The checks' JSON (`iotedge check` exits non-zero when a check fails: still a result).
        case json([UInt8], exitCode: Int32)
        /// Why there is no JSON, for the file that stands in for it.
        case unavailable(String)
    }

    public var executable: String?
    public var timeout: Double

    public init(executable: String? = CheckRunner.findIotedge(), timeout: Double = 90) {
        self.executable = executable
        self.timeout = timeout
    }

    public func run(configPath: String, iothubHostname: String?) async -> Outcome {
        guard let executable else {
            return .unavailable("`iotedge` was found neither beside \(FileIO.ownExecutable ?? "this program") nor on PATH, so `iotedge check` could not run. Install Outpost's binaries together, then run `iotedge check --output json` by hand.")
        }
        var arguments = ["check", "--output", "json", "--config", configPath]
        if let iothubHostname, !iothubHostname.isEmpty { arguments += ["--iothub-hostname", iothubHostname] }
        let command = ([executable] + arguments).joined(separator: " ")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("outpost-check-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let out = FileIO.join(directory, "stdout"), err = FileIO.join(directory, "stderr")
        let outFD: Int32, errFD: Int32
        do {
            try FileIO.makeDirectories(directory, mode: 0o700)
            outFD = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            errFD = open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        } catch {
            return .unavailable("`\(command)` could not be started: cannot make \(directory): \(error)")
        }
        defer { close(outFD); close(errFD) }
        guard outFD >= 0, errFD >= 0 else {
            return .unavailable("`\(command)` could not be started: cannot write its output in \(directory): \(String(cString: strerror(errno)))")
        }
        // ProcessLauncher: a process group of its own (a timeout kills check and whatever it
        // started) and default signal dispositions (iotedged ignores SIGTERM for itself).
        let request = ProcessLauncher.Request(executable: executable, arguments: [executable] + arguments,
                                              environment: ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" })
        let pid: pid_t
        switch ProcessLauncher.spawn(request, outputFD: outFD, errorFD: errFD) {
        case .success(let p): pid = p
        case .failure(let error): return .unavailable("`\(command)` could not be started: \(error)")
        }
        var status: Int32 = 0
        let deadline = RFC3339.now() + timeout
        while true {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid || (reaped < 0 && errno != EINTR) { break }  // ECHILD: reaped elsewhere, status unknown
            guard RFC3339.now() < deadline else {
                kill(-pid, SIGKILL)
                while waitpid(pid, &status, 0) < 0, errno == EINTR {}
                return .unavailable("`\(command)` did not finish within \(String(format: "%g", timeout)) s and was stopped. Run it by hand to see where it waits.")
            }
            try? await Task.sleep(nanoseconds: 50_000_000)
        }
        let stdout = FileIO.read(out) ?? [], stderr = FileIO.read(err) ?? []
        let exited = status & 0x7f == 0, code = exited ? (status >> 8) & 0xff : status & 0x7f
        if (try? JSONSerialization.jsonObject(with: Data(stdout))) != nil {
            return .json(stdout, exitCode: code)
        }
        let said = String(decoding: stderr + stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let how = exited ? "exited with status \(code)" : "was killed by signal \(code)"
        return .unavailable("`\(command)` \(how) without printing JSON. It said:\n\n\(said.isEmpty ? "(nothing)" : String(said.prefix(16_000)))")
    }

    /// `iotedge` beside the running program (Outpost's binaries ship together), else on PATH.
    public static func findIotedge() -> String? { ExecutableResolver.sibling("iotedge") }
}

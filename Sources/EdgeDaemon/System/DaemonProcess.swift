#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Starting iotedged from the CLI (`iotedge config apply`, `system restart` when it is not
/// running), as systemd would: in a session of its own, so that it outlives the command and a
/// Ctrl-C at the terminal does not reach it.
public enum DaemonProcess {
    /// The iotedged executable: beside the running program (Outpost's binaries ship together),
    /// else on PATH.
    public static func executable(besides program: String = "/proc/self/exe") -> String? {
        ExecutableResolver.sibling("iotedged", of: program)
    }

    /// Starts `iotedged --config PATH` detached; its console output goes to `consoleLog`
    /// (what it prints before its own log file is open). Returns the pid.
    public static func start(executable: String, configPath: String, consoleLog: String) throws -> Int32 {
        try FileIO.makeDirectories(FileIO.dirname(of: consoleLog))
        let fd = open(consoleLog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw DaemonError("cannot write \(consoleLog): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var environment: [String] = []
        var p = environ
        while let entry = p.pointee { environment.append(String(cString: entry)); p += 1 }
        let request = ProcessLauncher.Request(executable: executable, arguments: [executable, "--config", configPath],
                                              environment: environment, workingDirectory: "/")
        switch ProcessLauncher.spawn(request, outputFD: fd, newSession: true) {
        case .success(let pid): return pid
        case .failure(let error): throw DaemonError("cannot start \(executable): \(error)")
        }
    }
}

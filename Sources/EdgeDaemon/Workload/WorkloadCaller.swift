/// Who may use the workload API for a module: only the module's main process, the pid the
/// runtime started (seed 000, "IoT Edge module fails to send a message to the edgeHub with 404
/// error"). A child it forked, a shell that ran it, or any other program is refused with 404
/// `{"message":"Module not found"}`, and the daemon logs both pids.
public enum WorkloadCaller {
    public enum Decision: Equatable, Sendable {
        case allowed
        /// `modulePID` is nil when the module is not running (or not known).
        case denied(callerPID: Int32?, modulePID: Int32?)
    }

    /// The check itself, kept pure so that it is tested without processes.
    public static func check(module: String, callerPID: Int32?, modulePID: Int32?) -> Decision {
        guard let callerPID, let modulePID, callerPID == modulePID else {
            return .denied(callerPID: callerPID, modulePID: modulePID)
        }
        return .allowed
    }

    /// The daemon's log line for a refusal.
    public static func logLine(module: String, callerPID: Int32?, modulePID: Int32?) -> String {
        let caller = callerPID.map { "pid \($0)" } ?? "a process whose pid could not be read"
        guard let modulePID else {
            return "Workload API: request for module \(module) from \(caller), but module \(module) is not running; answered 404 Module not found"
        }
        return "Workload API: request for module \(module) from \(caller), but module \(module)'s process is pid \(modulePID); "
            + "only the module's main process may use the workload API, answered 404 Module not found. "
            + "Make the module's program the process the runtime starts (exec it, or use ENTRYPOINT rather than a shell in CMD) and send from that process."
    }

    /// The runtime name of a workload path's module id: `$edgeHub` runs as `edgeHub`.
    public static func runtimeName(_ moduleId: String) -> String {
        moduleId.hasPrefix("$") ? String(moduleId.dropFirst()) : moduleId
    }
}

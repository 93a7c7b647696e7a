#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Starts a module's process with `posix_spawn`: in a process group of its own (so that stop
/// reaches every process the module forked), with every signal at its default disposition and
/// none blocked (the daemon ignores SIGTERM and SIGINT for ServiceLifecycle, and ignored
/// signals survive exec), stdin from /dev/null, stdout and stderr into `outputFD`, and no
/// other descriptor of the daemon's inherited.
enum ProcessLauncher {
    struct Request {
        var executable: String
        /// argv, with argv[0] (usually `executable`; the daemon's own programs are chosen by it).
        var arguments: [String]
        /// `KEY=VALUE` strings.
        var environment: [String]
        var workingDirectory: String?
    }

    /// The pid, or the errno of the failure (ENOENT for a missing executable, EACCES …).
    /// `newSession` starts it in a session of its own (a daemon) instead of a process group;
    /// `errorFD` takes stderr apart from stdout.
    static func spawn(_ request: Request, outputFD: Int32, errorFD: Int32? = nil, newSession: Bool = false) -> Result<pid_t, SpawnError> {
        if let dir = request.workingDirectory, !FileIO.isDirectory(dir) {
            return .failure(SpawnError(errno: ENOENT, step: "WorkingDir \(dir) is not a directory"))
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outputFD, 1)
        posix_spawn_file_actions_adddup2(&actions, errorFD ?? outputFD, 2)
        if let closeFrom = Self.addCloseFrom { _ = closeFrom(&actions, 3) }
        var useShellForDirectory = false
        if let dir = request.workingDirectory {
            if let chdir = Self.addChdir { _ = dir.withCString { chdir(&actions, $0) } } else { useShellForDirectory = true }
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigfillset(&defaults)
        sigdelset(&defaults, SIGKILL)
        sigdelset(&defaults, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var noMask = sigset_t()
        sigemptyset(&noMask)
        posix_spawnattr_setsigmask(&attributes, &noMask)
        posix_spawnattr_setpgroup(&attributes, 0)
        let group = newSession ? Int32(0x80) : Int32(POSIX_SPAWN_SETPGROUP)  // 0x80: glibc's POSIX_SPAWN_SETSID (GNU only)
        posix_spawnattr_setflags(&attributes, Int16(group | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        var executable = request.executable
        var argv = request.arguments
        if useShellForDirectory, let dir = request.workingDirectory {
            // No posix_spawn_file_actions_addchdir_np: a shell changes directory, then execs the
            // module, so the module's pid is still the one spawned here. POSIX sh's exec cannot
            // set argv[0], and a program chosen by its argv[0] would start as another.
            guard request.arguments.first == request.executable else {
                return .failure(SpawnError(errno: ENOSYS, step: "WorkingDir \(dir) with argv[0] \(request.arguments.first ?? "") needs glibc 2.29's posix_spawn_file_actions_addchdir_np"))
            }
            argv = ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", dir, request.executable] + Array(request.arguments.dropFirst())
            executable = "/bin/sh"
        }
        var pid: pid_t = 0
        let rc = withCStrings(argv) { cArgv in
            withCStrings(request.environment) { cEnv in
                posix_spawn(&pid, executable, &actions, &attributes, cArgv, cEnv)
            }
        }
        guard rc == 0 else { return .failure(SpawnError(errno: rc, step: "posix_spawn \(executable)")) }
        return .success(pid)
    }

    struct SpawnError: Error, CustomStringConvertible {
        var errno: Int32
        var step: String
        var description: String { "\(step): \(String(cString: strerror(errno)))" }
    }

    private typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    /// glibc's `_np` spawn actions (2.29 and 2.34), looked up at run time: the Glibc module
    /// does not import them without _GNU_SOURCE.
    private static let addChdir: AddChdir? = {
        guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np") else { return nil }
        return unsafeBitCast(sym, to: AddChdir.self)
    }()

    private static let addCloseFrom: AddCloseFrom? = {
        guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(sym, to: AddCloseFrom.self)
    }()

    /// A NULL-terminated array of C strings alive for the call.
    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        pointers.append(nil)
        defer { for p in pointers { free(p) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}

/// Runs `body` on a thread of its own: for the few blocking calls a module needs (waiting for
/// its exit, reading its output), which must not hold an event loop or a cooperative thread.
enum BlockingThread {
    private final class Box { let body: () -> Void; init(_ b: @escaping () -> Void) { body = b } }

    static func start(_ body: @escaping () -> Void) {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        pthread_attr_setstacksize(&attributes, 256 * 1024)
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        var thread = pthread_t()
        let rc = pthread_create(&thread, &attributes, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, box)
        pthread_attr_destroy(&attributes)
        if rc != 0 {
            Unmanaged<Box>.fromOpaque(box).release()
            body()
        }
    }
}

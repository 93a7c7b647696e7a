#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// `iotedgectl`, the IoT Edge preview's command (2017), for people following its pages: it runs
// `iotedge legacy …` from beside itself, where setup, restart and login live.
var buffer = [CChar](repeating: 0, count: 4096)
let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
var directory = "."
if n > 0 {
    let path = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    if let slash = path.lastIndex(of: "/") { directory = String(path[..<slash]) }
}
let iotedge = directory + "/iotedge"
var argv: [UnsafeMutablePointer<CChar>?] = ([iotedge, "legacy"] + CommandLine.arguments.dropFirst()).map { strdup($0) }
argv.append(nil)
execv(iotedge, &argv)
fputs("iotedgectl: cannot run \(iotedge) (\(String(cString: strerror(errno)))): install Outpost's binaries together\n", stderr)
exit(127)

import EdgeHubProgram

/// `edge-hub` on its own (iotedged runs the same program from its own executable).
@main
enum EdgeHubMain {
    static func main() async { await EdgeHubProgram.main() }
}

import EdgeAgentProgram

/// `edge-agent` on its own (iotedged runs the same program from its own executable).
@main
enum EdgeAgentMain {
    static func main() async { await EdgeAgentProgram.main() }
}

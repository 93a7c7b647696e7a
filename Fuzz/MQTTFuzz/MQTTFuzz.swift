// Fuzz target for the MQTT decoder.
//
// Built by `Fuzz/run` with `-sanitize=fuzzer,address -D FUZZING -parse-as-library`, this file is
// a libFuzzer target: libFuzzer's driver calls `LLVMFuzzerTestOneInput` with each input. Built
// normally (`swift build`), it is a replay tool that runs the same check over files, so that the
// committed corpus is a regression test of every ordinary build:
//
//     .build/debug/MQTTFuzz Fuzz/corpus/mqtt [MORE_FILES_OR_DIRS…]
//
// The check: decode packets from the input until the decoder needs more bytes or throws
// (throwing is the decoder's right answer to bad bytes), and for every packet decoded, encode
// it and decode it again: the result must be the same packet, from exactly the encoded bytes.
// A crash, a trap, a hang or a round-trip mismatch is a bug.
//
// The file is not called main.swift: the fuzzing build needs -parse-as-library, and then a
// main.swift may hold no top-level code even inside an inactive #if branch. The replay tool
// uses `@main` instead.
import MQTT
import NIOCore

/// Runs the check over one input. Returns nil when the decoder behaved, otherwise what went wrong.
func checkInput(_ bytes: UnsafeRawBufferPointer) -> String? {
    var buffer = ByteBuffer(bytes: bytes)
    var index = 0
    while true {
        let before = buffer.readableBytes
        let packet: MQTTPacket?
        do {
            packet = try MQTTDecoder.decode(from: &buffer)
        } catch is MQTTDecodeError {
            // The documented failure. It must leave the buffer untouched.
            if buffer.readableBytes != before { return "packet \(index): a throwing decode consumed bytes" }
            return nil
        } catch {
            return "packet \(index): decode threw a non-MQTTDecodeError \(error)"
        }
        guard let packet else {
            if buffer.readableBytes != before { return "packet \(index): decode returned nil but consumed bytes" }
            return nil
        }
        // Every packet is at least two bytes: a decoder that returns one without consuming
        // them would loop forever here.
        if before - buffer.readableBytes < 2 { return "packet \(index): decoded \(packet.typeName) from \(before - buffer.readableBytes) bytes" }
        if let failure = checkRoundTrip(packet) { return "packet \(index) (\(packet.typeName)): \(failure)" }
        index += 1
    }
}

/// decode(encode(p)) == p, consuming exactly the encoded bytes.
func checkRoundTrip(_ packet: MQTTPacket) -> String? {
    var encoded = ByteBuffer()
    MQTTEncoder.encode(packet, into: &encoded)
    let length = encoded.readableBytes
    let again: MQTTPacket?
    do {
        // The encoder writes the shortest remaining length, so the encoding is never longer
        // than the input it came from and the default size limit holds for it too.
        again = try MQTTDecoder.decode(from: &encoded)
    } catch {
        return "its encoding (\(length) bytes) does not decode: \(error)"
    }
    guard let again else { return "its encoding (\(length) bytes) decodes as incomplete" }
    if again != packet { return "decode(encode(p)) != p: \(again) versus \(packet)" }
    if encoded.readableBytes != 0 { return "decoding its encoding left \(encoded.readableBytes) bytes" }
    return nil
}

#if FUZZING
/// libFuzzer's entry point: one input per call. Trapping is how a bug is reported.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    if let failure = checkInput(UnsafeRawBufferPointer(start: data, count: size)) {
        fatalError("MQTTFuzz: \(failure)")
    }
    return 0
}

// SwiftPM links every Swift executable with `--defsym main=MQTTFuzz_main` (so that test targets
// may link executables). That defines `main` and keeps libFuzzer's own `main` out of the link,
// so this module provides `MQTTFuzz_main` and starts libFuzzer's driver itself, through the
// entry point libFuzzer exports for that purpose. (`@_extern(c)` needs
// `-enable-experimental-feature Extern`, which Fuzz/run passes.)
@_extern(c, "LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@_cdecl("MQTTFuzz_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, fuzz)
}
#else
import FuzzReplay

/// Replay mode: `MQTTFuzz FILE_OR_DIR...`.
@main
struct ReplayCommand {
    static func main() {
        FuzzReplay.run(tool: "MQTTFuzz", purpose: "Replays fuzz inputs through the MQTT decoder round-trip check", check: checkInput)
    }
}
#endif

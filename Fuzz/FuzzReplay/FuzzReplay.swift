// The replay half of every fuzz target: without FUZZING, a target's executable runs its check
// over files and directories, so the committed corpora are regression tests of every build.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum FuzzReplay {
    /// `TOOL FILE_OR_DIR...`: runs `check` over every input; prints each failure and exits 1 if
    /// there was any, 2 on a usage error, else 0.
    public static func run(tool: String, purpose: String, check: (UnsafeRawBufferPointer) -> String?) -> Never {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.isEmpty || arguments.contains("-h") || arguments.contains("--help") {
            print("""
                usage: \(tool) FILE_OR_DIR...
                \(purpose) (the fuzzing build is made by Fuzz/run).
                """)
            exit(arguments.isEmpty ? 2 : 0)
        }
        let files = inputFiles(arguments, tool: tool)
        if files.isEmpty {
            print("\(tool): no input files in \(arguments.joined(separator: " "))")
            exit(2)
        }
        var failures = 0
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                print("\(tool): \(file): cannot read")
                failures += 1
                continue
            }
            if let failure = data.withUnsafeBytes(check) {
                print("FAIL \(file): \(failure)")
                failures += 1
            }
        }
        print("\(files.count) inputs replayed, \(failures) failures")
        exit(failures == 0 ? 0 : 1)
    }

    /// The files named on the command line, directories expanded (recursively, sorted).
    static func inputFiles(_ arguments: [String], tool: String) -> [String] {
        let fm = FileManager.default
        var files: [String] = []
        for argument in arguments {
            var isDirectory = false
            guard fm.fileExists(atPath: argument, isDirectory: &isDirectory) else {
                print("\(tool): \(argument): no such file or directory")
                exit(2)
            }
            if isDirectory {
                let entries = ((try? fm.subpathsOfDirectory(atPath: argument)) ?? []).sorted()
                for entry in entries {
                    let path = argument + "/" + entry
                    var entryIsDirectory = false
                    if fm.fileExists(atPath: path, isDirectory: &entryIsDirectory), !entryIsDirectory { files.append(path) }
                }
            } else {
                files.append(argument)
            }
        }
        return files
    }
}

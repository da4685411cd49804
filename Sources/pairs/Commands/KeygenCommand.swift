import ClusterZMQ
import Foundation
import ZeroMQ

/// `pairs keygen`: a CurveZMQ key pair as two files, PREFIX.key (secret, mode 0600) and PREFIX.pub.
enum KeygenCommand: Command {
    static let spec = CommandSpec(
        name: "keygen",
        summary: "Write a CurveZMQ key pair: PREFIX.key (secret, owner-only) and PREFIX.pub (to hand to the other side).",
        positionals: [],
        options: [.value("out", "PREFIX", "Path prefix of the two files, e.g. keys/coordinator (required).")])

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        guard let prefix: String = try arguments.optional("out") else { throw UsageError("--out PREFIX is required") }
        guard Context.has("curve") else { throw CurveFiles.Failure(description: "this libzmq was built without CURVE support") }
        let pair = try CurveKeyPair.generate()
        for (path, text, mode) in [(prefix + ".key", pair.secretKey.z85, 0o600), (prefix + ".pub", pair.publicKey.z85, 0o644)] {
            guard !FileManager.default.fileExists(atPath: path) else { throw CurveFiles.Failure(description: "'\(path)' exists; not overwriting a key") }
            guard FileManager.default.createFile(atPath: path, contents: Data((text + "\n").utf8), attributes: [.posixPermissions: mode]) else {
                throw CurveFiles.Failure(description: "cannot write '\(path)'")
            }
        }
        emit("wrote \(prefix).key (secret) and \(prefix).pub: \(pair.publicKey.z85)")
        return ExitStatus.success
    }
}

/// Reading CurveZMQ key files written by `pairs keygen` (40 characters of Z85 on the first line).
enum CurveFiles {
    struct Failure: Error, CustomStringConvertible { let description: String }

    static func key(_ path: String, what: String) throws -> CurveKey {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw Failure(description: "cannot read \(what) '\(path)'") }
        do {
            return try CurveKey(z85: String(text.split(whereSeparator: \.isNewline).first ?? ""))
        } catch {
            throw Failure(description: "\(what) '\(path)' is not a CurveZMQ key: \(error)")
        }
    }

    /// Every `*.pub` file in `directory`.
    static func allowed(_ directory: String) throws -> Set<CurveKey> {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            throw Failure(description: "cannot list --allowed-workers directory '\(directory)'")
        }
        let keys = try names.filter { $0.hasSuffix(".pub") }.sorted().map { try key(directory + "/" + $0, what: "worker public key") }
        guard !keys.isEmpty else { throw Failure(description: "--allowed-workers '\(directory)' holds no *.pub key files") }
        return Set(keys)
    }
}

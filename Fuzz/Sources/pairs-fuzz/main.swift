// pairs-fuzz: seeded mutation fuzzing of every decoder that reads bytes from outside the process — the wire
// messages, the exact-sum encoding, the coordinator journal and HDF5 shards. libFuzzer (-sanitize=fuzzer) is not
// in this toolchain's Linux runtime here, so each target is a loop that mutates corpus entries (bit flips, byte
// sets, inserts, deletes, truncation, splices) and hands them to the decoder; a decoder may reject its input
// with an error, never crash, hang or accept something that does not re-encode canonically. The Swift decoders
// run in-process. Shards are read by libhdf5 (C), which can hang or crash on damaged files; so each shard input
// runs in a child process (`pairs-fuzz shard-one FILE`) with a time limit, and inputs that hang or crash it are
// saved under Fuzz/crashers and counted (docs/reliability.md says what pairs does about them).
//
// usage: pairs-fuzz wire|exactsum|journal|shard|all --seconds S [--corpus Fuzz/corpus] [--seed N]
//        pairs-fuzz shard-one FILE      (exit 0: read, 1: rejected with an error)
import Cluster
import Digest
import ExactSum
import Foundation
import Numerics
import PairsCore

/// Random edits of corpus entries, drawn from the project's seeded generator (a seed replays a run).
struct Mutator {
    var rng: SeededGenerator

    mutating func next() -> UInt64 { rng.next() }

    mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }

    /// One to eight random edits of `input`, sometimes spliced with `other`.
    mutating func mutate(_ input: [UInt8], other: [UInt8]) -> [UInt8] {
        var bytes = input
        for _ in 0...below(8) {
            switch below(8) {
            case 0 where !bytes.isEmpty: bytes[below(bytes.count)] ^= UInt8(1 << below(8))
            case 1 where !bytes.isEmpty: bytes[below(bytes.count)] = UInt8(truncatingIfNeeded: next())
            case 2 where !bytes.isEmpty:  // an interesting value: 0, 0xFF, 0x7F, 0x80
                bytes[below(bytes.count)] = [0, 0xFF, 0x7F, 0x80][below(4)]
            case 3: bytes.insert(UInt8(truncatingIfNeeded: next()), at: below(bytes.count + 1))
            case 4 where !bytes.isEmpty:
                let start = below(bytes.count)
                bytes.removeSubrange(start..<min(bytes.count, start + 1 + below(16)))
            case 5 where !bytes.isEmpty: bytes.removeLast(below(bytes.count) + 1)
            case 6 where !other.isEmpty:
                let cut = below(bytes.count + 1), from = below(other.count)
                bytes = Array(bytes[..<cut]) + other[from...]
            case 7 where bytes.count >= 4:  // a 32-bit length field set to something extreme
                let at = below(bytes.count - 3)
                let value: UInt32 = [0, 1, 0x7FFF_FFFF, 0xFFFF_FFFF, UInt32(bytes.count)][below(5)]
                for k in 0..<4 { bytes[at + k] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(k))) }
            default: break
            }
        }
        return bytes
    }
}

/// A corpus entry for the wire target is a list of frames: u32 count, then u32 length + bytes per frame.
func frames(_ bytes: [UInt8]) -> [[UInt8]]? {
    var r = WireReader(bytes)
    guard let count = try? r.count("frames", limit: 8) else { return nil }
    var out: [[UInt8]] = []
    for _ in 0..<count {
        guard let f = try? r.blob("frame") else { return nil }
        out.append(f)
    }
    return out
}

func serialize(_ frames: [[UInt8]]) -> [UInt8] {
    var w = WireWriter()
    w.u32(UInt32(frames.count))
    for f in frames { w.blob(f) }
    return w.bytes
}

/// Valid inputs each target starts from (written to the corpus directory when it is empty).
func seeds(_ target: String) throws -> [[UInt8]] {
    var sums = [ExactSum](repeating: ExactSum(), count: 4)
    for (i, v) in [1e30, -1e30, 1.5, 3e-310].enumerated() { sums[i].add(v); sums[i].add(Double(i)) }
    let partial = Partial(item: 7, shardDigest: "sha256:ab", shardSize: 10, shardModified: 3, events: 256, skippedEvents: 0,
                          nonFinite: [0, 1], sums: sums, bytesRead: 4096, readSeconds: 0.1, embedSeconds: 0.2)
    switch target {
    case "wire":
        let worker: [WorkerMessage] = [
            .ready(.init(workerID: "w1", host: "node", pid: 4, threads: 2, modelDigest: "sha256:00", blasCore: "Zen")),
            .request(credits: 3), .partial(partial), .partial(Partial(item: 1, failure: (.shard, "bad chunk"))), .heartbeat, .bye,
        ]
        let coordinator: [CoordinatorMessage] = [
            .welcome(.init(runID: "r", modelDigest: "sha256:m", model: [1, 2, 3], dataset: "/events", batchSize: 100,
                           nonFinite: .skip, heartbeatMilliseconds: 1000, liveness: 5, fileLocking: false)),
            .assign(.init(item: 3, path: "/d/a.h5", relativePath: "a.h5", rows: 0..<256, computeDigest: true)),
            .ack(item: 3, duplicate: false), .refuse(reason: "no"), .shutdown, .heartbeat,
        ]
        return worker.map { serialize($0.frames()) } + coordinator.map { serialize($0.frames()) }
    case "exactsum":
        return sums.map { $0.encoded() } + [ExactSum().encoded()]
    case "journal":
        let path = NSTemporaryDirectory() + "pairs-fuzz-\(getpid()).journal"
        try? FileManager.default.removeItem(atPath: path)
        let writer = try Journal.Writer(path: path, header: .init(modelDigest: "sha256:m", planDigest: "sha256:p"))
        try writer.append(.merged(partial, worker: "w1"))
        try writer.append(.attemptFailed(item: 2, worker: "w2", reason: "io"))
        defer { try? FileManager.default.removeItem(atPath: path) }
        return [try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))]
    case "shard":
        var out: [[UInt8]] = []
        for (i, layout) in [ShardLayout.matrix, .compound, .columns].enumerated() {
            let path = NSTemporaryDirectory() + "pairs-fuzz-\(getpid())-\(i).h5"
            var values: [Double] = []
            for r in 0..<64 { values += [Double(r), Double(r) * 0.5] }
            do {
                let writer = try ShardWriter(path: path, layout: layout, columns: [.init("x"), .init("y")], events: 64,
                                             storage: i == 1 ? .init(chunkRows: 16) : .contiguous)
                try writer.write(rows: 0..<64, values: values)
                try writer.finish()
            }
            out.append(try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))))
            try? FileManager.default.removeItem(atPath: path)
        }
        return out
    default:
        throw FuzzError("unknown target '\(target)' (wire, exactsum, journal, shard, all)")
    }
}

struct FuzzError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Feeds one input to the target's decoder; returns whether it was accepted.
@MainActor func run(_ target: String, _ input: [UInt8], scratch: String) throws -> Bool {
    switch target {
    case "wire":
        guard let frames = frames(input) else { return false }
        if let m = try? WorkerMessage.decode(frames) {
            guard let again = try? WorkerMessage.decode(m.frames()), again == m else { throw FuzzError("a decoded worker message does not round-trip") }
            return true
        }
        if let m = try? CoordinatorMessage.decode(frames) {
            guard let again = try? CoordinatorMessage.decode(m.frames()), again == m else { throw FuzzError("a decoded coordinator message does not round-trip") }
            return true
        }
        return false
    case "exactsum":
        guard let s = try? ExactSum(encoded: input) else { return false }
        guard s.encoded() == input else { throw FuzzError("accepted exact-sum bytes are not canonical") }
        return true
    case "journal":
        return (try? Journal.parse(input, path: "fuzz")) != nil
    case "shard":
        FileManager.default.createFile(atPath: scratch, contents: Data(input))
        let child = Process()
        child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        child.arguments = ["shard-one", scratch]
        child.standardError = FileHandle.nullDevice
        try child.run()
        let deadline = Date().addingTimeInterval(shardTimeLimit)
        while child.isRunning && Date() < deadline { usleep(500) }
        if child.isRunning {
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            shardDefects.record("hang", input, in: crashers)
            return false
        }
        if child.terminationReason == .uncaughtSignal {
            shardDefects.record("crash", input, in: crashers)
            return false
        }
        return child.terminationStatus == 0
    default:
        throw FuzzError("unknown target '\(target)'")
    }
}

/// Seconds a child may spend reading one mutated shard before it counts as hung.
let shardTimeLimit = 5.0

/// Inputs on which libhdf5 hung or crashed the child (saved, at most 10 of each kind).
struct ShardDefects {
    var counts: [String: Int] = [:]

    mutating func record(_ kind: String, _ input: [UInt8], in directory: String) {
        counts[kind, default: 0] += 1
        if counts[kind]! <= 10 {
            FileManager.default.createFile(atPath: directory + "/shard-\(kind)-\(SHA256.hex(of: input).prefix(16)).h5", contents: Data(input))
        }
    }
}

var shardDefects = ShardDefects()

let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String) -> String? {
    guard let i = arguments.firstIndex(of: "--" + name), i + 1 < arguments.count else { return nil }
    return arguments[i + 1]
}
if arguments.first == "shard-one", arguments.count == 2 {
    do {
        let reader = try ShardReader(ShardFile(path: arguments[1], relativePath: "fuzz.h5"))
        try reader.forEachBatch { _ in }
        exit(0)
    } catch {
        exit(1)
    }
}
guard let which = arguments.first, !which.hasPrefix("--") else {
    print("usage: pairs-fuzz wire|exactsum|journal|shard|all --seconds S [--corpus DIR] [--seed N]")
    exit(64)
}
let seconds = option("seconds").flatMap(Double.init) ?? 10
let corpusRoot = option("corpus") ?? "Fuzz/corpus"
let targets = which == "all" ? ["wire", "exactsum", "journal", "shard"] : [which]
var mutator = Mutator(rng: SeededGenerator(seed: option("seed").flatMap(UInt64.init) ?? 1))
let crashers = corpusRoot + "/../crashers"
var total = 0
do {
    for target in targets {
        let directory = corpusRoot + "/" + target
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var corpus = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
            .map { try [UInt8](Data(contentsOf: URL(fileURLWithPath: directory + "/" + $0))) }
        if corpus.isEmpty {
            corpus = try seeds(target)
            for (i, entry) in corpus.enumerated() { try Data(entry).write(to: URL(fileURLWithPath: directory + String(format: "/seed-%02d", i))) }
        }
        let scratch = NSTemporaryDirectory() + "pairs-fuzz-\(getpid()).h5"
        try FileManager.default.createDirectory(atPath: crashers, withIntermediateDirectories: true)
        let budget = seconds / Double(targets.count)
        let start = Date()
        var executions = 0, accepted = 0
        // Every corpus entry as is first, then mutations until the time is up.
        for entry in corpus where try run(target, entry, scratch: scratch) { accepted += 1 }
        while Date().timeIntervalSince(start) < budget {
            for _ in 0..<64 {
                let input = mutator.mutate(corpus[mutator.below(corpus.count)], other: corpus[mutator.below(corpus.count)])
                if try run(target, input, scratch: scratch) { accepted += 1 }
                executions += 1
            }
        }
        try? FileManager.default.removeItem(atPath: scratch)
        total += executions
        let defects = target == "shard" && !shardDefects.counts.isEmpty
            ? "; libhdf5 " + shardDefects.counts.sorted { $0.key < $1.key }.map { "\($0.key)ed on \($0.value)" }.joined(separator: ", ")
              + " inputs (saved in \(crashers))"
            : ""
        print(String(format: "%@: %d executions in %.1f s (%.0f/s), %d accepted, no crash of pairs' code", target, executions,
                     Date().timeIntervalSince(start), Double(executions) / Date().timeIntervalSince(start), accepted) + defects)
        fflush(nil)
    }
    print("total: \(total) executions")
} catch {
    print("pairs-fuzz: \(error)")
    exit(1)
}

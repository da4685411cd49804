import Foundation
import Testing
import ExactSum
import ZeroMQ
@testable import Cluster

/// A `pairs` process whose standard error is collected line by line while it runs.
final class Running: @unchecked Sendable {  // `lines` is guarded by `lock`
    let process = Process()
    private let lock = NSLock()
    private var lines: [String] = []
    private var buffer = Data()
    let stdout = Pipe()

    init(_ arguments: [String]) throws {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        process.executableURL = directory.appendingPathComponent("pairs")
        process.arguments = arguments
        let stderr = Pipe()
        process.standardError = stderr
        process.standardOutput = stdout
        stderr.fileHandleForReading.readabilityHandler = { [weak self] handle in
            guard let self else { return }
            let data = handle.availableData
            self.lock.lock()
            self.buffer.append(data)
            while let newline = self.buffer.firstIndex(of: 10) {
                self.lines.append(String(decoding: self.buffer[..<newline], as: UTF8.self))
                self.buffer.removeSubrange(...newline)
            }
            self.lock.unlock()
        }
        try process.run()
    }

    var log: [String] { lock.lock(); defer { lock.unlock() }; return lines }

    /// Waits until a log line contains `text`; returns the line.
    func waitFor(_ text: String, timeout: Double = 60) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let line = log.first(where: { $0.contains(text) }) { return line }
            usleep(20_000)
        }
        return nil
    }

    func wait(timeout: Double = 120) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { process.terminate(); return nil }
        return process.terminationStatus
    }
}

/// report.json without its `run` object, re-serialised with sorted keys (values parsed exactly).
func reportWithoutRun(_ directory: String) throws -> Data {
    var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/report.json"))) as? [String: Any])
    object["run"] = nil
    return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
}

func report(_ directory: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/report.json"))) as? [String: Any])
}

let repositoryModel = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("examples/models/gaussian-random.h5").path

@Suite(.serialized) struct DistributedRunTests {
    @Test func reportsAreIdenticalAcrossWorkerCountsItemSizesAndShardOrder() throws {
        let d = temporaryDirectory()
        #expect(try pairs("simulate", "--out", d + "/s", "--events", "300000", "--shards", "5", "--layout", "compound").status == 0)
        // A list file naming the shards in shuffled order.
        let names = (0..<5).map { String(format: "s/shard-%04d.h5", $0) }
        try ([names[3], names[0], names[4], names[2], names[1]].joined(separator: "\n") + "\n").write(toFile: d + "/shuffled.list", atomically: true, encoding: .utf8)
        let runs: [(String, [String])] = [
            ("one", ["--shards", d + "/s", "--workers", "1", "--items-rows", "1000000"]),
            ("three", ["--shards", d + "/s", "--workers", "3", "--items-rows", "5000"]),
            ("shuffled", ["--shards", d + "/shuffled.list", "--workers", "2", "--items-rows", "777"]),
            ("threads", ["--shards", d + "/s", "--workers", "1", "--threads", "2", "--items-rows", "3000", "--batch-size", "1000"]),
        ]
        var reports: [Data] = []
        for (name, options) in runs {
            let result = try pairs(["run", "--model", repositoryModel, "--out", d + "/" + name] + options)
            #expect(result.status == 0, "\(name): \(result.stderr.suffix(500))")
            reports.append(try reportWithoutRun(d + "/" + name))
        }
        #expect(reports[0] == reports[1])
        #expect(reports[0] == reports[2])
        #expect(reports[0] == reports[3])
        let r = try report(d + "/three")
        #expect(r["events_total"] as? Int == 300_000)
        #expect((r["run"] as? [String: Any])?["worker_count"] as? Int == 3)
        #expect(((r["embedding"] as? [String: Any])?["sum"] as? [Double])?.count == 8)
    }

    @Test func aKilledWorkersItemsAreRedoneAndALateWorkerJoins() throws {
        let d = temporaryDirectory()
        #expect(try pairs("simulate", "--out", d + "/s", "--events", "3200000", "--shards", "4").status == 0)
        #expect(try pairs("run", "--shards", d + "/s", "--model", repositoryModel, "--out", d + "/reference", "--workers", "2").status == 0)
        let coordinator = try Running(["coordinator", "--bind", "tcp://127.0.0.1:*", "--shards", d + "/s", "--model", repositoryModel,
                                       "--out", d + "/killed", "--items-rows", "20000", "--heartbeat-ms", "200", "--liveness", "3"])
        let listening = try #require(coordinator.waitFor("listening on "))
        let endpoint = String(listening[listening.range(of: "listening on ")!.upperBound...])
        let first = try Running(["worker", "--connect", endpoint])
        #expect(coordinator.waitFor("joined from") != nil)
        usleep(200_000)  // well inside the ~2 s the lone worker needs for 160 items: it holds some when killed
        kill(first.process.processIdentifier, SIGKILL)
        #expect(coordinator.waitFor("re-queued items", timeout: 30) != nil, "the coordinator noticed the lost worker")
        let second = try Running(["worker", "--connect", endpoint])
        #expect(coordinator.wait() == 0)
        #expect(second.wait(timeout: 30) == 0)
        #expect(try reportWithoutRun(d + "/killed") == (try reportWithoutRun(d + "/reference")))
        let items = try #require((try report(d + "/killed")["run"] as? [String: Any])?["items"] as? [String: Any])
        #expect((items["released"] as? Int ?? 0) >= 1)
    }

    @Test func aCoordinatorKilledMidRunResumesFromItsJournalWithAnIdenticalReport() throws {
        let d = temporaryDirectory()
        #expect(try pairs("simulate", "--out", d + "/s", "--events", "400000", "--shards", "4", "--seed", "8").status == 0)
        #expect(try pairs("run", "--shards", d + "/s", "--model", repositoryModel, "--out", d + "/reference", "--workers", "2").status == 0)
        let options = ["--shards", d + "/s", "--model", repositoryModel, "--out", d + "/resumed", "--items-rows", "1024", "--journal", d + "/run.journal"]
        let coordinator = try Running(["coordinator", "--bind", "tcp://127.0.0.1:*"] + options)
        let listening = try #require(coordinator.waitFor("listening on "))
        let worker = try Running(["worker", "--connect", String(listening[listening.range(of: "listening on ")!.upperBound...])])
        // SIGKILL the coordinator once some (not all) of the 392 items are on disk.
        let deadline = Date().addingTimeInterval(60)
        while ((try? FileManager.default.attributesOfItem(atPath: d + "/run.journal")[.size] as? Int) ?? 0) < 20_000 && Date() < deadline {
            usleep(1_000)
        }
        kill(coordinator.process.processIdentifier, SIGKILL)
        kill(worker.process.processIdentifier, SIGKILL)
        _ = coordinator.wait(); _ = worker.wait()
        let before = try Journal.read(d + "/run.journal")
        #expect(before.records.count > 0 && before.records.count < 392, "killed mid-run: \(before.records.count) records")

        let result = try pairs(["run", "--workers", "2"] + options)
        #expect(result.status == 0, "\(result.stderr.suffix(500))")
        #expect(result.stderr.contains("journal \(d)/run.journal: replayed"))
        #expect(try reportWithoutRun(d + "/resumed") == (try reportWithoutRun(d + "/reference")))
        let merged = try Journal.read(d + "/run.journal").records.compactMap { if case .merged(let p, _) = $0 { return p.item } else { return nil } }
        #expect(merged.count == 392 && Set(merged).count == 392, "every item merged exactly once")

        // The journal belongs to this run: another item size (another plan) or model is refused.
        let other = try pairs("run", "--shards", d + "/s", "--model", repositoryModel, "--out", d + "/other", "--workers", "1",
                              "--items-rows", "2048", "--journal", d + "/run.journal")
        #expect(other.status != 0 && other.stderr.contains("written for other shards or another item size"))
    }

    @Test func curveLetsInOnlyAllowedWorkersAndAWrongCoordinatorKeyFailsFast() throws {
        let d = temporaryDirectory()
        try FileManager.default.createDirectory(atPath: d + "/allowed", withIntermediateDirectories: true)
        for prefix in ["coordinator", "allowed/w1", "stranger", "impostor"] {
            #expect(try pairs("keygen", "--out", d + "/" + prefix).status == 0)
        }
        let mode = try FileManager.default.attributesOfItem(atPath: d + "/coordinator.key")[.posixPermissions] as? Int
        #expect(mode == 0o600, "the secret key is owner-only")
        #expect(try pairs("simulate", "--out", d + "/s", "--events", "50000", "--shards", "2").status == 0)
        #expect(try pairs("run", "--shards", d + "/s", "--model", repositoryModel, "--out", d + "/reference", "--workers", "1").status == 0)
        let coordinator = try Running(["coordinator", "--bind", "tcp://127.0.0.1:*", "--shards", d + "/s", "--model", repositoryModel,
                                       "--out", d + "/curve", "--curve-secret", d + "/coordinator.key", "--allowed-workers", d + "/allowed"])
        let listening = try #require(coordinator.waitFor("listening on "))
        let endpoint = String(listening[listening.range(of: "listening on ")!.upperBound...])

        // A worker whose key is not allowed: refused by the ZAP handler, a clear error, nothing merged.
        let started = Date()
        let stranger = try pairs("worker", "--connect", endpoint, "--curve-secret", d + "/stranger.key", "--coordinator-key", d + "/coordinator.pub")
        #expect(stranger.status == 1 && stranger.stderr.contains("refused this worker's CURVE key"))
        // A worker holding the wrong coordinator key: a handshake error within seconds, not a hang.
        let lost = try pairs("worker", "--connect", endpoint, "--curve-secret", d + "/allowed/w1.key", "--coordinator-key", d + "/impostor.pub")
        #expect(lost.status == 1 && lost.stderr.contains("CURVE handshake"))
        #expect(Date().timeIntervalSince(started) < 15, "both failures are reported within seconds")
        #expect(coordinator.log.contains { $0.contains("is not in --allowed-workers") })

        let allowed = try Running(["worker", "--connect", endpoint, "--curve-secret", d + "/allowed/w1.key", "--coordinator-key", d + "/coordinator.pub"])
        #expect(coordinator.wait() == 0)
        #expect(allowed.wait(timeout: 30) == 0)
        #expect(try reportWithoutRun(d + "/curve") == (try reportWithoutRun(d + "/reference")))
        #expect((try report(d + "/curve")["run"] as? [String: Any])?["refused_workers"] as? Int == 1)
    }

    @Test func corruptShardsAreListedAndTheRunIsPartial() throws {
        let d = temporaryDirectory()
        #expect(try pairs("simulate", "--out", d + "/s", "--events", "120000", "--shards", "3", "--seed", "5").status == 0)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: d + "/s/shard-0000.h5"))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: d + "/s/truncated.h5"))
        var damaged = bytes
        let middle = damaged.count / 2
        damaged.replaceSubrange(middle..<middle + 512, with: Data(repeating: 0x5A, count: 512))
        try damaged.write(to: URL(fileURLWithPath: d + "/s/damaged.h5"))
        let result = try pairs("run", "--shards", d + "/s", "--model", repositoryModel, "--out", d + "/out", "--workers", "2",
                               "--items-rows", "8192", "--heartbeat-ms", "200")
        #expect(result.status == 2, "partial result: \(result.stderr.suffix(800))")
        #expect(result.stdout.contains("PARTIAL: 2 of 5 shards failed"))
        let r = try report(d + "/out")
        #expect(r["complete"] as? Bool == false)
        let failures = try #require(r["failures"] as? [[String: String]])
        #expect(failures.map { $0["shard"]! } == ["damaged.h5", "truncated.h5"])
        #expect(failures[1]["reason"]!.contains("truncated file"))
        #expect(failures[0]["reason"]!.contains("reading failed"))
        let events = try #require(r["events_total"] as? Int)
        // Three good shards of 40,000 events plus the undamaged items of the damaged copy of shard 0.
        #expect(events > 120_000 && events < 160_000, "only merged events count: \(events)")
    }

    @Test func workersAnnounceNodeLocalShards() throws {
        let d = temporaryDirectory()
        #expect(try pairs("simulate", "--out", d + "/local", "--events", "50000", "--shards", "2").status == 0)
        #expect(try pairs("run", "--shards", d + "/local", "--model", repositoryModel, "--out", d + "/reference", "--workers", "1").status == 0)
        let coordinator = try Running(["coordinator", "--bind", "tcp://127.0.0.1:*", "--expect-workers", "1", "--model", repositoryModel,
                                       "--out", d + "/out", "--items-rows", "10000"])
        let listening = try #require(coordinator.waitFor("listening on "))
        let endpoint = String(listening[listening.range(of: "listening on ")!.upperBound...])
        let worker = try Running(["worker", "--connect", endpoint, "--shards", d + "/local"])
        #expect(coordinator.wait() == 0)
        #expect(worker.wait(timeout: 30) == 0)
        #expect(coordinator.log.contains { $0.contains("announced 2 local shards") })
        let r = try report(d + "/out"), reference = try report(d + "/reference")
        #expect(r["events_total"] as? Int == 50_000)
        let host = ProcessInfo.processInfo.hostName
        #expect((r["shards"] as? [[String: Any]])?.compactMap { $0["path"] as? String } == ["\(host):shard-0000.h5", "\(host):shard-0001.h5"])
        #expect((r["embedding"] as? [String: Any])?["sum"] as? [Double] == (reference["embedding"] as? [String: Any])?["sum"] as? [Double])
    }

    @Test func aWrongModelIsRefusedAndGarbageFramesAreDropped() throws {
        let d = temporaryDirectory()
        #expect(try pairs("simulate", "--out", d + "/s", "--events", "200000", "--shards", "2").status == 0)
        #expect(try pairs("run", "--shards", d + "/s", "--model", repositoryModel, "--out", d + "/reference", "--workers", "1").status == 0)
        let coordinator = try Running(["coordinator", "--bind", "tcp://127.0.0.1:*", "--shards", d + "/s", "--model", repositoryModel,
                                       "--out", d + "/out", "--items-rows", "10000", "--heartbeat-ms", "200"])
        let listening = try #require(coordinator.waitFor("listening on "))
        let endpoint = String(listening[listening.range(of: "listening on ")!.upperBound...])

        // A worker bringing another model is refused and exits 1.
        let other = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/models/parity.h5").path
        let wrong = try Running(["worker", "--connect", endpoint, "--model", other])
        #expect(wrong.wait(timeout: 30) == 1)
        #expect(wrong.log.contains { $0.contains("refused by the coordinator: model digest mismatch") })

        // 10,000 random and mutated frames from a peer that never joins.
        let context = try Context()
        let fuzzer = try Socket(context, type: .dealer)
        try fuzzer.set(.linger(.zero))
        try fuzzer.connect(endpoint)
        var rng = SystemRandomNumberGenerator()
        let valid = [WorkerMessage.request(credits: 2).frames(), WorkerMessage.heartbeat.frames(),
                     WorkerMessage.partial(Partial(item: 0, events: 10000, nonFinite: [0], sums: [ExactSum](repeating: ExactSum(), count: 8))).frames()]
        var badVersion = WorkerMessage.ready(.init(workerID: "x", host: "h", pid: 1, threads: 1, modelDigest: "", blasCore: "")).frames()
        badVersion[0][4] = 7
        for i in 0..<10_000 {
            var frames: [[UInt8]]
            switch i % 4 {
            case 0: frames = (0..<Int.random(in: 0...3, using: &rng)).map { _ in (0..<Int.random(in: 0...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) } }
            case 1: frames = badVersion
            default:
                frames = valid[i % valid.count]
                let f = Int.random(in: 0..<frames.count, using: &rng)
                if !frames[f].isEmpty { frames[f][Int.random(in: 0..<frames[f].count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng) }
            }
            if frames.isEmpty { frames = [[]] }
            try fuzzer.send(multipart: frames.map { (f) throws(ZMQError) in try Message(f) })
        }

        // A good worker then completes the run with the right result.
        let good = try Running(["worker", "--connect", endpoint])
        #expect(coordinator.wait() == 0)
        #expect(good.wait(timeout: 30) == 0)
        #expect(try reportWithoutRun(d + "/out") == (try reportWithoutRun(d + "/reference")))
        let run = try #require(try report(d + "/out")["run"] as? [String: Any])
        #expect((run["dropped_messages"] as? Int ?? 0) >= 7_000)
        #expect((run["refused_workers"] as? Int ?? 0) >= 1)
        #expect(coordinator.log.contains { $0.contains("dropped malformed message") })
    }
}

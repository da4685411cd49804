// pairs-bench: measured figures for the benchmarks in Benchmarks/ (run in release mode, one thread).
//
//   swift run -c release pairs-bench embedder [--seconds S] [--out FILE.md]
//
// `embedder` times the workers' hot loop — the reference embedder 16→128→128→64 ReLU applied by
// `Embedder` (standardisation, 256-row GEMM blocks, fused bias+ReLU) — against the roofline for the same
// shapes: the bare OpenBLAS sgemm chain (three GEMMs, nothing else) on 256-row blocks and on 4096-row blocks.
import Foundation
import Numerics
import PairsCore
import ExactSum
import Cluster
import HDF5
import ZeroMQ
import ClusterZMQ
import Synchronization

/// Best of `repeats` runs of `body` (each ≥ `seconds`), as events per second.
func measure(events: Int, seconds: Double, repeats: Int = 3, _ body: () -> Void) -> Double {
    var best = 0.0
    for _ in 0..<repeats {
        var done = 0
        let start = DispatchTime.now().uptimeNanoseconds
        var elapsed = 0.0
        repeat {
            body()
            done += events
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        } while elapsed < seconds
        best = max(best, Double(done) / elapsed)
    }
    return best
}

func embedderBenchmark(seconds: Double) -> String {
    BLAS.configure()
    var rng = SeededGenerator(seed: 1)
    let sizes = [16, 128, 128, 64]
    var network = MLP<Float>(sizes: sizes, hidden: .relu, output: .identity, using: &rng)
    network.inputMean = (0..<16).map { _ in Float(rng.normal()) }
    network.inputStd = (0..<16).map { _ in Float(rng.uniform(in: 0.5...2)) }
    let n = 65_536
    let events = Matrix<Float>(rows: n, columns: 16, values: (0..<n * 16).map { _ in Float(rng.normal()) })
    let batch = EventBatch(values: events)

    // The embedder as the worker runs it; the consumer sums one column so nothing is optimised away.
    let embedder = Embedder(network)
    var sink: Float = 0
    let embedRate = measure(events: n, seconds: seconds) {
        embedder.embed(batch) { _, e in sink += e[0] }
    }

    // Roofline: the same three GEMMs and nothing else, on blocks of `block` rows.
    func chainRate(block: Int) -> Double {
        var input = Matrix<Float>(rows: block, columns: 16)
        var h1 = Matrix<Float>(rows: block, columns: 128), h2 = Matrix<Float>(rows: block, columns: 128)
        var out = Matrix<Float>(rows: block, columns: 64)
        input.withUnsafeMutableBufferPointer { dst in events.withUnsafeBufferPointer { src in _ = dst.update(fromContentsOf: src[0..<block * 16]) } }
        return measure(events: n, seconds: seconds) {
            for _ in 0..<(n / block) {
                gemm(input, network.layers[0].weight, into: &h1, transposeB: .transposed)
                gemm(h1, network.layers[1].weight, into: &h2, transposeB: .transposed)
                gemm(h2, network.layers[2].weight, into: &out, transposeB: .transposed)
            }
            sink += out[0, 0]
        }
    }
    let roof256 = chainRate(block: Embedder.blockRows)
    let roof4096 = chainRate(block: 4096)
    let flops = 2.0 * Double(16 * 128 + 128 * 128 + 128 * 64)
    func row(_ name: String, _ rate: Double) -> String {
        String(format: "| %@ | %.3f M | %.1f | %.2f | %.2f |", name, rate / 1e6, rate * flops / 1e9, rate / roof256, rate / roof4096)
    }
    let date = ISO8601DateFormatter().string(from: Date())
    return """
    # Embedder forward vs OpenBLAS sgemm roofline (one thread), \(date)

    Reference embedder 16→128→128→64 ReLU, Float32, 65,536 events per pass, best of 3 runs of ≥ \(seconds) s.
    OpenBLAS core: \(BLAS.coreName); \(ProcessInfo.processInfo.activeProcessorCount) cores on the machine, one used.

    | what | events/s | GFLOP/s | ÷ sgemm chain (256-row blocks) | ÷ sgemm chain (4096-row blocks) |
    |---|---:|---:|---:|---:|
    \(row("pairs Embedder (standardise + 256-row GEMM blocks + bias/ReLU)", embedRate))
    \(row("sgemm chain, 256-row blocks (roofline for the embedder's shapes)", roof256))
    \(row("sgemm chain, 4096-row blocks", roof4096))

    (checksum \(sink.isFinite ? "finite" : "non-finite"))
    """
}

/// Exact pooling cost: `ExactBlockSum` on 256-row × 64-column blocks of embedding-like values, against a
/// plain (vectorised, inexact) Double sum of the same blocks, and as a share of the embedder's time per event.
func exactSumBenchmark(seconds: Double) -> String {
    var rng = SeededGenerator(seed: 2)
    let rows = 256, columns = 64, blocks = 64
    // Embedding-like values: normal O(1) values (a linear output layer puts ~1e-6 of them in the window's
    // tail); the adversarial set plants a ~1e-9 value every 997 values, forcing column re-scans.
    let values = (0..<rows * columns * blocks).map { _ in Float(rng.normal()) }
    let adversarial = values.enumerated().map { $0.offset % 997 == 0 ? $0.element * 1e-9 : $0.element }
    var sums = [ExactSum](repeating: ExactSum(), count: columns)
    var adder = ExactBlockSum(columns: columns)
    let perPass = rows * columns * blocks
    func exact(_ data: [Float]) -> Double {
        measure(events: perPass, seconds: seconds) {
            data.withUnsafeBufferPointer { all in
                for b in 0..<blocks {
                    _ = adder.add(UnsafeBufferPointer(rebasing: all[b * rows * columns..<(b + 1) * rows * columns]), rows: 0..<rows, into: &sums)
                }
            }
        }
    }
    let exactRate = exact(values), adversarialRate = exact(adversarial)
    var plain = [Double](repeating: 0, count: columns)
    let plainRate = measure(events: perPass, seconds: seconds) {
        values.withUnsafeBufferPointer { all in
            plain.withUnsafeMutableBufferPointer { acc in
                for r in 0..<rows * blocks {
                    for c in 0..<columns { acc[c] += Double(all[r * columns + c]) }
                }
            }
        }
    }
    // Share of a worker's time: the embedder runs ~1.1 M events/s here; each event adds 64 values.
    let embedEventsPerSecond = 1.1e6
    let share = (embedEventsPerSecond * 64 / exactRate) / (1 + embedEventsPerSecond * 64 / exactRate)
    let date = ISO8601DateFormatter().string(from: Date())
    return """
    # Exact pooling vs plain Double sum (one thread), \(date)

    256-row × 64-column Float32 blocks of N(0, 1) values, best of 3; "adversarial" puts a ~1e-9 value (outside
    the 22-binade window) every 997 values, so most columns of every block need a second, scalar pass.

    | what | values/s | ns/value |
    |---|---:|---:|
    | ExactBlockSum (exact, canonical) | \(String(format: "%.0f M", exactRate / 1e6)) | \(String(format: "%.2f", 1e9 / exactRate)) |
    | ExactBlockSum, adversarial values | \(String(format: "%.0f M", adversarialRate / 1e6)) | \(String(format: "%.2f", 1e9 / adversarialRate)) |
    | plain Double sum (inexact, order-dependent) | \(String(format: "%.0f M", plainRate / 1e6)) | \(String(format: "%.2f", 1e9 / plainRate)) |

    At 1.1 M events/s of embedding (64 dims), exact pooling takes \(String(format: "%.1f", share * 100)) % of a worker thread's time.
    (checksum \(sums[0].doubleValue + plain[0] == 0 ? "zero" : "nonzero"))
    """
}

/// The reference model: embedder 16→128→128→64 ReLU with random weights, a one-parameter head.
func referenceModel() throws -> ModelBundle {
    var rng = SeededGenerator(seed: 3)
    var embedder = MLP<Float>(sizes: [16, 128, 128, 64], hidden: .relu, using: &rng)
    embedder.inputStd = [Float](repeating: 1, count: 16)
    return try ModelBundle(metadata: ModelMetadata(features: (0..<16).map { String(format: "f%02d", $0) },
                                                   parameters: [Parameter(name: "mu", role: .poi, bounds: -1...1)],
                                                   setSizeRange: 1...1_000_000, provenance: "benchmark: random weights"),
                           embedder: embedder, head: MLP(sizes: [65, 32, 2], hidden: .relu, using: &rng))
}

/// One worker thread's end-to-end rate on reference shards (read → embed → exact pooling), with the split
/// of its time, for an uncompressed and a shuffle+gzip shard of 2^20 events × 16 Float32 features.
func workerBenchmark(seconds: Double) throws -> String {
    let model = try referenceModel()
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pairs-bench-\(getpid())").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let events = 1 << 20
    var rows: [String] = []
    for (name, storage) in [("uncompressed", ShardWriter.Storage.contiguous), ("shuffle+gzip(4)", ShardWriter.Storage())] {
        let path = directory + "/\(name.prefix(4)).h5"
        let writer = try ShardWriter(path: path, layout: .matrix, columns: model.metadata.features.map { .init($0, .float32) },
                                     events: events, storage: storage)
        var rng = SeededGenerator(seed: 5)
        for start in stride(from: 0, to: events, by: 65_536) {
            try writer.write(rows: start..<start + 65_536, values: (0..<65_536 * 16).map { _ in rng.normal() })
        }
        try writer.finish()
        let pooler = ShardPooler(model: model, options: ShardReadOptions())
        var best: PoolResult? = nil, bestSeconds = Double.infinity
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            let t0 = Date()
            let result = try pooler.pool(ShardFile(path: path, relativePath: name))
            let elapsed = Date().timeIntervalSince(t0)
            if elapsed < bestSeconds { bestSeconds = elapsed; best = result }
        } while Date() < deadline
        let r = best!
        let total = r.readSeconds + r.embedSeconds + r.accumulateSeconds
        rows.append(String(format: "| %@ | %.3f M | %.0f %% | %.0f %% | %.1f %% |", name, Double(events) / bestSeconds / 1e6,
                           100 * r.readSeconds / total, 100 * r.embedSeconds / total, 100 * r.accumulateSeconds / total))
    }
    return """
    # Worker throughput per thread (reference embedder), \(ISO8601DateFormatter().string(from: Date()))

    One thread, 2^20 events × 16 Float32 features, embedder 16→128→128→64 ReLU, exact pooling of 64 sums;
    best pass of ≥ \(seconds) s. OpenBLAS core: \(BLAS.coreName).

    | shard | events/s | read | embed | accumulate |
    |---|---:|---:|---:|---:|
    \(rows.joined(separator: "\n"))
    """
}

/// The coordinator's merge of 1,000 partials of 64 exact sums: decoding, validation, exact merge, ledger.
func mergeBenchmark() throws -> String {
    let model = try referenceModel()
    var plan = RunPlan(rowsPerItem: 256)
    plan.add(PlannedShard(file: ShardFile(path: "/bench.h5", relativePath: "bench.h5"), events: 256 * 1000))
    var rng = SeededGenerator(seed: 6)
    let partials: [[[UInt8]]] = (0..<1000).map { i in
        var sums = [ExactSum](repeating: ExactSum(), count: 64)
        for j in 0..<64 { for _ in 0..<4 { sums[j].add(Float(rng.normal() * 30)) } }
        return WorkerMessage.partial(Partial(item: UInt64(i), shardSize: 1, shardModified: 1, events: 256,
                                             nonFinite: [UInt64](repeating: 0, count: 16), sums: sums)).frames()
    }
    var times: [Double] = []
    for _ in 0..<5 {
        let core = CoordinatorCore(plan: plan, model: model, modelBytes: [], configuration: .init(runID: "bench"), now: 0, log: { _ in })
        _ = core.receive(WorkerMessage.ready(.init(workerID: "w", host: "h", pid: 1, threads: 250, modelDigest: model.digest, blasCore: "")).frames(),
                         from: [1], now: 0)
        _ = core.receive(WorkerMessage.request(credits: 1004).frames(), from: [1], now: 0)
        let t0 = DispatchTime.now().uptimeNanoseconds
        for frames in partials { _ = core.receive(frames, from: [1], now: 0) }
        times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        precondition(core.isFinished, "all partials merged")
    }
    return """
    # Coordinator merge of 1,000 partials × 64 dims, \(ISO8601DateFormatter().string(from: Date()))

    Decode + validate + exact merge + ledger for 1,000 PARTIAL messages of 64 exact sums (CoordinatorCore,
    no sockets): best \(String(format: "%.1f", times.min()!)) ms, median \(String(format: "%.1f", times.sorted()[2])) ms over 5 runs (target < 100 ms).
    """
}

/// The coordinator's merge rate over real sockets: `workers` DEALER sockets dial a `CoordinatorServer` on
/// loopback, each joins, takes one work item and, once all hold one, sends its PARTIAL of 64 exact sums; timed
/// from the first PARTIAL sent to the last ACK received (decode, validate, exact merge, ledger, ACK round trip).
func loopbackMergeBenchmark(workers: Int) throws -> String {
    let model = try referenceModel()
    var plan = RunPlan(rowsPerItem: 256)
    plan.add(PlannedShard(file: ShardFile(path: "/bench.h5", relativePath: "bench.h5"), events: 256 * workers))
    // Heartbeats every 250 ms, a worker silent for 5 s is lost (long enough for this process to open all the
    // sockets): the 6 s idle phase below checks that heart-beating keeps all of them alive before the burst.
    let lost = Mutex(0)
    let core = CoordinatorCore(plan: plan, model: model, modelBytes: [],
                               configuration: .init(runID: "bench", heartbeatMilliseconds: 250, liveness: 20),
                               now: Date().timeIntervalSince1970, log: { line in if line.contains(" lost: ") { lost.withLock { $0 += 1 } } })
    // Separate contexts: libzmq allows 1023 sockets per context by default.
    let serverContext = try Context(), clientContext = try Context(ioThreads: 2)
    let server = try CoordinatorServer(core: core, bind: "tcp://127.0.0.1:*", context: serverContext, log: { _ in })
    nonisolated(unsafe) let serving = server  // owned by the server thread until it finishes
    let serverThread = Thread { _ = try? serving.run(grace: 0.2) }
    serverThread.start()

    var sockets: [Socket] = []
    for i in 0..<workers {
        let socket = try Socket(clientContext, type: .dealer)
        try socket.connect(server.endpoint)
        let ready = WorkerMessage.ready(.init(workerID: "w\(i)", host: "bench", pid: i, threads: 1, modelDigest: model.digest, blasCore: ""))
        _ = try socket.send(multipart: (ready.frames() ).map { (f) throws(ZMQError) in try Message(f) })
        _ = try socket.send(multipart: WorkerMessage.request(credits: 1).frames().map { (f) throws(ZMQError) in try Message(f) })
        sockets.append(socket)
    }
    let poller = Poller()
    for socket in sockets { _ = poller.register(socket) }
    /// Receives until `done` holds for every socket, handing each decoded message to `handle`.
    func drain(until done: () -> Bool, _ handle: (Int, CoordinatorMessage) -> Void) throws {
        let deadline = Date().addingTimeInterval(60)
        while !done() {
            guard Date() < deadline else { throw BenchError("the coordinator did not answer all \(workers) workers within 60 s") }
            _ = try poller.poll(timeout: .milliseconds(100))
            for (i, socket) in sockets.enumerated() where poller.events(at: i).contains(.readable) {
                while let frames = try socket.receiveMultipart(dontWait: true) {
                    handle(i, try CoordinatorMessage.decode(frames.map(\.bytes)))
                }
            }
        }
    }
    let heartbeat = WorkerMessage.heartbeat.frames()
    var heartbeatsAnswered = 0
    func answer(_ i: Int, _ message: CoordinatorMessage) {
        guard case .heartbeat = message else { return }
        // Fresh frames for every send: sending a Message hands its bytes to libzmq.
        if let frames = try? heartbeat.map({ (f) throws(ZMQError) in try Message(f) }),
           (try? sockets[i].send(multipart: frames, dontWait: true)) != nil { heartbeatsAnswered += 1 }
    }
    var items = [UInt64?](repeating: nil, count: workers)
    try drain(until: { !items.contains(nil) }) { i, message in
        if case .assign(let a) = message { items[i] = a.item } else { answer(i, message) }
    }
    // Idle: every worker holds its item; only heartbeats flow, for 6 s (24 intervals, longer than the 5 s liveness).
    let idleUntil = Date().addingTimeInterval(6)
    try drain(until: { Date() >= idleUntil }, answer)
    let lostWhileIdle = lost.withLock { $0 }

    var rng = SeededGenerator(seed: 6)
    let partials: [[Message]] = try items.map { item in
        var sums = [ExactSum](repeating: ExactSum(), count: 64)
        for j in 0..<64 { for _ in 0..<4 { sums[j].add(Float(rng.normal() * 30)) } }
        return try WorkerMessage.partial(Partial(item: item!, shardSize: 1, shardModified: 1, events: 256,
                                                 nonFinite: [UInt64](repeating: 0, count: 16), sums: sums))
            .frames().map { (f) throws(ZMQError) in try Message(f) }
    }
    let bytes = partials[0].reduce(0) { $0 + $1.bytes.count }
    var acked = 0
    var ackTimes: [Double] = []
    let t0 = DispatchTime.now().uptimeNanoseconds
    for (socket, frames) in zip(sockets, partials) { _ = try socket.send(multipart: frames) }
    try drain(until: { acked == workers }) { i, message in
        if case .ack = message { acked += 1; ackTimes.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6) } else { answer(i, message) }
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    while !serverThread.isFinished { usleep(10_000) }
    precondition(core.isFinished, "all partials merged")
    return """
    # Coordinator merge over loopback: \(workers) workers, \(ISO8601DateFormatter().string(from: Date()))

    \(workers) DEALER sockets on 127.0.0.1 (one process, 2 I/O threads) each send one PARTIAL of 64 exact sums
    (\(bytes) bytes) to a CoordinatorServer at once; first PARTIAL sent → last ACK received:
    \(String(format: "%.1f", seconds * 1000)) ms, **\(String(format: "%.0f", Double(workers) / seconds)) partials/s** (decode, validate, exact merge, ledger, ACK);
    half of the ACKs were back after \(String(format: "%.1f", ackTimes[workers / 2])) ms. Before that, 6 s idle with
    250 ms heartbeats (a worker silent for 5 s is lost): \(heartbeatsAnswered) heartbeats answered, \(lostWhileIdle) of \(workers) workers declared lost.
    """
}

/// Roofline for `threads` cores: each thread runs the bare sgemm chain of the reference shapes on its own
/// 4096-row blocks (one OpenBLAS thread each); the total events/s, as JSON for Benchmarks/run.sh.
func rooflineBenchmark(threads: Int, seconds: Double) -> String {
    BLAS.configure()
    let rates = Mutex([Double](repeating: 0, count: threads))
    DispatchQueue.concurrentPerform(iterations: threads) { t in
        var rng = SeededGenerator(seed: UInt64(10 + t))
        let network = MLP<Float>(sizes: [16, 128, 128, 64], hidden: .relu, output: .identity, using: &rng)
        let block = 4096
        let input = Matrix<Float>(rows: block, columns: 16, values: (0..<block * 16).map { _ in Float(rng.normal()) })
        var h1 = Matrix<Float>(rows: block, columns: 128), h2 = Matrix<Float>(rows: block, columns: 128)
        var out = Matrix<Float>(rows: block, columns: 64)
        let rate = measure(events: block * 16, seconds: seconds) {
            for _ in 0..<16 {
                gemm(input, network.layers[0].weight, into: &h1, transposeB: .transposed)
                gemm(h1, network.layers[1].weight, into: &h2, transposeB: .transposed)
                gemm(h2, network.layers[2].weight, into: &out, transposeB: .transposed)
            }
        }
        rates.withLock { $0[t] = rate }
    }
    let total = rates.withLock { $0.reduce(0, +) }
    return "{\"peer\": \"sgemm chain roofline\", \"threads\": \(threads), \"events_per_s\": \(total)}"
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard let command = arguments.first else {
    print("usage: pairs-bench embedder|exactsum|worker|merge [--seconds S] [--out FILE.md]")
    print("       pairs-bench merge-loopback [--workers W] [--out FILE.md] | roofline --threads T [--seconds S]")
    print("       pairs-bench reference-model --out BUNDLE.h5")
    exit(64)
}
func option(_ name: String) -> String? {
    guard let i = arguments.firstIndex(of: "--\(name)"), i + 1 < arguments.count else { return nil }
    return arguments[i + 1]
}
let seconds = option("seconds").flatMap(Double.init) ?? 2
switch command {
case "embedder":
    let table = embedderBenchmark(seconds: seconds)
    print(table)
    if let out = option("out") { try! (table + "\n").write(toFile: out, atomically: true, encoding: .utf8) }
case "exactsum":
    let table = exactSumBenchmark(seconds: seconds)
    print(table)
    if let out = option("out") { try! (table + "\n").write(toFile: out, atomically: true, encoding: .utf8) }
case "worker", "merge":
    let table = command == "worker" ? try workerBenchmark(seconds: seconds) : try mergeBenchmark()
    print(table)
    if let out = option("out") { try! (table + "\n").write(toFile: out, atomically: true, encoding: .utf8) }
case "merge-loopback":
    let table = try loopbackMergeBenchmark(workers: option("workers").flatMap(Int.init) ?? 1000)
    print(table)
    if let out = option("out") { try! (table + "\n").write(toFile: out, atomically: true, encoding: .utf8) }
case "roofline":
    print(rooflineBenchmark(threads: option("threads").flatMap(Int.init) ?? 1, seconds: seconds))
case "reference-model":
    guard let out = option("out") else { print("reference-model needs --out BUNDLE.h5"); exit(64) }
    try referenceModel().write(to: out)
    print("wrote \(out)")
default:
    print("unknown benchmark '\(command)'")
    exit(64)
}

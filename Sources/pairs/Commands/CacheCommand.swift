import Cluster
import Foundation
import PairsCore

/// `pairs cache`: pooled embeddings of K simulated sets, built by the coordinator/worker machinery.
enum CacheCommand: Command {
    static let spec = CommandSpec(
        name: "cache",
        summary: "Simulate K sets (N log-uniform), embed them with the frozen embedder on workers, store (θ, Σ t, N).",
        positionals: [],
        options: [
            .value("simulator", "NAME", "Built-in simulator (required)."),
            .value("model", "BUNDLE", "Model whose embedder is used (required)."),
            .value("sets", "K", "Number of sets (required)."),
            .value("n-min", "A", "Smallest set size (default 10)."),
            .value("n-max", "B", "Largest set size (default 100000)."),
            .value("out", "FILE", "Output cache file (required)."),
            .value("seed", "S", "Seed; set k is drawn from stream k (default 1)."),
            .value("workers", "K", "Local worker processes (default: number of cores; 0: only workers that connect)."),
            .value("threads", "T", "Compute threads per local worker (default 1)."),
            .value("bind", "ENDPOINT", "Coordinator endpoint (default tcp://127.0.0.1:*; bind a routable one for cluster workers)."),
            .value("heartbeat-ms", "MS", "Heartbeat interval (default 1000)."),
        ])

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        guard let name: String = try arguments.optional("simulator"), let modelPath: String = try arguments.optional("model"),
              let sets: Int = try arguments.optional("sets"), let out: String = try arguments.optional("out") else {
            throw UsageError("--simulator, --model, --sets and --out are required")
        }
        let spec = CacheSpec(simulator: name, sets: sets, minimumSize: try arguments.value("n-min", default: 10),
                             maximumSize: try arguments.value("n-max", default: 100_000), seed: try arguments.value("seed", default: 1))
        guard sets > 0, spec.minimumSize >= 1, spec.minimumSize <= spec.maximumSize else {
            throw UsageError("need --sets ≥ 1 and 1 ≤ --n-min ≤ --n-max")
        }
        let simulator = try Simulators.named(name)
        let model = try ModelBundle.load(modelPath)
        guard model.metadata.features == simulator.features else {
            throw UsageError("the model takes features \(model.metadata.features), simulator '\(name)' produces \(simulator.features)")
        }
        let workers: Int = try arguments.value("workers", default: ProcessInfo.processInfo.activeProcessorCount)
        let threads: Int = try arguments.value("threads", default: 1)
        let heartbeat: Int = try arguments.value("heartbeat-ms", default: 1000)
        let console = Console(prefix: "pairs cache")
        let plan = RunPlan(simulation: spec, simulator: simulator)
        console.log("\(sets) sets of \(spec.minimumSize)…\(spec.maximumSize) events (\(plan.shards.reduce(0) { $0 + $1.events }) in all)")
        var configuration = CoordinatorCore.Configuration(runID: UUID().uuidString, heartbeatMilliseconds: heartbeat)
        configuration.keepItems = true
        let core = CoordinatorCore(plan: plan, model: model, modelBytes: try [UInt8](Data(contentsOf: URL(fileURLWithPath: modelPath))),
                                   configuration: configuration, now: Date().timeIntervalSince1970, log: console.log)
        let local = LocalWorkers(console: console)
        defer { local.finish() }
        guard try serve(core, bind: try arguments.value("bind", default: "tcp://127.0.0.1:*"), console: console, listening: { endpoint in
            try local.start(workers, threads: threads, endpoint: endpoint, heartbeatMilliseconds: heartbeat)
        }, keepGoing: { workers == 0 || local.anyAlive() }) else {
            throw RunAbandoned(description: "the cache job was abandoned: no cache written")
        }
        guard core.ledger.failed == 0 else {
            throw RunAbandoned(description: "\(core.ledger.failed) sets failed (see the log above): no cache written")
        }
        let cached = (0..<sets).map { index in
            let pooled = core.itemResults[UInt64(index)]!
            return CachedSet(theta: spec.set(index, of: simulator).theta, count: pooled.events, sum: pooled.sum)
        }
        try EmbeddingCache(spec: spec, parameters: simulator.parameters.map(\.name), modelDigest: model.digest, sets: cached).write(to: out)
        emit("wrote \(out): \(sets) sets, \(cached.reduce(0) { $0 + $1.count }) events")
        return ExitStatus.success
    }
}

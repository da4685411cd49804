import Cluster
import ClusterZMQ
import Foundation
import PairsCore

/// `pairs worker`: joins a coordinator, processes work items, sends exact partial sums.
enum WorkerCommand: Command {
    static let spec = CommandSpec(
        name: "worker",
        summary: "Join a coordinator and process work items (read → embed → exact sums) until the run ends.",
        positionals: [],
        options: [
            .value("connect", "ENDPOINT", "The coordinator's endpoint, e.g. tcp://head-node:5555 (required)."),
            .value("threads", "T", "Compute threads, each with one OpenBLAS thread (default 1)."),
            .value("shards", "DIR|GLOB|LIST", "Shards on this node to announce; only this worker's host processes them."),
            .value("dataset", "PATH", "Dataset or group of the local shards (default: search)."),
            .value("model", "BUNDLE", "Use this model instead of the coordinator's (refused if the digests differ)."),
            .value("idle-timeout", "S", "Exit after S seconds without work, or without reaching a coordinator (default 300)."),
            .value("heartbeat-ms", "MS", "Heartbeat interval until the coordinator sets its own (default 1000)."),
        ])

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        guard let endpoint: String = try arguments.optional("connect") else { throw UsageError("--connect ENDPOINT is required") }
        let threads: Int = try arguments.value("threads", default: 1)
        let idle: Double = try arguments.value("idle-timeout", default: 300)
        guard threads > 0, idle > 0 else { throw UsageError("--threads and --idle-timeout must be positive") }
        let console = Console(prefix: "pairs worker \(getpid())")
        var local: [AnnouncedShard] = []
        if let spec: String = try arguments.optional("shards") {
            let options = ShardReadOptions(dataset: try arguments.optional("dataset"))
            for shard in try ShardDiscovery.find(spec).shards {
                do {
                    local.append(AnnouncedShard(path: shard.path, relativePath: shard.relativePath, events: try ShardReader(shard, options: options).events))
                } catch {
                    console.log("not announcing bad local shard: \(error)")
                }
            }
        }
        let model = try (try arguments.optional("model", as: String.self)).map { try ModelBundle.load($0) }
        let runtime = WorkerRuntime(options: .init(connect: endpoint, threads: threads, idleTimeout: idle, model: model, localShards: local,
                                                   heartbeatMilliseconds: try arguments.value("heartbeat-ms", default: 1000)),
                                    log: console.log)
        return try runtime.run()
    }
}

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
            .value("connect", "ENDPOINT", "The coordinator's endpoint, e.g. tcp://head-node:5555 (this or --connect-file)."),
            .value("connect-file", "FILE", "Read the endpoint from FILE (written by coordinator --endpoint-file), waiting for it to appear."),
            .value("max-walltime", "S", "Stop taking work S seconds after start, deliver what is held, and leave (set below the job's walltime)."),
            .value("threads", "T", "Compute threads, each with one OpenBLAS thread (default 1)."),
            .value("shards", "DIR|GLOB|LIST", "Shards on this node to announce; only this worker's host processes them."),
            .value("dataset", "PATH", "Dataset or group of the local shards (default: search)."),
            .value("model", "BUNDLE", "Use this model instead of the coordinator's (refused if the digests differ)."),
            .value("idle-timeout", "S", "Exit after S seconds without work, or without reaching a coordinator (default 300)."),
            .value("heartbeat-ms", "MS", "Heartbeat interval until the coordinator sets its own (default 1000)."),
            .value("curve-secret", "FILE", "CurveZMQ: this worker's secret key (pairs keygen); needs --coordinator-key."),
            .value("coordinator-key", "FILE", "CurveZMQ: the coordinator's public key file (its .pub)."),
        ])

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let threads: Int = try arguments.value("threads", default: 1)
        let idle: Double = try arguments.value("idle-timeout", default: 300)
        let walltime: Double? = try arguments.optional("max-walltime")
        guard threads > 0, idle > 0, (walltime ?? 1) > 0 else { throw UsageError("--threads, --idle-timeout and --max-walltime must be positive") }
        let console = Console(prefix: "pairs worker \(ProcessInfo.processInfo.hostName):\(getpid())")
        let endpoint: String
        if let given: String = try arguments.optional("connect") {
            endpoint = given
        } else if let file: String = try arguments.optional("connect-file") {
            endpoint = try Self.waitForEndpoint(file, timeout: idle, console: console)
        } else {
            throw UsageError("--connect ENDPOINT or --connect-file FILE is required")
        }
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
        var options = WorkerRuntime.Options(connect: endpoint, threads: threads, idleTimeout: idle, model: model, localShards: local,
                                            heartbeatMilliseconds: try arguments.value("heartbeat-ms", default: 1000), maxWalltime: walltime)
        switch (try arguments.optional("curve-secret", as: String.self), try arguments.optional("coordinator-key", as: String.self)) {
        case (nil, nil): break
        case (let secret?, let server?):
            options.curve = (try CurveFiles.key(secret, what: "secret key"), try CurveFiles.key(server, what: "coordinator public key"))
        default: throw UsageError("--curve-secret and --coordinator-key go together")
        }
        let runtime = WorkerRuntime(options: options, log: console.log)
        return try runtime.run()
    }

    /// The endpoint a coordinator wrote to `file`, waiting (with back-off) until the file appears.
    static func waitForEndpoint(_ file: String, timeout: Double, console: Console) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var wait = 0.2
        var announced = false
        while true {
            if let text = try? String(contentsOfFile: file, encoding: .utf8) {
                let endpoint = text.trimmingCharacters(in: .whitespacesAndNewlines)
                if endpoint.hasPrefix("tcp://") || endpoint.hasPrefix("ipc://") { return endpoint }
            }
            guard Date() < deadline else { throw UsageError("no coordinator endpoint in '\(file)' after \(Int(timeout)) s") }
            if !announced { console.log("waiting for the coordinator's endpoint in \(file)"); announced = true }
            usleep(UInt32(wait * 1e6))
            wait = min(wait * 2, 5)
        }
    }
}

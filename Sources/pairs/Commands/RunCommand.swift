import Foundation

/// `pairs run`: the whole system on one machine — a coordinator on loopback and K local worker processes.
enum RunCommand: Command {
    static let spec = CommandSpec(
        name: "run",
        summary: "Run locally: a coordinator on loopback plus K worker processes; writes the report.",
        positionals: [],
        options: [
            .value("workers", "K", "Local worker processes (default: number of cores)."),
            .value("threads", "T", "Compute threads per worker (default 1)."),
            .value("bind", "ENDPOINT", "Coordinator endpoint (default tcp://127.0.0.1:* — a free loopback port)."),
        ] + CoordinatorSetup.options)

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let setup = try CoordinatorSetup(arguments)
        let workers: Int = try arguments.value("workers", default: ProcessInfo.processInfo.activeProcessorCount)
        let threads: Int = try arguments.value("threads", default: 1)
        guard workers > 0, threads > 0 else { throw UsageError("--workers and --threads must be positive") }
        let console = Console(prefix: "pairs run")
        let local = LocalWorkers(console: console)
        defer { local.finish() }
        return try setup.run(bind: try arguments.value("bind", default: "tcp://127.0.0.1:*"), console: console) { endpoint in
            try local.start(workers, threads: threads, endpoint: endpoint, heartbeatMilliseconds: setup.configuration.heartbeatMilliseconds)
        } keepGoing: {
            local.anyAlive()
        }
    }
}

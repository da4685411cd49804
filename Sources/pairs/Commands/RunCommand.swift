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
        var processes: [Process] = []
        let status = try setup.run(bind: try arguments.value("bind", default: "tcp://127.0.0.1:*"), console: console) { endpoint in
            for _ in 0..<workers {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: try ownExecutable())
                process.arguments = ["worker", "--connect", endpoint, "--threads", String(threads), "--idle-timeout", "60",
                                     "--heartbeat-ms", String(setup.configuration.heartbeatMilliseconds)]
                try process.run()
                processes.append(process)
            }
            console.log("started \(workers) local workers × \(threads) threads")
        } keepGoing: {
            // All local workers gone and the run not done: nobody is left to finish it.
            if processes.contains(where: \.isRunning) { return true }
            console.log("all \(workers) local workers exited before the run finished; see their messages above")
            return false
        }
        // Workers exit on SHUTDOWN; give them a moment, then make sure none is left behind.
        let deadline = Date().addingTimeInterval(5)
        while processes.contains(where: \.isRunning) && Date() < deadline { usleep(20_000) }
        for process in processes where process.isRunning { process.terminate() }
        return status
    }

    /// The path of the running `pairs` executable.
    static func ownExecutable() throws -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { throw UsageError("cannot find the pairs executable (/proc/self/exe)") }
        return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

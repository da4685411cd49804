import Cluster
import ClusterZMQ
import Foundation
import PairsCore
import Report
import ZeroMQ

/// Exit status of a run whose report is partial (some shards or items failed).
extension ExitStatus {
    static let partial: Int32 = 2
}

/// Options shared by `pairs coordinator` and `pairs run`, and what they do with them.
struct CoordinatorSetup {
    static let options: [OptionSpec] = [
        .value("shards", "DIR|GLOB|LIST", "Shards to process (directory searched recursively, glob, or list file)."),
        .value("model", "BUNDLE", "The model bundle (required)."),
        .value("out", "DIR", "Directory for report.json (required; created if missing)."),
        .value("items-rows", "N", "Rows per work item; large shards are split (default 1048576, rounded up to 256)."),
        .value("dataset", "PATH", "Dataset or group holding the events in each shard (default: search)."),
        .value("batch-size", "N", "Events per read on the workers (default 65536)."),
        .value("non-finite", "POLICY", "fail (default): a shard with NaN/Inf fails; skip: leave such events out, counted."),
        .flag("no-file-locking", "Workers open shards without HDF5 file locking (NFS and similar)."),
        .value("heartbeat-ms", "MS", "Heartbeat interval (default 1000)."),
        .value("liveness", "N", "Heartbeats a worker may miss before its work is re-queued (default 5)."),
        .value("max-attempts", "N", "Attempts per work item before it is recorded as failed (default 3)."),
        .value("expect-workers", "N", "Do not finish before N workers joined (runs on worker-local shards; default 0)."),
        .value("grid", "NAME=N,…", "Likelihood-scan points per parameter (default 81 each; computed at the coordinator only)."),
        .flag("no-zoom", "Scan one regular grid over the prior box instead of zooming onto the likelihood's peak."),
        .value("luminosity", "L", "Luminosity of the data relative to the model's yield model (default 1)."),
        .value("journal", "FILE", "Record merged partials in FILE (fsync'd before each ACK); an existing FILE of the same run is replayed and the run resumes."),
        .value("endpoint-file", "FILE", "Write the endpoint workers should dial to FILE (for worker --connect-file)."),
        .value("advertise", "HOST", "Host name or address workers reach the coordinator at (default: this host's name)."),
    ]

    let shards: String?
    let journal: String?
    let endpointFile: String?
    let advertise: String
    let modelPath: String
    let outDirectory: String
    let rowsPerItem: Int
    let configuration: CoordinatorCore.Configuration
    let readOptions: ShardReadOptions

    init(_ arguments: ParsedArguments) throws {
        shards = try arguments.optional("shards")
        journal = try arguments.optional("journal")
        guard journal == nil || shards != nil else {
            throw UsageError("--journal needs --shards: a run on shards the workers announce cannot be resumed")
        }
        endpointFile = try arguments.optional("endpoint-file")
        advertise = try arguments.value("advertise", default: ProcessInfo.processInfo.hostName)
        guard let model: String = try arguments.optional("model") else { throw UsageError("--model BUNDLE is required") }
        guard let out: String = try arguments.optional("out") else { throw UsageError("--out DIR is required") }
        modelPath = model
        outDirectory = out
        rowsPerItem = try arguments.value("items-rows", default: 1 << 20)
        let batch: Int = try arguments.value("batch-size", default: ShardReadOptions.defaultBatchSize)
        let heartbeat: Int = try arguments.value("heartbeat-ms", default: 1000)
        let liveness: Int = try arguments.value("liveness", default: 5)
        let attempts: Int = try arguments.value("max-attempts", default: 3)
        let expect: Int = try arguments.value("expect-workers", default: 0)
        guard rowsPerItem > 0, batch > 0, heartbeat > 0, liveness > 0, attempts > 0, expect >= 0 else {
            throw UsageError("--items-rows, --batch-size, --heartbeat-ms, --liveness and --max-attempts must be positive")
        }
        guard shards != nil || expect > 0 else {
            throw UsageError("give --shards, or --expect-workers N for a run on shards the workers announce")
        }
        let dataset: String? = try arguments.optional("dataset")
        let policy: NonFinitePolicy = try arguments.value("non-finite", default: .fail)
        let locking = !arguments.flag("no-file-locking")
        var configuration = CoordinatorCore.Configuration(
            runID: UUID().uuidString, dataset: dataset, batchSize: batch, nonFinite: policy, fileLocking: locking,
            heartbeatMilliseconds: heartbeat, liveness: liveness, maxAttempts: attempts, expectWorkers: expect)
        let grid = try arguments.optional("grid", as: Assignments.self)?.values ?? [:]
        guard grid.values.allSatisfy({ $0 >= 3 && $0 == $0.rounded() }) else { throw UsageError("--grid needs whole numbers of at least 3 points") }
        let luminosity: Double = try arguments.value("luminosity", default: 1)
        guard luminosity > 0 else { throw UsageError("--luminosity must be positive") }
        configuration.scan = ScanOptions(resolution: grid.mapValues { Int($0) }, zoom: !arguments.flag("no-zoom"), luminosityScale: luminosity)
        self.configuration = configuration
        readOptions = ShardReadOptions(dataset: dataset, batchSize: batch, nonFinite: policy, locking: locking ? .libraryDefault : .disabled)
    }

    /// Plans the shards, serves workers on `bind` until the run is done, writes the report.
    /// `listening` is called with the resolved endpoint before serving (to start local workers).
    /// `keepGoing` is polled while serving; returning false abandons the run with an error.
    func run(bind: String, curve: CoordinatorServer.Curve? = nil, console: Console, listening: (String) throws -> Void = { _ in },
             keepGoing: () -> Bool = { true }) throws -> Int32 {
        let started = Date()
        let model = try ModelBundle.load(modelPath)
        let modelBytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: modelPath)))
        var plan = RunPlan(rowsPerItem: rowsPerItem)
        var planFailures: [(shard: ShardFile, reason: String)] = []
        if let shards {
            var options = readOptions
            options.features = model.metadata.features
            for shard in try ShardDiscovery.find(shards).shards {
                do {
                    plan.add(PlannedShard(file: shard, events: try ShardReader(shard, options: options).events))
                } catch {
                    planFailures.append((shard, error.description))
                    console.log("shard failed: \(error)")
                }
            }
        }
        console.log("planned \(plan.items.count) work items over \(plan.shards.count + planFailures.count) shards (\(plan.rowsPerItem) rows per item); model \(model.digest)")
        let core = CoordinatorCore(plan: plan, planFailures: planFailures, model: model, modelBytes: modelBytes,
                                   configuration: configuration, now: Date().timeIntervalSince1970, log: console.log)
        if let journal { try core.useJournal(at: journal) }
        let served = try serve(core, bind: bind, curve: curve, console: console, listening: { endpoint in
            if let endpointFile {
                // Workers on other nodes dial the advertised host at the bound port.
                let port = endpoint.split(separator: ":").last.map(String.init) ?? ""
                let reachable = endpoint.hasPrefix("tcp://") ? "tcp://\(advertise):\(port)" : endpoint
                try (reachable + "\n").write(toFile: endpointFile, atomically: true, encoding: .utf8)
                console.log("wrote \(reachable) to \(endpointFile)")
            }
            try listening(endpoint)
        }, keepGoing: { keepGoing() && core.journalFailure == nil })
        if let failure = core.journalFailure { throw failure }
        guard served else { throw RunAbandoned(description: "the run was abandoned before it finished: no report written") }
        let finishedAt = Date()
        let iso = ISO8601DateFormatter()
        let outcome = core.outcome(now: finishedAt.timeIntervalSince1970, host: ProcessInfo.processInfo.hostName,
                                   startedISO: iso.string(from: started), finishedISO: iso.string(from: finishedAt))
        if let unknown = configuration.scan.resolution.keys.first(where: { name in !model.metadata.parameters.contains { $0.name == name } }) {
            console.log("warning: --grid names '\(unknown)', which is not a parameter of the model")
        }
        try FileManager.default.createDirectory(atPath: outDirectory, withIntermediateDirectories: true)
        let report = RunReport.json(outcome)
        try report.rendered().write(toFile: outDirectory + "/report.json", atomically: true, encoding: .utf8)
        try ReportViews.html(report).write(toFile: outDirectory + "/report.html", atomically: true, encoding: .utf8)
        emit(ReportViews.summary(report))
        emit("report: \(outDirectory)/report.json, \(outDirectory)/report.html")
        return outcome.complete ? ExitStatus.success : ExitStatus.partial
    }
}

struct RunAbandoned: Error, CustomStringConvertible { let description: String }

/// Serves `core` on `bind` with a progress display until the run finishes (true) or `keepGoing` says stop.
func serve(_ core: CoordinatorCore, bind: String, curve: CoordinatorServer.Curve? = nil, console: Console,
           listening: (String) throws -> Void, keepGoing: () -> Bool) throws -> Bool {
    let server = try CoordinatorServer(core: core, bind: bind, context: try Context(), curve: curve, log: console.log)
    console.log("listening on \(server.endpoint)")
    try listening(server.endpoint)
    var lastEvents = 0, lastTime = Date().timeIntervalSince1970, rate = 0.0
    let finished = try server.run(keepGoing: keepGoing) { progress in
        let now = Date().timeIntervalSince1970
        if now > lastTime {
            rate = 0.7 * rate + 0.3 * Double(progress.events - lastEvents) / (now - lastTime)
            lastEvents = progress.events
            lastTime = now
        }
        let done = progress.itemsMerged + progress.itemsFailed
        let eta = rate > 0 && done > 0 && done < progress.itemsTotal
            ? String(format: " · ETA %.0f s", Double(progress.itemsTotal - done) * progress.secondsElapsed / Double(done)) : ""
        console.status("items \(done)/\(progress.itemsTotal)" + (progress.itemsFailed > 0 ? " (\(progress.itemsFailed) failed)" : "")
                       + " · \(progress.events) events · " + String(format: "%.0f events/s", rate) + eta
                       + " · \(progress.workersAlive) workers", now: now)
    }
    console.clearStatus()
    return finished
}

/// Worker processes started on this machine (`pairs run`, `pairs cache`).
final class LocalWorkers {
    private(set) var processes: [Process] = []
    let console: Console

    init(console: Console) { self.console = console }

    func start(_ count: Int, threads: Int, endpoint: String, heartbeatMilliseconds: Int) throws {
        for _ in 0..<count {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: try Self.ownExecutable())
            process.arguments = ["worker", "--connect", endpoint, "--threads", String(threads), "--idle-timeout", "60",
                                 "--heartbeat-ms", String(heartbeatMilliseconds)]
            try process.run()
            processes.append(process)
        }
        if count > 0 { console.log("started \(count) local workers × \(threads) threads") }
    }

    /// False once every local worker has exited (then nobody is left to finish a local run).
    func anyAlive() -> Bool {
        if processes.isEmpty || processes.contains(where: \.isRunning) { return true }
        console.log("all \(processes.count) local workers exited before the run finished; see their messages above")
        return false
    }

    /// Workers exit on SHUTDOWN; give them a moment, then make sure none is left behind.
    func finish() {
        let deadline = Date().addingTimeInterval(5)
        while processes.contains(where: \.isRunning) && Date() < deadline { usleep(20_000) }
        for process in processes where process.isRunning { process.terminate() }
    }

    /// The path of the running `pairs` executable.
    static func ownExecutable() throws -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { throw UsageError("cannot find the pairs executable (/proc/self/exe)") }
        return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// `pairs coordinator`: plans the shards, serves workers, writes the report.
enum CoordinatorCommand: Command {
    static let spec = CommandSpec(
        name: "coordinator",
        summary: "Serve work items to workers over ZeroMQ, merge their exact partial sums, write the report.",
        positionals: [],
        options: [.value("bind", "ENDPOINT", "ZeroMQ endpoint to bind (default tcp://*:5555)."),
                  .value("curve-secret", "FILE", "CurveZMQ: the coordinator's secret key (pairs keygen); needs --allowed-workers."),
                  .value("allowed-workers", "DIR", "CurveZMQ: directory of the public keys (*.pub) of the workers let in.")]
            + CoordinatorSetup.options)

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let setup = try CoordinatorSetup(arguments)
        let console = Console(prefix: "pairs coordinator \(ProcessInfo.processInfo.hostName)")
        var curve: CoordinatorServer.Curve? = nil
        switch (try arguments.optional("curve-secret", as: String.self), try arguments.optional("allowed-workers", as: String.self)) {
        case (nil, nil): break
        case (let secret?, let directory?):
            curve = .init(secretKey: try CurveFiles.key(secret, what: "secret key"), allowedWorkers: try CurveFiles.allowed(directory))
            console.log("CurveZMQ on: \(curve!.allowedWorkers.count) worker keys allowed from \(directory)")
        default: throw UsageError("--curve-secret and --allowed-workers go together")
        }
        return try setup.run(bind: try arguments.value("bind", default: "tcp://*:5555"), curve: curve, console: console)
    }
}

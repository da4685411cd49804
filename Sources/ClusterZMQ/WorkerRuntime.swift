import Cluster
import Foundation
import Numerics
import PairsCore
import ZeroMQ

/// A worker process: one thread owns the DEALER socket and runs the `WorkerCore`; `threads` compute threads
/// each take assignments, pool them (read → embed → exact sum) and hand back partials.
public final class WorkerRuntime {
    public struct Options: Sendable {
        public var connect: String
        public var threads: Int
        public var idleTimeout: Double
        /// A model the worker brings itself; the coordinator refuses it if its digest differs from the run's.
        public var model: ModelBundle?
        /// Shards on this node (worker `--shards`), announced to the coordinator.
        public var localShards: [AnnouncedShard]
        public var heartbeatMilliseconds: Int
        public var liveness: Int
        /// Stop taking work this many seconds after start (a batch job's walltime minus a margin).
        public var maxWalltime: Double?
        /// CurveZMQ: this worker's secret key and the coordinator's public key.
        public var curve: (secretKey: CurveKey, coordinatorKey: CurveKey)?

        public init(connect: String, threads: Int, idleTimeout: Double = 300, model: ModelBundle? = nil,
                    localShards: [AnnouncedShard] = [], heartbeatMilliseconds: Int = 1000, liveness: Int = 5, maxWalltime: Double? = nil) {
            self.connect = connect
            self.threads = threads
            self.idleTimeout = idleTimeout
            self.model = model
            self.localShards = localShards
            self.heartbeatMilliseconds = heartbeatMilliseconds
            self.liveness = liveness
            self.maxWalltime = maxWalltime
        }
    }

    private let options: Options
    private let core: WorkerCore
    private let log: (String) -> Void
    private let queue = WorkQueue()
    private let outbox = Outbox()
    private var threads: [Thread] = []
    /// Left by each compute thread once it has stopped and released its processor (and so its HDF5 handles).
    private let computeDone = DispatchGroup()
    private var exitStatus: Int32?
    /// Connection events of the current socket (CURVE runs only), and what they showed so far.
    private var monitor: Socket?
    private var monitors = 0
    private var handshakeFailures = 0
    private var securedOnce = false

    public init(options: Options, log: @escaping (String) -> Void) {
        precondition(options.threads > 0, "a worker needs at least one thread")
        self.options = options
        self.log = log
        BLAS.configure()
        let ready = WorkerMessage.Ready(workerID: "\(ProcessInfo.processInfo.hostName)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))",
                                        host: ProcessInfo.processInfo.hostName, pid: Int(getpid()), threads: options.threads,
                                        modelDigest: options.model?.digest ?? "", blasCore: BLAS.coreName,
                                        localShards: options.localShards)
        core = WorkerCore(ready: ready, idleTimeout: options.idleTimeout, heartbeatMilliseconds: options.heartbeatMilliseconds,
                          liveness: options.liveness, now: Self.now)
    }

    /// Runs until SHUTDOWN, a refusal, the idle timeout, or a drain (walltime, SIGTERM/SIGINT) completes;
    /// returns the process exit status.
    public func run() throws -> Int32 {
        let context = try Context()
        var socket = try connect(context)
        let started = Self.now
        let terminate = SignalFlag([SIGTERM, SIGINT])
        execute(core.connected(now: Self.now), socket: &socket, context: context)
        while exitStatus == nil {
            if let signal = terminate.received {
                if terminate.count > 1 {
                    log("second signal \(signal): leaving at once; the coordinator redoes unfinished items")
                    exitStatus = 1
                    return 1
                }
                if !core.draining {
                    execute(core.drain(reason: "signal \(signal) (batch system stopping the job)", now: Self.now), socket: &socket, context: context)
                }
            }
            if let limit = options.maxWalltime, Self.now - started > limit, !core.draining {
                execute(core.drain(reason: String(format: "walltime limit of %.0f s reached", limit), now: Self.now), socket: &socket, context: context)
            }
            let poller = Poller()
            poller.register(socket)
            try poller.poll(timeout: .milliseconds(20))
            watchHandshakes()
            while exitStatus == nil, let message = try socket.receiveMultipart(dontWait: true) {
                let (actions, problem) = core.received(message.map(\.bytes), now: Self.now)
                if let problem { log(problem) }
                execute(actions, socket: &socket, context: context)
            }
            for partial in outbox.drain() where exitStatus == nil {
                execute(core.finished(partial, now: Self.now), socket: &socket, context: context)
            }
            if exitStatus == nil { execute(core.tick(now: Self.now), socket: &socket, context: context) }
        }
        queue.stop()
        // Let the compute threads finish and close their HDF5 handles before the process exits: closed after
        // libhdf5's own exit handler, they made it print error stacks.
        _ = computeDone.wait(timeout: .now() + 30)
        return exitStatus!
    }

    private func connect(_ context: Context) throws(ZMQError) -> Socket {
        let socket = try Socket(context, type: .dealer)
        // Messages sent before the connection completes are queued (READY goes right after connect).
        try socket.set([.linger(.milliseconds(500)), .reconnectInterval(.milliseconds(200)),
                        .reconnectIntervalMax(.seconds(5)), .maxMessageSize(CoordinatorServer.maxMessageBytes)])
        if let curve = options.curve {
            let pair = try CurveKeyPair(secretKey: curve.secretKey)
            try socket.set([.curveServerKey(curve.coordinatorKey), .curvePublicKey(pair.publicKey), .curveSecretKey(pair.secretKey)])
            monitors += 1
            monitor = try socket.monitor("pairs-worker-monitor-\(monitors)")
        }
        try socket.connect(options.connect)
        return socket
    }

    /// A CURVE handshake that fails is reported and ends the worker within seconds, instead of looking like a
    /// coordinator that never answers: refused credentials at once, a connection dropped during the
    /// handshake (what a wrong coordinator key looks like) after three tries.
    private func watchHandshakes() {
        guard let monitor, exitStatus == nil else { return }
        while let frames = try? monitor.receiveMultipart(dontWait: true), let event = MonitorEvent(frames) {
            switch event.kind {
            case .handshakeSucceeded:
                securedOnce = true
            case .handshakeFailedAuth:
                log("the coordinator at \(event.endpoint) refused this worker's CURVE key: its public key is not among the coordinator's --allowed-workers")
                exitStatus = 1
                return
            case .handshakeFailedNoDetail, .handshakeFailedProtocol:
                handshakeFailures += 1
            case .disconnected where !securedOnce:
                handshakeFailures += 1
            default:
                break
            }
            if handshakeFailures >= 3 {
                log("CURVE handshake with \(event.endpoint) failed \(handshakeFailures) times: --coordinator-key is probably not the coordinator's public key (or the coordinator does not use CURVE)")
                exitStatus = 1
                return
            }
        }
    }

    private func execute(_ actions: [WorkerCore.Action], socket: inout Socket, context: Context) {
        for action in actions where exitStatus == nil {
            switch action {
            case .send(let message):
                do {
                    _ = try socket.send(multipart: message.frames().map { (f) throws(ZMQError) in try Message(f) }, dontWait: true)
                } catch {
                    log("send failed: \(error)")
                }
            case .reconnect:
                log("coordinator silent: reconnecting to \(options.connect)")
                do {
                    socket = try connect(context)
                } catch {
                    log("reconnect failed: \(error)")
                    continue
                }
                execute(core.connected(now: Self.now), socket: &socket, context: context)
            case .start(let welcome):
                do {
                    try start(welcome)
                } catch {
                    exitStatus = 1
                    log("cannot start: \(error)")
                }
            case .process(let work):
                queue.put(work)
            case .exit(let status, let reason):
                log(reason)
                exitStatus = status
            }
        }
    }

    /// Loads the run's model (sent with WELCOME, or the worker's own) and starts the compute threads.
    private func start(_ welcome: CoordinatorMessage.Welcome) throws {
        let model: ModelBundle
        if let own = options.model {
            model = own
        } else {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("pairs-model-\(getpid())-\(UUID().uuidString).h5").path
            try Data(welcome.model).write(to: URL(fileURLWithPath: path))
            defer { try? FileManager.default.removeItem(atPath: path) }
            model = try ModelBundle.load(path)
        }
        guard model.digest == welcome.modelDigest else {
            throw ModelMismatch(description: "the model received has digest \(model.digest), WELCOME announced \(welcome.modelDigest)")
        }
        log("joined run \(welcome.runID) with model \(model.digest); \(options.threads) compute threads")
        for index in 0..<options.threads {
            let queue = self.queue, outbox = self.outbox, done = computeDone
            let holder = ProcessorHolder(try ItemProcessor(model: model, welcome: welcome))
            done.enter()
            let thread = Thread {
                while let work = queue.take() { outbox.put(holder.processor!.process(work)) }
                holder.processor = nil
                done.leave()
            }
            thread.name = "pairs-compute-\(index)"
            thread.stackSize = 8 << 20
            threads.append(thread)
            thread.start()
        }
    }

    struct ModelMismatch: Error, CustomStringConvertible { let description: String }

    /// A compute thread's processor, released by that thread when it stops.
    final class ProcessorHolder: @unchecked Sendable {  // used by one thread after hand-over
        var processor: ItemProcessor?
        init(_ processor: ItemProcessor) { self.processor = processor }
    }

    static var now: Double { Date().timeIntervalSince1970 }
}

/// Assignments waiting for a compute thread (blocking take).
final class WorkQueue: @unchecked Sendable {  // guarded by `condition`
    private let condition = NSCondition()
    private var items: [Work] = []
    private var stopped = false

    func put(_ item: Work) {
        condition.lock()
        items.append(item)
        condition.signal()
        condition.unlock()
    }

    /// The next assignment, or nil once stopped.
    func take() -> Work? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !stopped { condition.wait() }
        return stopped ? nil : items.removeFirst()
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }
}

/// Finished partials waiting for the socket thread.
final class Outbox: @unchecked Sendable {  // guarded by `lock`
    private let lock = NSLock()
    private var partials: [Partial] = []

    func put(_ partial: Partial) {
        lock.lock()
        partials.append(partial)
        lock.unlock()
    }

    func drain() -> [Partial] {
        lock.lock()
        defer { lock.unlock() }
        let all = partials
        partials.removeAll()
        return all
    }
}

/// Records that one of `signals` arrived (instead of dying), for a clean drain; a second one means "now".
/// Polled by the socket thread.
final class SignalFlag: @unchecked Sendable {  // the source handlers run on one serial queue
    private let queue = DispatchQueue(label: "pairs.signals")
    private var sources: [DispatchSourceSignal] = []
    private let lock = NSLock()
    private var value: Int32?
    private var total = 0

    init(_ signals: [Int32]) {
        for number in signals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { [weak self] in
                guard let self else { return }
                self.lock.lock(); self.value = number; self.total += 1; self.lock.unlock()
            }
            source.resume()
            sources.append(source)
        }
    }

    var received: Int32? { lock.lock(); defer { lock.unlock() }; return value }
    /// Signals received so far.
    var count: Int { lock.lock(); defer { lock.unlock() }; return total }
}

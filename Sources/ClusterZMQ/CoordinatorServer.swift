import Cluster
import Foundation
import ZeroMQ

/// Runs a `CoordinatorCore` on a ROUTER socket: receives, ticks, sends, until the run is finished.
/// One thread owns the socket (the one calling `run`).
public final class CoordinatorServer {
    public let core: CoordinatorCore
    private let socket: Socket
    /// The bound endpoint with any wildcard port resolved (e.g. `tcp://127.0.0.1:40123`).
    public let endpoint: String
    private let log: (String) -> Void

    /// Largest message accepted from a peer; larger ones drop the connection (libzmq `ZMQ_MAXMSGSIZE`).
    public static let maxMessageBytes: Int64 = 64 << 20

    /// CurveZMQ: the coordinator's secret key and the public keys of the workers let in.
    public struct Curve: Sendable {
        public var secretKey: CurveKey
        public var allowedWorkers: Set<CurveKey>
        public init(secretKey: CurveKey, allowedWorkers: Set<CurveKey>) {
            self.secretKey = secretKey
            self.allowedWorkers = allowedWorkers
        }
    }

    private let zap: ZAPHandler?

    public init(core: CoordinatorCore, bind: String, context: Context, curve: Curve? = nil,
                log: @escaping (String) -> Void) throws(ZMQError) {
        self.core = core
        self.log = log
        // The ZAP handler must be bound before the CURVE socket accepts anyone.
        zap = try curve.map { (c) throws(ZMQError) in try ZAPHandler(context: context, allowed: c.allowedWorkers) }
        socket = try Socket(context, type: .router)
        try socket.set([.routerMandatory(true), .linger(.milliseconds(2000)), .maxMessageSize(Self.maxMessageBytes),
                        .sendHighWaterMark(100_000), .receiveHighWaterMark(100_000)])
        if let curve { try socket.set([.zapDomain("pairs"), .curveServer(true), .curveSecretKey(curve.secretKey)]) }
        try socket.bind(bind)
        endpoint = try socket.lastEndpoint()
    }

    /// Serves until the run is finished, then keeps answering until every worker has said goodbye (at most
    /// `grace` seconds) so that each one hears SHUTDOWN. `progress` is called about twice a second.
    /// - Parameter keepGoing: checked every loop; returning false abandons the run (`run` returns false).
    /// - Returns: whether the run finished.
    @discardableResult
    public func run(grace: Double = 1.0, keepGoing: () -> Bool = { true },
                    progress: (CoordinatorCore.Progress) -> Void = { _ in }) throws(ZMQError) -> Bool {
        defer { zap?.stop() }
        let poller = Poller()
        poller.register(socket)
        let tickInterval = Double(core.configuration.heartbeatMilliseconds) / 4000
        var lastTick = 0.0, lastProgress = 0.0
        var finishedAt: Double? = nil
        while true {
            let now = Self.now
            if let at = finishedAt, now - at > grace || core.progress(now: now).workersAlive == 0 { break }
            if finishedAt == nil && !keepGoing() { return false }
            try poller.poll(timeout: .milliseconds(Int(max(5, tickInterval * 1000))))
            // Drain what arrived, bounded so that ticks still happen under a flood.
            for _ in 0..<10_000 {
                guard let message = try socket.receiveMultipart(dontWait: true) else { break }
                guard message.count >= 1 else { continue }
                let peer = message[0].bytes
                try send(core.receive(message.dropFirst().map(\.bytes), from: peer, now: Self.now))
            }
            for refusal in zap?.takeRefusals() ?? [] { core.countRefusal(refusal) }
            if now - lastTick >= tickInterval {
                try send(core.tick(now: now))
                lastTick = now
            }
            if now - lastProgress >= 0.5 {
                progress(core.progress(now: now))
                lastProgress = now
            }
            if core.isFinished && finishedAt == nil { finishedAt = now }
        }
        progress(core.progress(now: Self.now))
        return true
    }

    private func send(_ outgoing: [CoordinatorCore.Outgoing]) throws(ZMQError) {
        for o in outgoing {
            do {
                try socket.send(multipart: [try Message(o.peer)] + o.message.frames().map { (f) throws(ZMQError) in try Message(f) }, dontWait: true)
            } catch where error.code == EHOSTUNREACH {
                continue  // the peer disconnected; the core notices its silence and re-queues its work
            }
        }
    }

    static var now: Double { Date().timeIntervalSince1970 }
}

import PairsCore

/// One unit of work for a compute thread.
public enum Work: Sendable, Equatable {
    case shard(CoordinatorMessage.Assignment)
    case simulatedSet(item: UInt64, index: Int)
}

/// The worker's protocol logic, free of sockets and threads: it turns received messages, finished items and
/// clock ticks into actions for the runtime (send, reconnect, start computing, queue an item, exit).
///
/// Paranoid-Pirate style: the worker expects to hear from the coordinator at least every `liveness`
/// heartbeat intervals; otherwise it reconnects with exponential back-off and joins again. Partials stay
/// buffered until acknowledged and are sent again after a reconnect (the coordinator merges each item once).
public final class WorkerCore {
    public enum Action: Equatable {
        case send(WorkerMessage)
        /// Close the connection and open a new one, then call `connected(now:)`.
        case reconnect
        /// First WELCOME: load the model (from the message, or the worker's own) and start the compute threads.
        case start(CoordinatorMessage.Welcome)
        /// Queue a work item for a compute thread.
        case process(Work)
        /// Stop: status 0 for a normal end (SHUTDOWN, idle), 1 for a refusal or no coordinator.
        case exit(status: Int32, reason: String)
    }

    enum State: Equatable { case joining, running, stopped }

    public let ready: WorkerMessage.Ready
    public let idleTimeout: Double
    private var state = State.joining
    private var welcome: CoordinatorMessage.Welcome?
    private var interval: Double
    private var liveness: Int
    private var lastHeard: Double
    private var lastSent: Double
    private var idleSince: Double
    private var backoff = 1.0
    private var reconnectAt: Double?
    private var everWelcomed = false
    /// After `drain`: ask for no more work, deliver what is held, then leave.
    public private(set) var draining = false
    private var drainStarted = 0.0
    /// How long a drain may wait to deliver what it holds before leaving anyway (the coordinator re-queues
    /// whatever it did not receive).
    public static let drainTimeout = 60.0
    /// Items received and not yet finished.
    public private(set) var inFlight: Set<UInt64> = []
    /// Finished items whose partials the coordinator has not acknowledged.
    public private(set) var unacknowledged: [UInt64: Partial] = [:]

    /// - Parameters:
    ///   - heartbeatMilliseconds, liveness: used until the coordinator's WELCOME sets its own.
    public init(ready: WorkerMessage.Ready, idleTimeout: Double, heartbeatMilliseconds: Int = 1000, liveness: Int = 5, now: Double) {
        self.ready = ready
        self.idleTimeout = idleTimeout
        interval = Double(heartbeatMilliseconds) / 1000
        self.liveness = liveness
        lastHeard = now
        lastSent = now
        idleSince = now
    }

    /// Call once the connection is (re)opened: sends READY.
    public func connected(now: Double) -> [Action] {
        state = .joining
        lastHeard = now
        lastSent = now
        return [.send(.ready(ready))]
    }

    public func received(_ frames: [[UInt8]], now: Double) -> (actions: [Action], problem: String?) {
        let message: CoordinatorMessage
        do {
            message = try CoordinatorMessage.decode(frames)
        } catch {
            return ([], "dropped a malformed message from the coordinator: \(error.reason)")
        }
        lastHeard = now
        backoff = 1
        var actions: [Action] = []
        switch message {
        case .welcome(let w):
            if let first = welcome, first.modelDigest != w.modelDigest {
                state = .stopped
                return ([.exit(status: 1, reason: "the coordinator now runs model \(w.modelDigest), this worker started with \(first.modelDigest)")], nil)
            }
            if welcome == nil { actions.append(.start(w)) }
            welcome = w
            interval = Double(w.heartbeatMilliseconds) / 1000
            liveness = w.liveness
            state = .running
            everWelcomed = true
            for id in unacknowledged.keys.sorted() { actions.append(.send(.partial(unacknowledged[id]!))) }
            let wanted = ready.threads + 1 - inFlight.count
            if wanted > 0 && !draining { actions.append(.send(.request(credits: wanted))) }
        case .assign(let a):
            guard state == .running else { return ([], "ignored an assignment before WELCOME") }
            if inFlight.insert(a.item).inserted { actions.append(.process(.shard(a))) }
        case .assignSet(let item, let index):
            guard state == .running, welcome?.simulation != nil else { return ([], "ignored a set assignment outside a cache job") }
            if inFlight.insert(item).inserted { actions.append(.process(.simulatedSet(item: item, index: index))) }
        case .ack(let item, _):
            unacknowledged[item] = nil
            actions += leaveIfDrained()
        case .refuse(let reason):
            state = .stopped
            actions.append(.exit(status: 1, reason: "refused by the coordinator: \(reason)"))
        case .shutdown:
            state = .stopped
            actions.append(.send(.bye))
            actions.append(.exit(status: 0, reason: "the coordinator finished the run"))
        case .heartbeat:
            break
        }
        noteSent(actions, now: now)
        return (actions, nil)
    }

    /// A compute thread finished an item.
    public func finished(_ partial: Partial, now: Double) -> [Action] {
        inFlight.remove(partial.item)
        unacknowledged[partial.item] = partial
        if inFlight.isEmpty { idleSince = now }
        guard state == .running else { return [] }  // sent after the next WELCOME
        let actions: [Action] = [.send(.partial(partial))] + (draining ? [] : [.send(.request(credits: 1))])
        noteSent(actions, now: now)
        return actions
    }

    /// Stop taking work (walltime near, or SIGTERM from the batch system): finish and deliver the items held,
    /// then say BYE and exit 0. Items not yet started stay with the coordinator, which re-queues them when the
    /// worker leaves.
    public func drain(reason: String, now: Double) -> [Action] {
        guard !draining, state != .stopped else { return [] }
        draining = true
        drainStarted = now
        return leaveIfDrained(reason: reason)
    }

    private func leaveIfDrained(reason: String = "drained") -> [Action] {
        guard draining, inFlight.isEmpty, unacknowledged.isEmpty, state != .stopped else { return [] }
        state = .stopped
        return [.send(.bye), .exit(status: 0, reason: "left the run: \(reason)")]
    }

    public func tick(now: Double) -> [Action] {
        guard state != .stopped else { return [] }
        if draining && now - drainStarted > Self.drainTimeout {
            state = .stopped
            return [.exit(status: 0, reason: "left without delivering \(inFlight.count + unacknowledged.count) items after \(Int(Self.drainTimeout)) s of draining; the coordinator redoes them")]
        }
        if let at = reconnectAt {
            guard now >= at else { return [] }
            reconnectAt = nil
            return [.reconnect]
        }
        if now - lastHeard > interval * Double(liveness) {
            // Coordinator silent: reconnect after a back-off that doubles up to 32 s.
            if !everWelcomed && now - idleSince > idleTimeout {
                state = .stopped
                return [.exit(status: 1, reason: String(format: "no coordinator answered within %.0f s", idleTimeout))]
            }
            reconnectAt = now + backoff
            backoff = min(backoff * 2, 32)
            lastHeard = now  // restart the liveness clock for the next connection
            return []
        }
        if state == .running && inFlight.isEmpty && unacknowledged.isEmpty && now - idleSince > idleTimeout {
            state = .stopped
            return [.send(.bye), .exit(status: 0, reason: String(format: "idle for %.0f s", idleTimeout))]
        }
        if now - lastSent >= interval {
            lastSent = now
            return [.send(.heartbeat)]
        }
        return []
    }

    private func noteSent(_ actions: [Action], now: Double) {
        if actions.contains(where: { if case .send = $0 { return true } else { return false } }) { lastSent = now }
        if actions.contains(where: { if case .process = $0 { return true } else { return false } }) { idleSince = now }
    }
}

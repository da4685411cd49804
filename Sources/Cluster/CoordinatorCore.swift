import ExactSum
import Foundation
import PairsCore

/// The coordinator's protocol logic, free of sockets: feed it received frames and clock ticks, send what it
/// returns. It keeps the ledger (each item merged exactly once), merges partials exactly, re-queues the work
/// of workers that stop heart-beating, retries failed items a bounded number of times, and ends the run.
public final class CoordinatorCore {
    public struct Configuration: Sendable {
        public var runID: String
        public var dataset: String?
        public var batchSize: Int
        public var nonFinite: NonFinitePolicy
        public var fileLocking: Bool
        /// Heartbeat interval; a peer silent for `liveness` intervals is considered lost.
        public var heartbeatMilliseconds: Int
        public var liveness: Int
        /// Attempts per item before it is recorded as failed.
        public var maxAttempts: Int
        /// Do not finish before this many workers have joined (for runs whose shards workers announce).
        public var expectWorkers: Int
        /// Keep each item's pooled sums (cache jobs), not only their total.
        public var keepItems: Bool = false
        /// Grid of the likelihood scan of the merged sums.
        public var scan = ScanOptions()

        public init(runID: String, dataset: String? = nil, batchSize: Int = ShardReadOptions.defaultBatchSize,
                    nonFinite: NonFinitePolicy = .fail, fileLocking: Bool = true, heartbeatMilliseconds: Int = 1000,
                    liveness: Int = 5, maxAttempts: Int = 3, expectWorkers: Int = 0) {
            self.runID = runID
            self.dataset = dataset
            self.batchSize = batchSize
            self.nonFinite = nonFinite
            self.fileLocking = fileLocking
            self.heartbeatMilliseconds = heartbeatMilliseconds
            self.liveness = liveness
            self.maxAttempts = maxAttempts
            self.expectWorkers = expectWorkers
        }
    }

    /// A ROUTER routing identity.
    public typealias Peer = [UInt8]

    public struct Outgoing: Sendable {
        public let peer: Peer
        public let message: CoordinatorMessage
    }

    /// What a progress display shows.
    public struct Progress: Sendable {
        public var itemsTotal: Int, itemsMerged: Int, itemsFailed: Int
        public var events: Int
        public var workersAlive: Int
        public var secondsElapsed: Double
    }

    struct Session {
        var info: RunInfo.WorkerInfo
        var credits = 0
        /// Listed in `hungry`.
        var waiting = false
        var lastSeen: Double
        var lastSent: Double
        var lastShard: Int?
    }

    struct ShardState {
        var digest: String?
        var identity: (size: UInt64, modified: Int64)?
        var events = 0
        var failure: String?
    }

    public let configuration: Configuration
    private let model: ModelBundle
    private let modelDigest: String
    private let modelBytes: [UInt8]
    public private(set) var plan: RunPlan
    public private(set) var ledger: Ledger
    private var sessions: [Peer: Session] = [:]
    private var joinOrder: [Peer] = []
    /// Workers holding credits, longest-waiting first: only they can take work, so handing out work costs
    /// O(waiting) per message rather than O(connected) (1,000 workers would make it quadratic).
    private var hungry: [Peer] = []
    private var departed: [RunInfo.WorkerInfo] = []
    private var shardStates: [ShardState]
    private var pooled: PooledEmbedding
    private var skippedEvents = 0
    private var nonFinite: [Int]
    private var dropped = 0
    private var refused = 0
    private var workersJoined = 0
    private var shutdownSent = false
    private let started: Double
    private let log: (String) -> Void
    private var dropLogBudget = 20
    /// Where assignments, merged partials and failed attempts are recorded before they are sent or acknowledged.
    private var journal: Journal.Writer?
    /// Why journaling stopped working; the run must then be abandoned (nothing more can be acknowledged safely).
    public private(set) var journalFailure: JournalError?
    /// Per-item pooled sums, kept when `configuration.keepItems` (cache jobs).
    public private(set) var itemResults: [UInt64: PooledEmbedding] = [:]

    /// - Parameters:
    ///   - planFailures: shards that could not even be planned (unreadable at the coordinator), with the reason.
    ///   - modelBytes: the bundle file, sent to workers that do not have the model.
    public init(plan: RunPlan, planFailures: [(shard: ShardFile, reason: String)] = [], model: ModelBundle, modelBytes: [UInt8],
                configuration: Configuration, now: Double, log: @escaping (String) -> Void) {
        self.configuration = configuration
        self.model = model
        modelDigest = model.digest
        self.modelBytes = modelBytes
        self.log = log
        started = now
        var plan = plan
        var states = [ShardState](repeating: ShardState(), count: plan.shards.count)
        for (shard, reason) in planFailures {
            plan.add(PlannedShard(file: shard, events: 0))
            states.append(ShardState(failure: reason))
        }
        self.plan = plan
        shardStates = states
        ledger = Ledger(maxAttempts: configuration.maxAttempts)
        ledger.apply(.added(items: plan.items, location: nil))
        pooled = PooledEmbedding(dimensions: model.embeddingSize)
        nonFinite = [Int](repeating: 0, count: model.metadata.features.count)
    }

    // MARK: events

    /// Handles one received message.
    public func receive(_ frames: [[UInt8]], from peer: Peer, now: Double) -> [Outgoing] {
        var out: [Outgoing] = []
        let message: WorkerMessage
        do {
            message = try WorkerMessage.decode(frames)
        } catch {
            if let (version, kind) = try? Wire.header(frames.first ?? []), version != Wire.protocolVersion, kind == .ready {
                refused += 1
                log("refused a worker speaking protocol version \(version) (this coordinator speaks \(Wire.protocolVersion))")
                return [Outgoing(peer: peer, message: .refuse(reason: "protocol version \(version) is not supported; the coordinator speaks \(Wire.protocolVersion)"))]
            }
            drop("malformed message from \(describe(peer)): \(error.reason)")
            return []
        }
        if shutdownSent {
            guard message != .bye else {
                leave(peer, why: "left after the run")
                return []
            }
            return [Outgoing(peer: peer, message: .shutdown)]
        }
        if case .ready(let ready) = message {
            out += join(ready, peer: peer, now: now)
        } else if sessions[peer] == nil {
            drop("\(message.kindName) from unknown peer \(describe(peer)) (not joined, or lost and not rejoined)")
            return []
        } else {
            sessions[peer]!.lastSeen = now
            switch message {
            case .request(let credits):
                sessions[peer]!.credits = min(sessions[peer]!.credits + credits, 4 * sessions[peer]!.info.threads + 4)
                if sessions[peer]!.credits > 0 && !sessions[peer]!.waiting {
                    sessions[peer]!.waiting = true
                    hungry.append(peer)
                }
            case .partial(let partial):
                let worker = workerKey(peer)
                if ledger.state(of: partial.item) != nil, !ledger.wasAssigned(partial.item, to: worker) {
                    // Never handed this item: a confused or hostile worker. Nothing it sent is merged.
                    refused += 1
                    leave(peer, why: "was refused: it sent a partial for item \(partial.item), which was never assigned to it")
                    return [Outgoing(peer: peer, message: .refuse(reason: "partial for item \(partial.item) from \(worker), which was never assigned that item"))]
                }
                if let ack = merge(partial, from: peer) { out.append(Outgoing(peer: peer, message: ack)) }
            case .heartbeat:
                break
            case .bye:
                leave(peer, why: "said goodbye")
            case .ready:
                break
            }
        }
        out += assignWork(now: now)
        out += finishIfDone(now: now)
        for o in out where sessions[o.peer] != nil { sessions[o.peer]!.lastSent = now }
        return out
    }

    /// Attaches the journal at `path`: creates it when missing; otherwise replays it first (merged partials
    /// and failed attempts, so finished items are never handed out or merged again) and appends to it.
    /// A journal written for another model, plan or protocol version is refused. Call before serving.
    /// - Returns: the records replayed and the bytes of a torn last record that were cut off.
    @discardableResult
    public func useJournal(at path: String) throws(JournalError) -> (replayed: Int, tornBytes: Int) {
        let header = Journal.Header(modelDigest: modelDigest, planDigest: Journal.planDigest(plan))
        guard FileManager.default.fileExists(atPath: path) else {
            journal = try Journal.Writer(path: path, header: header)
            return (0, 0)
        }
        let contents = try Journal.read(path)
        func refuse(_ why: String) -> JournalError { JournalError(path: path, reason: why) }
        if contents.header.protocolVersion != header.protocolVersion {
            throw refuse("written by protocol version \(contents.header.protocolVersion); this coordinator speaks \(header.protocolVersion)")
        }
        if contents.header.modelDigest != header.modelDigest {
            throw refuse("written for model \(contents.header.modelDigest), this run uses \(header.modelDigest)")
        }
        if contents.header.planDigest != header.planDigest {
            throw refuse("written for other shards or another item size (plan \(contents.header.planDigest), this run \(header.planDigest))")
        }
        for (i, entry) in contents.records.enumerated() {
            /// The item must be in the plan and, for a merge or a failure, not be merged already.
            func check(_ id: UInt64, mergedAllowed: Bool) throws(JournalError) {
                guard let state = ledger.state(of: id) else { throw refuse("record \(i + 1) names item \(id), which this plan does not have") }
                guard mergedAllowed || state != .merged else { throw refuse("record \(i + 1) names item \(id) after it was merged") }
            }
            switch entry {
            case .assigned(let item, let worker):
                try check(item, mergedAllowed: true)
                ledger.rememberAssignment(item, to: worker)
            case .merged(let partial, _):
                try check(partial.item, mergedAllowed: false)
                if let problem = problem(with: partial) { throw refuse("record \(i + 1) is not a valid partial: \(problem)") }
                absorb(partial)
            case .attemptFailed(let item, let worker, let reason):
                try check(item, mergedAllowed: false)
                ledger.apply(.attemptFailed(item: item, worker: worker, reason: reason))
            }
        }
        journal = try Journal.Writer(appendingTo: path, tornBytes: contents.tornBytes)
        log("journal \(path): replayed \(contents.records.count) records (\(ledger.merged) items merged, \(ledger.failed) failed)"
            + (contents.tornBytes > 0 ? "; cut off a torn last record of \(contents.tornBytes) bytes" : ""))
        return (contents.records.count, contents.tornBytes)
    }

    /// Counts a worker refused by the transport (e.g. an unknown CURVE key) in the report's refusals.
    public func countRefusal(_ reason: String) {
        refused += 1
        log(reason)
    }

    /// Heartbeats and lost-worker detection; call at least every heartbeat interval.
    public func tick(now: Double) -> [Outgoing] {
        let interval = Double(configuration.heartbeatMilliseconds) / 1000
        var out: [Outgoing] = []
        for peer in joinOrder {
            guard let session = sessions[peer] else { continue }
            if now - session.lastSeen > interval * Double(configuration.liveness) {
                leave(peer, why: String(format: "lost: silent for %.1f s", now - session.lastSeen))
            } else if now - session.lastSent >= interval {
                out.append(Outgoing(peer: peer, message: shutdownSent ? .shutdown : .heartbeat))
                sessions[peer]!.lastSent = now
            }
        }
        out += assignWork(now: now)
        out += finishIfDone(now: now)
        return out
    }

    /// All items merged or failed (and the expected workers seen); SHUTDOWN has been sent.
    public var isFinished: Bool { shutdownSent }

    public func progress(now: Double) -> Progress {
        Progress(itemsTotal: ledger.total, itemsMerged: ledger.merged, itemsFailed: ledger.failed, events: pooled.events,
                 workersAlive: sessions.count, secondsElapsed: now - started)
    }

    // MARK: handlers

    private func join(_ ready: WorkerMessage.Ready, peer: Peer, now: Double) -> [Outgoing] {
        if !ready.modelDigest.isEmpty && ready.modelDigest != modelDigest {
            refused += 1
            log("refused worker \(ready.workerID) on \(ready.host): it holds model \(ready.modelDigest), the run uses \(modelDigest)")
            return [Outgoing(peer: peer, message: .refuse(reason: "model digest mismatch: the worker holds \(ready.modelDigest), the run uses \(modelDigest)"))]
        }
        if sessions[peer] != nil { leave(peer, why: "rejoined") }
        sessions[peer] = Session(info: RunInfo.WorkerInfo(id: ready.workerID, host: ready.host, pid: ready.pid, threads: ready.threads,
                                                          blasCore: ready.blasCore), lastSeen: now, lastSent: now)
        joinOrder.removeAll { $0 == peer }
        joinOrder.append(peer)
        workersJoined += 1
        var added = 0
        for shard in ready.localShards {
            let name = "\(ready.host):\(shard.relativePath)"
            guard !plan.shards.contains(where: { $0.location == ready.host && $0.file.path == shard.path }) else { continue }
            let items = plan.add(PlannedShard(file: ShardFile(path: shard.path, relativePath: name), events: shard.events, location: ready.host))
            shardStates.append(ShardState())
            ledger.apply(.added(items: items, location: ready.host))
            added += 1
        }
        log("worker \(ready.workerID) joined from \(ready.host) (pid \(ready.pid), \(ready.threads) threads, BLAS \(ready.blasCore))"
            + (added > 0 ? "; announced \(added) local shards" : ""))
        let welcome = CoordinatorMessage.Welcome(runID: configuration.runID, modelDigest: modelDigest,
                                                 model: ready.modelDigest.isEmpty ? modelBytes : [], dataset: configuration.dataset,
                                                 batchSize: configuration.batchSize, nonFinite: configuration.nonFinite,
                                                 heartbeatMilliseconds: configuration.heartbeatMilliseconds,
                                                 liveness: configuration.liveness, fileLocking: configuration.fileLocking,
                                                 simulation: plan.simulation)
        return [Outgoing(peer: peer, message: .welcome(welcome))]
    }

    private func leave(_ peer: Peer, why: String) {
        guard let session = sessions.removeValue(forKey: peer) else { return }
        let held = ledger.items(assignedTo: session.info.id)
        // Charged as in progress: the oldest items (one per thread) of a worker that had delivered work, so was
        // past start-up; a worker killed while starting is no evidence against the items it was handed.
        let working = session.info.items > 0
        for (k, id) in held.enumerated() { ledger.apply(.released(item: id, inProgress: working && k < session.info.threads)) }
        departed.append(session.info)
        joinOrder.removeAll { $0 == peer }
        hungry.removeAll { $0 == peer }
        log("worker \(session.info.id) on \(session.info.host) \(why)" + (held.isEmpty ? "" : "; re-queued items \(held.map(String.init).joined(separator: ", "))"))
    }

    /// Merges a partial exactly once; returns the acknowledgement (nil when the journal failed: no ACK).
    private func merge(_ partial: Partial, from peer: Peer) -> CoordinatorMessage? {
        let id = partial.item
        guard let state = ledger.state(of: id) else {
            drop("partial for unknown item \(id) from \(describe(peer))")
            return .ack(item: id, duplicate: true)
        }
        switch state {
        case .merged, .failed:
            ledger.countDuplicate()
            return .ack(item: id, duplicate: true)
        case .pending, .assigned:
            break
        }
        let item = ledger.item(id)
        let worker = workerKey(peer)
        if let failure = partial.failure {
            if let digest = partial.shardDigest { shardStates[item.shard].digest = digest }
            guard fail(id, on: worker, reason: failure.reason) else { return nil }
            return .ack(item: id, duplicate: false)
        }
        // Validate before merging: a malformed partial is a failed attempt, never merged.
        if let problem = problem(with: partial) {
            guard fail(id, on: worker, reason: "invalid partial: \(problem)") else { return nil }
            return .ack(item: id, duplicate: false)
        }
        guard record(.merged(partial, worker: worker)) else { return nil }
        absorb(partial)
        if var session = sessions[peer] {
            session.info.items += 1
            session.info.events += Int(partial.events)
            session.info.bytesRead += Int(partial.bytesRead)
            session.info.readSeconds += partial.readSeconds
            session.info.embedSeconds += partial.embedSeconds
            session.info.accumulateSeconds += partial.accumulateSeconds
            session.lastShard = item.shard
            sessions[peer] = session
        }
        return .ack(item: id, duplicate: false)
    }

    /// What makes a successful partial unfit to merge: sums or counts of the wrong shape, events that do not
    /// add up to the item's rows, or a shard that changed since its earlier items. nil when it is valid.
    private func problem(with partial: Partial) -> String? {
        let item = ledger.item(partial.item)
        let e = model.embeddingSize, f = model.metadata.features.count
        if partial.sums.count != e { return "\(partial.sums.count) sums for embedding size \(e)" }
        if partial.nonFinite.count != f { return "\(partial.nonFinite.count) non-finite counts for \(f) features" }
        if partial.events + partial.skippedEvents != UInt64(item.rows.count) {
            return "\(partial.events) events + \(partial.skippedEvents) skipped ≠ \(item.rows.count) rows"
        }
        if let known = shardStates[item.shard].identity, known != (partial.shardSize, partial.shardModified) {
            return "the shard changed during the run (size or modification time differ from an earlier item)"
        }
        return nil
    }

    /// Adds a validated partial to the run's sums and marks its item merged (live, or replayed from the journal).
    private func absorb(_ partial: Partial) {
        let item = ledger.item(partial.item)
        if let digest = partial.shardDigest { shardStates[item.shard].digest = digest }
        shardStates[item.shard].identity = (partial.shardSize, partial.shardModified)
        let part = PooledEmbedding(events: Int(partial.events), sums: partial.sums)
        pooled.merge(part)
        if configuration.keepItems { itemResults[partial.item] = part }
        skippedEvents += Int(partial.skippedEvents)
        for j in nonFinite.indices { nonFinite[j] += Int(partial.nonFinite[j]) }
        shardStates[item.shard].events += Int(partial.events)
        ledger.apply(.merged(item: partial.item))
    }

    /// Writes `record` to the journal, if any; false (and the run is to be abandoned) when that fails.
    private func record(_ entry: Journal.Record) -> Bool {
        guard let journal else { return true }
        guard journalFailure == nil else { return false }
        do {
            try journal.append(entry)
            return true
        } catch {
            journalFailure = error
            log("\(error): nothing more can be acknowledged; abandoning the run")
            return false
        }
    }

    /// Records a failed attempt (journal first); false when the journal failed.
    @discardableResult
    private func fail(_ id: UInt64, on worker: String, reason: String) -> Bool {
        guard record(.attemptFailed(item: id, worker: worker, reason: reason)) else { return false }
        ledger.apply(.attemptFailed(item: id, worker: worker, reason: reason))
        let item = ledger.item(id)
        let shard = plan.shards[item.shard].file.relativePath
        if case .failed = ledger.state(of: id) {
            log("item \(id) (\(shard) rows \(item.rows.lowerBound)..<\(item.rows.upperBound)) failed after \(ledger.attempts(of: id)) attempts: \(reason)")
        } else {
            log("item \(id) (\(shard)) failed on worker \(worker), will retry: \(reason)")
        }
        return true
    }

    private func assignWork(now: Double) -> [Outgoing] {
        guard !shutdownSent, ledger.hasQueued else { return [] }
        var out: [Outgoing] = []
        var stillHungry: [Peer] = []
        for peer in hungry {
            guard var session = sessions[peer] else { continue }
            while session.credits > 0,
                  let id = ledger.next(for: session.info.id, location: session.info.host, lastShard: session.lastShard,
                                       otherWorkers: self.joinOrder.compactMap { self.sessions[$0]?.info.id }.filter { $0 != session.info.id }) {
                guard record(.assigned(item: id, worker: session.info.id)) else { break }
                let item = ledger.item(id)
                let shard = plan.shards[item.shard]
                ledger.apply(.assigned(item: id, worker: session.info.id))
                if plan.simulation != nil {
                    out.append(Outgoing(peer: peer, message: .assignSet(item: id, index: item.shard)))
                } else {
                    out.append(Outgoing(peer: peer, message: .assign(.init(item: id, path: shard.file.path, relativePath: shard.file.relativePath,
                                                                             rows: item.rows, computeDigest: item.computesDigest))))
                }
                session.credits -= 1
                session.lastShard = item.shard
            }
            session.waiting = session.credits > 0
            sessions[peer] = session
            if session.waiting { stillHungry.append(peer) }
        }
        hungry = stillHungry
        return out
    }

    private func finishIfDone(now: Double) -> [Outgoing] {
        guard !shutdownSent, ledger.isComplete, workersJoined >= configuration.expectWorkers else { return [] }
        shutdownSent = true
        log(String(format: "run finished in %.1f s: %d items merged, %d failed, %d events", now - started, ledger.merged, ledger.failed, pooled.events))
        return joinOrder.map { Outgoing(peer: $0, message: .shutdown) }
    }

    // MARK: the outcome

    public func outcome(now: Double, host: String, startedISO: String, finishedISO: String) -> RunOutcome {
        var failureReason = [Int: String]()
        var failedItems: [RunInfo.FailedItem] = []
        for id in 0..<UInt64(ledger.total) {
            guard case .failed(let reason) = ledger.state(of: id) else { continue }
            let item = ledger.item(id)
            if failureReason[item.shard] == nil { failureReason[item.shard] = reason }
            failedItems.append(RunInfo.FailedItem(item: Int(id), shard: plan.shards[item.shard].file.relativePath, rows: item.rows,
                                                  attempts: ledger.attempts(of: id), reason: reason))
        }
        var shards: [ShardOutcome] = []
        var failures: [RunFailure] = []
        for (index, shard) in plan.shards.enumerated() {
            let state = shardStates[index]
            let error = state.failure ?? failureReason[index]
            shards.append(ShardOutcome(path: shard.file.relativePath, digest: state.digest, events: state.events,
                                       status: error == nil ? .ok : .failed, error: error))
            if let error { failures.append(RunFailure(shard: shard.file.relativePath, reason: error)) }
        }
        shards.sort { $0.path < $1.path }
        failures.sort { $0.shard < $1.shard }
        var named: [String: Int] = [:]
        for (j, count) in nonFinite.enumerated() where count > 0 { named[model.metadata.features[j]] = count }
        let workers = departed + joinOrder.compactMap { sessions[$0]?.info }
        let info = RunInfo(started: startedISO, finished: finishedISO, seconds: now - started, coordinatorHost: host,
                           rowsPerItem: plan.rowsPerItem, itemsTotal: ledger.total, itemsMerged: ledger.merged, itemsFailed: ledger.failed,
                           duplicatePartials: ledger.duplicates, releasedItems: ledger.released, droppedMessages: dropped,
                           refusedWorkers: refused, workers: workers, failedItems: failedItems)
        let inference = pooled.events > 0 ? DatasetInference(model: model, pooled: pooled, options: configuration.scan) : nil
        return RunOutcome(modelDigest: modelDigest, features: model.metadata.features, pooled: pooled, skippedEvents: skippedEvents,
                          nonFinite: named, shards: shards, failures: failures, inference: inference,
                          finetunedRange: model.metadata.setSizeRange, scan: configuration.scan, run: info)
    }

    // MARK: helpers

    private func workerKey(_ peer: Peer) -> String { sessions[peer]?.info.id ?? describe(peer) }

    private func describe(_ peer: Peer) -> String { "peer " + peer.map { String($0, radix: 16) }.joined() }

    /// Logs a dropped message; after 20, only every 1000th is logged (all are counted in the report).
    private func drop(_ reason: String) {
        dropped += 1
        if dropLogBudget > 0 {
            dropLogBudget -= 1
            log("dropped \(reason)")
        } else if dropped % 1000 == 0 {
            log("dropped \(dropped) malformed or unexpected messages so far (latest: \(reason))")
        }
    }
}

extension WorkerMessage {
    var kindName: String {
        switch self {
        case .ready: "READY"
        case .request: "REQUEST"
        case .partial: "PARTIAL"
        case .heartbeat: "HEARTBEAT"
        case .bye: "BYE"
        }
    }
}

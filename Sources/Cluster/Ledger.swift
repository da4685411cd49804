/// Exactly-once accounting of work items. Every change is a `LedgerEvent` applied through `apply(_:)`, so a
/// journal that records the events (and the merged partials) can rebuild the ledger after a crash.
public struct Ledger: Sendable {
    /// Where one item stands.
    public enum State: Sendable, Equatable {
        case pending
        case assigned(worker: String)
        case merged
        case failed(reason: String)
    }

    public enum Event: Sendable, Equatable {
        /// New items (from a shard announced by a worker, or the initial plan).
        case added(items: [WorkItem], location: String?)
        case assigned(item: UInt64, worker: String)
        case merged(item: UInt64)
        /// An attempt failed on `worker`; the item is retried elsewhere unless attempts are used up.
        case attemptFailed(item: UInt64, worker: String, reason: String)
        /// The worker holding the item was lost; the item goes back to the queue. Not an attempt; but an item
        /// whose worker is lost while it is `inProgress` (among the oldest the worker held, one per thread)
        /// `maxAttempts` times is a poison pill (e.g. a shard that crashes the HDF5 library) and is recorded as
        /// failed rather than killing every worker in turn. Items a lost worker merely held in reserve are not
        /// charged: under random node loss they would be, again and again, since re-queued items go first.
        case released(item: UInt64, inProgress: Bool)
    }

    struct Record: Sendable {
        var item: WorkItem
        var state: State = .pending
        var attempts = 0
        var failedOn: Set<String> = []
        /// Times the worker processing the item was lost.
        var losses = 0
        /// When the item was last assigned (a counter): a worker works on its oldest items first.
        var assignedAt = 0
        /// Every worker the item was ever handed to: only their partials for it are accepted.
        var assignedTo: Set<String> = []
        var location: String?
    }

    public let maxAttempts: Int
    private(set) var records: [Record] = []
    /// Pending items per shard, in id order (front = next), and shards with pending items in first-seen order
    /// (`activeShards` keeps stale entries behind `activeHead`/outside `activeSet`; cheap to skip).
    private var queues: [Int: [UInt64]] = [:]
    private var activeShards: [Int] = []
    private var activeHead = 0
    private var activeSet: Set<Int> = []
    public private(set) var merged = 0
    public private(set) var failed = 0
    /// Partials that arrived for items already merged (late or repeated) and were ignored.
    public private(set) var duplicates = 0
    /// Items put back in the queue because their worker was lost.
    public private(set) var released = 0
    private var assignments = 0

    public init(maxAttempts: Int) {
        precondition(maxAttempts >= 1)
        self.maxAttempts = maxAttempts
    }

    public var total: Int { records.count }
    public var isComplete: Bool { merged + failed == records.count }
    /// Whether any item waits for a worker.
    public var hasQueued: Bool { !activeSet.isEmpty }

    public func state(of item: UInt64) -> State? { Int(item) < records.count ? records[Int(item)].state : nil }
    public func attempts(of item: UInt64) -> Int { records[Int(item)].attempts }
    public func item(_ id: UInt64) -> WorkItem { records[Int(id)].item }
    /// The items `worker` holds, oldest assignment first.
    public func items(assignedTo worker: String) -> [UInt64] {
        records.filter { $0.state == .assigned(worker: worker) }.sorted { $0.assignedAt < $1.assignedAt }.map(\.item.id)
    }

    /// Whether `item` was ever assigned to `worker` (a late partial from a worker that lost the item is fine).
    public func wasAssigned(_ item: UInt64, to worker: String) -> Bool { records[Int(item)].assignedTo.contains(worker) }

    /// Remembers that an earlier coordinator of this run assigned `item` to `worker` (journal replay), so that
    /// worker's partial for it is accepted; the item itself stays where it is.
    public mutating func rememberAssignment(_ item: UInt64, to worker: String) { records[Int(item)].assignedTo.insert(worker) }

    /// Counts a partial for an item that was already merged or failed.
    public mutating func countDuplicate() { duplicates += 1 }

    public mutating func apply(_ event: Event) {
        switch event {
        case .added(let items, let location):
            for item in items {
                precondition(item.id == UInt64(records.count), "items are added in id order")
                records.append(Record(item: item, location: location))
                enqueue(item.id, front: false)
            }
        case .assigned(let id, let worker):
            precondition(records[Int(id)].state == .pending, "only pending items are assigned")
            dequeue(id)
            assignments += 1
            records[Int(id)].state = .assigned(worker: worker)
            records[Int(id)].assignedTo.insert(worker)
            records[Int(id)].assignedAt = assignments
        case .merged(let id):
            precondition(records[Int(id)].state != .merged, "an item is merged once")
            if records[Int(id)].state == .pending { dequeue(id) }
            records[Int(id)].state = .merged
            merged += 1
        case .attemptFailed(let id, let worker, let reason):
            var record = records[Int(id)]
            if record.state == .pending { dequeue(id) }
            record.attempts += 1
            record.failedOn.insert(worker)
            if record.attempts >= maxAttempts {
                record.state = .failed(reason: reason)
                failed += 1
                records[Int(id)] = record
            } else {
                record.state = .pending
                records[Int(id)] = record
                enqueue(id, front: true)
            }
        case .released(let id, let inProgress):
            guard case .assigned = records[Int(id)].state else { return }
            released += 1
            if inProgress { records[Int(id)].losses += 1 }
            if records[Int(id)].losses >= maxAttempts {
                records[Int(id)].state = .failed(reason: "\(records[Int(id)].losses) workers were lost while processing this item "
                                                 + "(it may crash or hang the reader, e.g. a damaged shard)")
                failed += 1
            } else {
                records[Int(id)].state = .pending
                enqueue(id, front: true)
            }
        }
    }

    /// The next item for `worker`: from the shard it worked on last if possible (page and chunk caches),
    /// else the first shard with pending items; only items at the worker's location (or on shared storage);
    /// passing over an item that already failed on this worker while one of `otherWorkers` has not tried it.
    public mutating func next(for worker: String, location: String?, lastShard: Int?,
                              otherWorkers: @autoclosure () -> [String]) -> UInt64? {
        let records = self.records
        func eligible(_ id: UInt64) -> Bool {
            let r = records[Int(id)]
            if let place = r.location, place != location { return false }
            return !r.failedOn.contains(worker) || otherWorkers().allSatisfy(r.failedOn.contains)
        }
        if let shard = lastShard, let queue = queues[shard], let id = queue.first(where: eligible) { return id }
        while activeHead < activeShards.count && !activeSet.contains(activeShards[activeHead]) { activeHead += 1 }
        for shard in activeShards[activeHead...] where activeSet.contains(shard) {
            if let id = queues[shard]?.first(where: eligible) { return id }
        }
        return nil
    }

    private mutating func enqueue(_ id: UInt64, front: Bool) {
        let shard = records[Int(id)].item.shard
        if activeSet.insert(shard).inserted { activeShards.append(shard) }
        if front { queues[shard, default: []].insert(id, at: 0) } else { queues[shard, default: []].append(id) }
    }

    private mutating func dequeue(_ id: UInt64) {
        let shard = records[Int(id)].item.shard
        queues[shard]?.removeAll { $0 == id }
        if queues[shard]?.isEmpty ?? true {
            queues[shard] = nil
            activeSet.remove(shard)
        }
    }
}

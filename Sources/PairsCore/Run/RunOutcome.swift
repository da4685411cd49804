/// Everything a finished run produced: the merged exact sums and counts, per-shard status, failures, and the
/// run's circumstances. The report is rendered from this; everything that varies between runs of the same
/// data (timings, hosts, item sizes, worker counts) lives in `run`.
public struct RunOutcome: Sendable {
    public var modelDigest: String
    public var features: [String]
    /// N (merged events) and Σ t(x).
    public var pooled: PooledEmbedding
    /// Events left out for non-finite features (policy skip) and the non-finite values per feature.
    public var skippedEvents: Int
    public var nonFinite: [String: Int]
    /// Every shard of the run, sorted by relative path.
    public var shards: [ShardOutcome]
    /// Shard-level failures, sorted by shard: the result misses their events.
    public var failures: [RunFailure]
    /// Posterior and likelihood-ratio scan of the merged sums (nil when no event was merged).
    public var inference: DatasetInference?
    /// The model's finetuned set-size range (for the report's extrapolation warning).
    public var finetunedRange: ClosedRange<Int>
    /// Grid settings of the likelihood scan.
    public var scan: ScanOptions
    public var run: RunInfo

    public init(modelDigest: String, features: [String], pooled: PooledEmbedding, skippedEvents: Int, nonFinite: [String: Int],
                shards: [ShardOutcome], failures: [RunFailure], inference: DatasetInference? = nil, finetunedRange: ClosedRange<Int> = 1...1,
                scan: ScanOptions = ScanOptions(), run: RunInfo) {
        self.modelDigest = modelDigest
        self.features = features
        self.pooled = pooled
        self.skippedEvents = skippedEvents
        self.nonFinite = nonFinite
        self.shards = shards
        self.failures = failures
        self.inference = inference
        self.finetunedRange = finetunedRange
        self.scan = scan
        self.run = run
    }

    /// Whether every event of every shard was merged.
    public var complete: Bool { failures.isEmpty }
}

public struct ShardOutcome: Sendable, Equatable {
    public enum Status: String, Sendable { case ok, failed }
    public var path: String
    public var digest: String?
    public var events: Int
    public var status: Status
    public var error: String?

    public init(path: String, digest: String?, events: Int, status: Status, error: String?) {
        self.path = path
        self.digest = digest
        self.events = events
        self.status = status
        self.error = error
    }
}

public struct RunFailure: Sendable, Equatable {
    public var shard: String
    public var reason: String

    public init(shard: String, reason: String) {
        self.shard = shard
        self.reason = reason
    }
}

/// How the run went: values that differ between runs over the same data.
public struct RunInfo: Sendable {
    public var started: String
    public var finished: String
    public var seconds: Double
    public var coordinatorHost: String
    public var rowsPerItem: Int
    public var itemsTotal: Int
    public var itemsMerged: Int
    public var itemsFailed: Int
    public var duplicatePartials: Int
    public var releasedItems: Int
    public var droppedMessages: Int
    public var refusedWorkers: Int
    public var workers: [WorkerInfo]
    public var failedItems: [FailedItem]

    public init(started: String, finished: String, seconds: Double, coordinatorHost: String, rowsPerItem: Int, itemsTotal: Int,
                itemsMerged: Int, itemsFailed: Int, duplicatePartials: Int, releasedItems: Int, droppedMessages: Int,
                refusedWorkers: Int, workers: [WorkerInfo], failedItems: [FailedItem]) {
        self.started = started
        self.finished = finished
        self.seconds = seconds
        self.coordinatorHost = coordinatorHost
        self.rowsPerItem = rowsPerItem
        self.itemsTotal = itemsTotal
        self.itemsMerged = itemsMerged
        self.itemsFailed = itemsFailed
        self.duplicatePartials = duplicatePartials
        self.releasedItems = releasedItems
        self.droppedMessages = droppedMessages
        self.refusedWorkers = refusedWorkers
        self.workers = workers
        self.failedItems = failedItems
    }

    public struct WorkerInfo: Sendable {
        public var id: String
        public var host: String
        public var pid: Int
        public var threads: Int
        public var blasCore: String
        public var items: Int
        public var events: Int
        public var bytesRead: Int
        public var readSeconds: Double
        public var embedSeconds: Double
        public var accumulateSeconds: Double

        public init(id: String, host: String, pid: Int, threads: Int, blasCore: String) {
            self.id = id
            self.host = host
            self.pid = pid
            self.threads = threads
            self.blasCore = blasCore
            items = 0
            events = 0
            bytesRead = 0
            readSeconds = 0
            embedSeconds = 0
            accumulateSeconds = 0
        }
    }

    public struct FailedItem: Sendable {
        public var item: Int
        public var shard: String
        public var rows: Range<Int>
        public var attempts: Int
        public var reason: String

        public init(item: Int, shard: String, rows: Range<Int>, attempts: Int, reason: String) {
            self.item = item
            self.shard = shard
            self.rows = rows
            self.attempts = attempts
            self.reason = reason
        }
    }
}

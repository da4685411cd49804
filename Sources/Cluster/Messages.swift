import PairsCore

/// The wire protocol between workers (DEALER) and the coordinator (ROUTER); schemas/wire.md is the
/// normative description. Every message is two frames: an 8-byte header and a body.
public enum Wire {
    /// Version of the protocol this pairs speaks; peers with another version are refused.
    public static let protocolVersion: UInt16 = 1
    static let magic: [UInt8] = Array("PAIR".utf8)

    /// Message type codes (header byte 6).
    public enum Kind: UInt8, Sendable {
        // worker → coordinator
        case ready = 0x01, request = 0x02, partial = 0x03, heartbeat = 0x04, bye = 0x05
        // coordinator → worker
        case welcome = 0x11, assign = 0x12, ack = 0x13, refuse = 0x14, shutdown = 0x15, assignSet = 0x16
    }

    /// Reads a header frame: (protocol version, kind). A foreign version is reported, not guessed at.
    public static func header(_ frame: [UInt8]) throws(WireError) -> (version: UInt16, kind: Kind) {
        guard frame.count == 8 else { throw WireError("header frame has \(frame.count) bytes, expected 8") }
        guard Array(frame[0..<4]) == magic else { throw WireError("header does not start with 'PAIR'") }
        let version = UInt16(frame[4]) | UInt16(frame[5]) << 8
        guard let kind = Kind(rawValue: frame[6]) else { throw WireError("unknown message type 0x\(String(frame[6], radix: 16))") }
        guard frame[7] == 0 else { throw WireError("reserved header byte is \(frame[7]), expected 0") }
        return (version, kind)
    }

    static func frames(_ kind: Kind, _ body: (inout WireWriter) -> Void = { _ in }) -> [[UInt8]] {
        var header = magic
        header += [UInt8(protocolVersion & 0xFF), UInt8(protocolVersion >> 8), kind.rawValue, 0]
        var w = WireWriter()
        body(&w)
        return [header, w.bytes]
    }

    /// Splits a received message into (kind, body reader), checking the frame count and version.
    static func open(_ frames: [[UInt8]]) throws(WireError) -> (Kind, WireReader) {
        guard frames.count == 2 else { throw WireError("\(frames.count) frames, expected 2 (header, body)") }
        let (version, kind) = try header(frames[0])
        guard version == protocolVersion else { throw WireError("protocol version \(version), this pairs speaks \(protocolVersion)") }
        return (kind, WireReader(frames[1]))
    }
}

/// A local shard a worker announces (worker `--shards DIR`): its path on that worker and its event count.
public struct AnnouncedShard: Sendable, Equatable {
    public let path: String
    public let relativePath: String
    public let events: Int

    public init(path: String, relativePath: String, events: Int) {
        self.path = path
        self.relativePath = relativePath
        self.events = events
    }
}

/// Messages a worker sends.
public enum WorkerMessage: Sendable, Equatable {
    /// Joining: identity, capacity, the model it holds (digest, empty if none), BLAS core, local shards.
    case ready(Ready)
    /// Asks for `credits` more work items.
    case request(credits: Int)
    case partial(Partial)
    case heartbeat
    /// Leaving (idle timeout or after SHUTDOWN).
    case bye

    public struct Ready: Sendable, Equatable {
        public var workerID: String
        public var host: String
        public var pid: Int
        public var threads: Int
        public var modelDigest: String
        public var blasCore: String
        public var localShards: [AnnouncedShard]

        public init(workerID: String, host: String, pid: Int, threads: Int, modelDigest: String, blasCore: String,
                    localShards: [AnnouncedShard] = []) {
            self.workerID = workerID
            self.host = host
            self.pid = pid
            self.threads = threads
            self.modelDigest = modelDigest
            self.blasCore = blasCore
            self.localShards = localShards
        }
    }

    public func frames() -> [[UInt8]] {
        switch self {
        case .ready(let r):
            return Wire.frames(.ready) { w in
                w.string(r.workerID); w.string(r.host); w.u32(UInt32(r.pid)); w.u16(UInt16(clamping: r.threads))
                w.string(r.modelDigest); w.string(r.blasCore)
                w.u32(UInt32(r.localShards.count))
                for s in r.localShards { w.string(s.path); w.string(s.relativePath); w.u64(UInt64(s.events)) }
            }
        case .request(let credits): return Wire.frames(.request) { $0.u16(UInt16(clamping: credits)) }
        case .partial(let p): return Wire.frames(.partial) { p.encode(into: &$0) }
        case .heartbeat: return Wire.frames(.heartbeat)
        case .bye: return Wire.frames(.bye)
        }
    }

    /// Decodes and validates a message; any defect is a `WireError` naming it.
    public static func decode(_ frames: [[UInt8]]) throws(WireError) -> WorkerMessage {
        var (kind, r) = try Wire.open(frames)
        let message: WorkerMessage
        switch kind {
        case .ready:
            var ready = Ready(workerID: try r.string("worker id", limit: 256), host: try r.string("host", limit: 1024),
                              pid: Int(try r.u32("pid")), threads: Int(try r.u16("threads")),
                              modelDigest: try r.string("model digest", limit: 128), blasCore: try r.string("BLAS core", limit: 256))
            guard !ready.workerID.isEmpty else { throw WireError("empty worker id") }
            guard ready.threads > 0 else { throw WireError("a worker needs at least one thread") }
            let count = try r.count("local shard count", limit: 1 << 20)
            for _ in 0..<count {
                let shard = AnnouncedShard(path: try r.string("local shard path", limit: 4096),
                                           relativePath: try r.string("local shard name", limit: 4096),
                                           events: Int(try r.u64("local shard events")))
                guard shard.events >= 0, shard.events < 1 << 50 else { throw WireError("local shard with \(shard.events) events") }
                ready.localShards.append(shard)
            }
            message = .ready(ready)
        case .request:
            let credits = Int(try r.u16("credits"))
            guard credits > 0 else { throw WireError("a request for 0 items") }
            message = .request(credits: credits)
        case .partial: message = .partial(try Partial.decode(&r))
        case .heartbeat: message = .heartbeat
        case .bye: message = .bye
        default: throw WireError("message type \(kind) is not one a worker sends")
        }
        try r.finish("\(kind) body")
        return message
    }
}

/// Messages the coordinator sends.
public enum CoordinatorMessage: Sendable, Equatable {
    case welcome(Welcome)
    case assign(Assignment)
    /// Simulate, embed and pool set `index` of the run's cache spec (cache jobs).
    case assignSet(item: UInt64, index: Int)
    /// The partial for `item` was merged (or was a duplicate of one already merged): the worker may forget it.
    case ack(item: UInt64, duplicate: Bool)
    /// The worker cannot take part (protocol version or model mismatch); it should exit.
    case refuse(reason: String)
    case heartbeat
    /// The run is over; the worker should exit.
    case shutdown

    /// What a worker needs to process items: the model (bytes, unless it already has a model with this
    /// digest), how to read shards, and the heartbeat settings.
    public struct Welcome: Sendable, Equatable {
        public var runID: String
        public var modelDigest: String
        /// The model bundle file, or empty when the worker announced the right digest.
        public var model: [UInt8]
        public var dataset: String?
        public var batchSize: Int
        public var nonFinite: NonFinitePolicy
        public var heartbeatMilliseconds: Int
        public var liveness: Int
        public var fileLocking: Bool
        /// For cache jobs: which sets to simulate (items are then ASSIGN_SET).
        public var simulation: CacheSpec?

        public init(runID: String, modelDigest: String, model: [UInt8], dataset: String?, batchSize: Int,
                    nonFinite: NonFinitePolicy, heartbeatMilliseconds: Int, liveness: Int, fileLocking: Bool, simulation: CacheSpec? = nil) {
            self.runID = runID
            self.modelDigest = modelDigest
            self.model = model
            self.dataset = dataset
            self.batchSize = batchSize
            self.nonFinite = nonFinite
            self.heartbeatMilliseconds = heartbeatMilliseconds
            self.liveness = liveness
            self.fileLocking = fileLocking
            self.simulation = simulation
        }
    }

    /// One work item as the worker opens it.
    public struct Assignment: Sendable, Equatable {
        public var item: UInt64
        public var path: String
        public var relativePath: String
        public var rows: Range<Int>
        public var computeDigest: Bool

        public init(item: UInt64, path: String, relativePath: String, rows: Range<Int>, computeDigest: Bool) {
            self.item = item
            self.path = path
            self.relativePath = relativePath
            self.rows = rows
            self.computeDigest = computeDigest
        }
    }

    public func frames() -> [[UInt8]] {
        switch self {
        case .welcome(let m):
            return Wire.frames(.welcome) { w in
                w.string(m.runID); w.string(m.modelDigest); w.blob(m.model); w.string(m.dataset ?? "")
                w.u32(UInt32(m.batchSize)); w.u8(m.nonFinite == .fail ? 0 : 1)
                w.u32(UInt32(m.heartbeatMilliseconds)); w.u16(UInt16(m.liveness)); w.bool(m.fileLocking)
                w.bool(m.simulation != nil)
                if let spec = m.simulation {
                    w.string(spec.simulator); w.f64(spec.luminosity); w.u64(UInt64(spec.sets))
                    w.u64(UInt64(spec.minimumSize)); w.u64(UInt64(spec.maximumSize)); w.u64(spec.seed)
                }
            }
        case .assignSet(let item, let index):
            return Wire.frames(.assignSet) { $0.u64(item); $0.u64(UInt64(index)) }
        case .assign(let a):
            return Wire.frames(.assign) { w in
                w.u64(a.item); w.string(a.path); w.string(a.relativePath)
                w.u64(UInt64(a.rows.lowerBound)); w.u64(UInt64(a.rows.upperBound)); w.bool(a.computeDigest)
            }
        case .ack(let item, let duplicate): return Wire.frames(.ack) { $0.u64(item); $0.bool(duplicate) }
        case .refuse(let reason): return Wire.frames(.refuse) { $0.string(reason) }
        case .heartbeat: return Wire.frames(.heartbeat)
        case .shutdown: return Wire.frames(.shutdown)
        }
    }

    public static func decode(_ frames: [[UInt8]]) throws(WireError) -> CoordinatorMessage {
        var (kind, r) = try Wire.open(frames)
        let message: CoordinatorMessage
        switch kind {
        case .welcome:
            let runID = try r.string("run id", limit: 256), digest = try r.string("model digest", limit: 128)
            let model = try r.blob("model")
            let dataset = try r.string("dataset", limit: 4096)
            let batch = Int(try r.u32("batch size"))
            guard batch > 0 else { throw WireError("batch size 0") }
            let policy: NonFinitePolicy
            switch try r.u8("non-finite policy") {
            case 0: policy = .fail
            case 1: policy = .skip
            case let v: throw WireError("non-finite policy \(v) is unknown")
            }
            let heartbeat = Int(try r.u32("heartbeat interval"))
            let liveness = Int(try r.u16("liveness"))
            guard heartbeat > 0, liveness > 0 else { throw WireError("heartbeat interval and liveness must be positive") }
            var welcome = Welcome(runID: runID, modelDigest: digest, model: model, dataset: dataset.isEmpty ? nil : dataset,
                                  batchSize: batch, nonFinite: policy, heartbeatMilliseconds: heartbeat, liveness: liveness,
                                  fileLocking: try r.bool("file locking"))
            if try r.bool("simulation present") {
                let simulator = try r.string("simulator", limit: 256), luminosity = try r.finite("luminosity")
                let sets = try r.u64("sets"), minimum = try r.u64("minimum set size"), maximum = try r.u64("maximum set size")
                let seed = try r.u64("seed")
                guard luminosity > 0, minimum >= 1, minimum <= maximum, maximum < 1 << 40, sets < 1 << 40 else {
                    throw WireError("simulation spec out of range (luminosity \(luminosity), sizes \(minimum)…\(maximum), \(sets) sets)")
                }
                welcome.simulation = CacheSpec(simulator: simulator, luminosity: luminosity, sets: Int(sets), minimumSize: Int(minimum),
                                               maximumSize: Int(maximum), seed: seed)
            }
            message = .welcome(welcome)
        case .assign:
            let item = try r.u64("item id"), path = try r.string("shard path", limit: 4096), name = try r.string("shard name", limit: 4096)
            let start = try r.u64("first row"), end = try r.u64("end row")
            guard start < end, end < 1 << 50 else { throw WireError("row range \(start)..<\(end) is empty or absurd") }
            message = .assign(Assignment(item: item, path: path, relativePath: name, rows: Int(start)..<Int(end),
                                         computeDigest: try r.bool("compute digest")))
        case .assignSet:
            let item = try r.u64("item id"), index = try r.u64("set index")
            guard index < 1 << 40 else { throw WireError("set index \(index) is absurd") }
            message = .assignSet(item: item, index: Int(index))
        case .ack: message = .ack(item: try r.u64("item id"), duplicate: try r.bool("duplicate"))
        case .refuse: message = .refuse(reason: try r.string("reason"))
        case .heartbeat: message = .heartbeat
        case .shutdown: message = .shutdown
        default: throw WireError("message type \(kind) is not one the coordinator sends")
        }
        try r.finish("\(kind) body")
        return message
    }
}

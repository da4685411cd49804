import ExactSum
import PairsCore

/// A unit of work: rows `rows` of one shard of the run plan.
public struct WorkItem: Sendable, Equatable {
    public let id: UInt64
    /// Index of the shard in the plan.
    public let shard: Int
    public let rows: Range<Int>
    /// The item that starts the shard also computes the shard's SHA-256 (once per shard, not per item).
    public var computesDigest: Bool { rows.lowerBound == 0 }
}

/// What a worker sends back for one work item: exact partial sums and counts, or why the item failed.
/// The format leaves room for more exact sums (`extraSums`) without a protocol change.
public struct Partial: Sendable, Equatable {
    /// Why an item failed; shard and embedding failures are deterministic (the same bytes fail again),
    /// I/O failures may be transient. All are retried a bounded number of times.
    public enum FailureKind: UInt8, Sendable {
        case shard = 1, embedding = 2, io = 3
    }

    public var item: UInt64
    public var failure: (kind: FailureKind, reason: String)?
    /// `sha256:…` of the shard file, when the item computed it.
    public var shardDigest: String?
    /// Size and modification time (ns since the epoch) of the shard as the worker saw it: all items of a
    /// shard must agree, or the file changed during the run.
    public var shardSize: UInt64
    public var shardModified: Int64
    public var events: UInt64
    public var skippedEvents: UInt64
    /// Non-finite values per model feature (policy skip).
    public var nonFinite: [UInt64]
    /// Σ t(x) per embedding dimension.
    public var sums: [ExactSum]
    /// Further named exact sums (none yet; reserved for e.g. a per-event LR over a θ grid).
    public var extraSums: [String: [ExactSum]]
    public var bytesRead: UInt64
    public var readSeconds: Double
    public var embedSeconds: Double
    public var accumulateSeconds: Double
    public var totalSeconds: Double

    public init(item: UInt64, failure: (kind: FailureKind, reason: String)? = nil, shardDigest: String? = nil,
                shardSize: UInt64 = 0, shardModified: Int64 = 0, events: UInt64 = 0, skippedEvents: UInt64 = 0,
                nonFinite: [UInt64] = [], sums: [ExactSum] = [], extraSums: [String: [ExactSum]] = [:], bytesRead: UInt64 = 0,
                readSeconds: Double = 0, embedSeconds: Double = 0, accumulateSeconds: Double = 0, totalSeconds: Double = 0) {
        self.item = item
        self.failure = failure
        self.shardDigest = shardDigest
        self.shardSize = shardSize
        self.shardModified = shardModified
        self.events = events
        self.skippedEvents = skippedEvents
        self.nonFinite = nonFinite
        self.sums = sums
        self.extraSums = extraSums
        self.bytesRead = bytesRead
        self.readSeconds = readSeconds
        self.embedSeconds = embedSeconds
        self.accumulateSeconds = accumulateSeconds
        self.totalSeconds = totalSeconds
    }

    public static func == (a: Partial, b: Partial) -> Bool {
        a.item == b.item && a.failure?.kind == b.failure?.kind && a.failure?.reason == b.failure?.reason
            && a.shardDigest == b.shardDigest && a.shardSize == b.shardSize && a.shardModified == b.shardModified
            && a.events == b.events && a.skippedEvents == b.skippedEvents && a.nonFinite == b.nonFinite && a.sums == b.sums
            && a.extraSums == b.extraSums && a.bytesRead == b.bytesRead && a.readSeconds == b.readSeconds
            && a.embedSeconds == b.embedSeconds && a.accumulateSeconds == b.accumulateSeconds && a.totalSeconds == b.totalSeconds
    }

    /// Limits enforced when decoding.
    static let maxSums = 1 << 16
    static let maxFeatures = 1 << 16

    func encode(into w: inout WireWriter) {
        w.u64(item)
        w.u8(failure?.kind.rawValue ?? 0)
        w.string(failure?.reason ?? "")
        w.string(shardDigest ?? "")
        w.u64(shardSize)
        w.i64(shardModified)
        w.u64(events)
        w.u64(skippedEvents)
        w.u32(UInt32(nonFinite.count))
        for n in nonFinite { w.u64(n) }
        Self.encode(sums, into: &w)
        w.u32(UInt32(extraSums.count))
        for name in extraSums.keys.sorted() {
            w.string(name)
            Self.encode(extraSums[name]!, into: &w)
        }
        w.u64(bytesRead)
        w.f64(readSeconds)
        w.f64(embedSeconds)
        w.f64(accumulateSeconds)
        w.f64(totalSeconds)
    }

    private static func encode(_ sums: [ExactSum], into w: inout WireWriter) {
        w.u32(UInt32(sums.count))
        for s in sums { w.blob(s.encoded()) }
    }

    static func decode(_ r: inout WireReader) throws(WireError) -> Partial {
        var p = Partial(item: try r.u64("item id"))
        let kind = try r.u8("failure kind")
        let reason = try r.string("failure reason")
        if kind != 0 {
            guard let k = FailureKind(rawValue: kind) else { throw WireError("failure kind \(kind) is unknown") }
            p.failure = (k, reason)
        } else if !reason.isEmpty {
            throw WireError("a failure reason without a failure kind")
        }
        let digest = try r.string("shard digest", limit: 128)
        p.shardDigest = digest.isEmpty ? nil : digest
        p.shardSize = try r.u64("shard size")
        p.shardModified = try r.i64("shard modification time")
        p.events = try r.u64("events")
        p.skippedEvents = try r.u64("skipped events")
        let features = try r.count("non-finite count", limit: maxFeatures)
        for _ in 0..<features { p.nonFinite.append(try r.u64("non-finite value count")) }
        p.sums = try decodeSums(&r, "sums")
        let extras = try r.count("extra sum count", limit: 64)
        for _ in 0..<extras {
            let name = try r.string("extra sum name", limit: 256)
            guard p.extraSums[name] == nil else { throw WireError("extra sum '\(name)' repeated") }
            p.extraSums[name] = try decodeSums(&r, "extra sum '\(name)'")
        }
        p.bytesRead = try r.u64("bytes read")
        p.readSeconds = try r.finite("read seconds", nonNegative: true)
        p.embedSeconds = try r.finite("embed seconds", nonNegative: true)
        p.accumulateSeconds = try r.finite("accumulate seconds", nonNegative: true)
        p.totalSeconds = try r.finite("total seconds", nonNegative: true)
        return p
    }

    private static func decodeSums(_ r: inout WireReader, _ what: String) throws(WireError) -> [ExactSum] {
        let n = try r.count("\(what) count", limit: maxSums)
        var sums: [ExactSum] = []
        sums.reserveCapacity(n)
        for i in 0..<n {
            let bytes = try r.blob("\(what)[\(i)]", limit: 3 + 8 * ExactSum.limbCount)
            do {
                sums.append(try ExactSum(encoded: bytes))
            } catch {
                throw WireError("\(what)[\(i)]: \(error.reason)")
            }
        }
        return sums
    }
}

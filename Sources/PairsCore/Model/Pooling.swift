import ExactSum
import Foundation

/// The exact pooled embedding of a set of events: N and Σ t(x) per embedding dimension. Merging is exact, so
/// the result does not depend on how the events were split or in which order the parts are merged.
public struct PooledEmbedding: Equatable, Sendable {
    public var events: Int
    public var sums: [ExactSum]

    public init(dimensions: Int) {
        events = 0
        sums = [ExactSum](repeating: ExactSum(), count: dimensions)
    }

    public init(events: Int, sums: [ExactSum]) {
        self.events = events
        self.sums = sums
    }

    public var dimensions: Int { sums.count }

    public mutating func merge(_ other: PooledEmbedding) {
        precondition(other.dimensions == dimensions, "pooled embeddings of different dimensions")
        events += other.events
        for i in sums.indices { sums[i].merge(other.sums[i]) }
    }

    /// Σ t correctly rounded to doubles.
    public var sum: [Double] { sums.map(\.doubleValue) }
    /// The mean embedding Σ t / N (each component: the correctly rounded sum divided by N); empty when N = 0.
    public var mean: [Double] { events == 0 ? [] : sums.map { $0.doubleValue / Double(events) } }
}

/// What pooling a row range of one shard produced.
public struct PoolResult: Sendable {
    public var pooled: PooledEmbedding
    /// Events left out for non-finite features (policy skip), and the non-finite values per selected feature.
    public var skippedEvents: Int
    public var nonFiniteCounts: [Int]
    /// Bytes of selected feature data read, as stored (before compression).
    public var bytesRead: Int
    public var readSeconds: Double
    public var embedSeconds: Double
    public var accumulateSeconds: Double
}

/// Why a row range could not be pooled.
public enum PoolingError: Error, CustomStringConvertible, Sendable {
    /// The shard could not be read (see `ShardError`).
    case shard(ShardError)
    /// The embedder produced NaN or ±Inf for an event of these rows (a model problem, not a data one).
    case nonFiniteEmbedding(shard: String, rows: Range<Int>)

    public var description: String {
        switch self {
        case .shard(let error): return error.description
        case .nonFiniteEmbedding(let shard, let rows):
            return "shard '\(shard)': the embedder produced a non-finite value for an event in rows \(rows.lowerBound)..<\(rows.upperBound)"
        }
    }
}

extension Embedder {
    /// Embeds `batch` and adds every event's embedding exactly into `pooled` (rows in `batch.skipped` are left
    /// out). The one embed-and-pool step of shards, simulated cache sets and validation data sets.
    /// - Returns: the shard rows of the first block whose embedding was not finite (nothing of that block is
    ///   added), and the seconds spent adding.
    func pool(_ batch: EventBatch, adder: inout ExactBlockSum, into pooled: inout PooledEmbedding)
        -> (nonFiniteRows: Range<Int>?, accumulateSeconds: Double) {
        var accumulate = 0.0
        var badRows: Range<Int>? = nil
        var skipped = batch.skipped[...]
        embed(batch) { blockRows, embeddings in
            let a0 = Clock.now
            let excluded = skipped.prefix { $0 < blockRows.upperBound }.map { $0 - blockRows.lowerBound }
            skipped = skipped.dropFirst(excluded.count)
            if !adder.add(embeddings, rows: 0..<blockRows.count, excluding: excluded[...], into: &pooled.sums) {
                badRows = badRows ?? (batch.rows.lowerBound + blockRows.lowerBound)..<(batch.rows.lowerBound + blockRows.upperBound)
            }
            accumulate += Clock.now - a0
        }
        pooled.events += batch.count
        return (badRows, accumulate)
    }
}

/// The worker's hot loop for one thread: read batches of a shard's rows → embed → add exactly into the pooled
/// sums. Keeps the last shard open (consecutive items of one shard reuse it) and all buffers across calls.
public final class ShardPooler {
    public let embedder: Embedder
    public let options: ShardReadOptions
    private var reader: ShardReader?
    private var adder: ExactBlockSum

    /// - Parameter options: how to read shards; the features are always the model's.
    public init(model: ModelBundle, options: ShardReadOptions) {
        embedder = Embedder(model.embedder)
        var options = options
        options.features = model.metadata.features
        // Read batches hold whole embedding blocks, so no block is split across two reads.
        options.batchSize = max(Embedder.blockRows, options.batchSize / Embedder.blockRows * Embedder.blockRows)
        self.options = options
        adder = ExactBlockSum(columns: model.embeddingSize)
    }

    /// Pools rows `rows` of `shard` (all rows if nil).
    public func pool(_ shard: ShardFile, rows: Range<Int>? = nil) throws(PoolingError) -> PoolResult {
        let reader: ShardReader
        do {
            if let open = self.reader, open.shard == shard {
                reader = open
            } else {
                self.reader = nil
                reader = try ShardReader(shard, options: options)
                self.reader = reader
            }
        } catch {
            throw .shard(error)
        }
        let range = rows ?? 0..<reader.events
        guard range.lowerBound >= 0, range.upperBound <= reader.events else {
            throw .shard(ShardError(shard: shard.relativePath, dataset: reader.datasetPath,
                                    reason: .readFailed("rows \(range.lowerBound)..<\(range.upperBound) outside the shard's \(reader.events) events")))
        }
        let skippedBefore = reader.skippedEvents, nonFiniteBefore = reader.nonFiniteCounts
        var result = PoolResult(pooled: PooledEmbedding(dimensions: embedder.outputSize), skippedEvents: 0,
                                nonFiniteCounts: [], bytesRead: 0, readSeconds: 0, embedSeconds: 0, accumulateSeconds: 0)
        var batch = EventBatch(features: reader.features.count, capacity: min(options.batchSize, range.count))
        var start = range.lowerBound
        while start < range.upperBound {
            let end = min(start + options.batchSize, range.upperBound)
            let t0 = Clock.now
            do {
                try reader.read(rows: start..<end, into: &batch)
            } catch {
                throw .shard(error)
            }
            let t1 = Clock.now
            let (badRows, accumulate) = embedder.pool(batch, adder: &adder, into: &result.pooled)
            if let badRows { throw .nonFiniteEmbedding(shard: shard.relativePath, rows: badRows) }
            let t2 = Clock.now
            result.readSeconds += t1 - t0
            result.embedSeconds += t2 - t1 - accumulate
            result.accumulateSeconds += accumulate
            start = end
        }
        result.skippedEvents = reader.skippedEvents - skippedBefore
        result.nonFiniteCounts = zip(reader.nonFiniteCounts, nonFiniteBefore).map { $0 - $1 }
        result.bytesRead = range.count * reader.storedBytesPerEvent
        return result
    }
}

/// Monotonic seconds, for timing the phases of the hot loop.
enum Clock {
    static var now: Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }
}

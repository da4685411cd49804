import HDF5
import Numerics

/// What to do with events that have a NaN or ±Inf feature value.
public enum NonFinitePolicy: String, Sendable, CaseIterable {
    /// The shard fails with an error counting the values per feature (default).
    case fail
    /// The events are left out (listed in `EventBatch.skipped`, their values zeroed) and counted per feature.
    case skip
}

/// How to read shards.
public struct ShardReadOptions: Sendable {
    /// Path of the dataset (layouts a, b) or group (layout c) inside the file; nil searches the file.
    public var dataset: String?
    /// Features to read, in this order; nil reads every numeric feature in stored order.
    public var features: [String]?
    /// Events per batch: memory use is proportional to this, never to the shard size.
    public var batchSize: Int
    public var nonFinite: NonFinitePolicy
    /// HDF5 file locking; shared file systems such as NFS need `.disabled`.
    public var locking: File.Locking

    public static let defaultBatchSize = 65_536

    public init(dataset: String? = nil, features: [String]? = nil, batchSize: Int = defaultBatchSize,
                nonFinite: NonFinitePolicy = .fail, locking: File.Locking = .libraryDefault) {
        precondition(batchSize > 0, "batch size must be positive")
        self.dataset = dataset
        self.features = features
        self.batchSize = batchSize
        self.nonFinite = nonFinite
        self.locking = locking
    }
}

/// A block of consecutive shard rows: `values` has one row per shard row in `rows` (selected features as
/// columns, row-major Float32). Rows are never compacted, so a row's position is its shard row.
public struct EventBatch: Sendable {
    public internal(set) var values: Matrix<Float>
    /// The shard rows this batch covers.
    public internal(set) var rows: Range<Int>
    /// Batch rows (ascending) left out for non-finite values under policy `skip`; their values are zeroed.
    public internal(set) var skipped: [Int]

    /// An empty batch with room for `capacity` events of `features` features.
    public init(features: Int, capacity: Int) {
        values = Matrix<Float>(rows: 0, columns: features, rowCapacity: capacity)
        rows = 0..<0
        skipped = []
    }

    /// A batch of given values starting at shard row `firstRow` (for tests and benchmarks).
    public init(values: Matrix<Float>, firstRow: Int = 0) {
        self.values = values
        rows = firstRow..<firstRow + values.rows
        skipped = []
    }

    /// Number of events in the batch (rows not skipped).
    public var count: Int { values.rows - skipped.count }
}

/// Reads the events of one shard in bounded-memory batches of selected features, converted to Float32.
///
/// Opening checks everything that can be checked without reading the data: the layout, the features and
/// their types, the event count and the compression filters. I/O happens on the calling thread.
public final class ShardReader {
    public let shard: ShardFile
    public let options: ShardReadOptions
    public let layout: ShardLayout
    /// Path of the dataset or group holding the events.
    public let datasetPath: String
    public let events: Int
    /// Every feature the layout offers, with its stored type.
    public let availableFeatures: [FeatureColumn]
    /// The features read, in batch column order.
    public let features: [String]
    /// Chunk shape of the (first) dataset, nil when contiguous.
    public let chunking: [Int]?
    /// Filter pipeline, e.g. ["shuffle", "gzip(4)"].
    public let compression: [String]
    /// Bytes one event's selected features occupy as stored (before compression), for I/O accounting.
    public let storedBytesPerEvent: Int

    /// Non-finite values seen so far per selected feature (policy `skip`).
    public private(set) var nonFiniteCounts: [Int]
    /// Events dropped so far for non-finite values (policy `skip`).
    public private(set) var skippedEvents = 0

    private let file: File
    private let source: Source

    /// Where the selected features come from, per layout.
    private enum Source {
        /// Layout (a): the dataset, the file column of each selected feature, and whether they are all
        /// columns in stored order (then rows are read straight into the batch).
        case matrix(Dataset, columns: [Int], direct: Bool)
        /// Layout (b): a memory compound type of Float32 fields in selection order; HDF5 picks and converts.
        case compound(Dataset, memoryType: Datatype)
        /// Layout (c): one dataset per selected feature.
        case columns([Dataset])
    }

    /// Scratch rows for layout (a) when only some columns are selected, and one column of layout (c); sized by
    /// the batch, not the shard.
    private var scratch: [Float] = []

    /// Opens `shard` and locates its events; throws a `ShardError` naming the shard, dataset and reason.
    public init(_ shard: ShardFile, options: ShardReadOptions = ShardReadOptions()) throws(ShardError) {
        self.shard = shard
        self.options = options
        let fail = { (dataset: String?, reason: ShardError.Reason) in
            ShardError(shard: shard.relativePath, dataset: dataset, reason: reason)
        }
        do {
            file = try File.open(shard.path, locking: options.locking)
        } catch {
            throw fail(nil, .unreadable(error.reason))
        }
        do {
            let root = try file.root()
            let found: Result<LayoutCandidate, ShardError.Reason>
            if let path = options.dataset {
                found = try LayoutDetector.candidate(at: path, in: root)
                    .flatMap { LayoutDetector.choose([$0], requested: options.features, seen: []) }
            } else {
                let (candidates, seen) = try LayoutDetector.search(root)
                found = LayoutDetector.choose(candidates, requested: options.features, seen: seen)
            }
            let candidate: LayoutCandidate
            switch found {
            case .success(let c): candidate = c
            case .failure(let reason): throw fail(options.dataset, reason)
            }
            if let lengths = candidate.raggedLengths { throw fail(candidate.path, .raggedColumns(lengths: lengths)) }

            let selected = options.features ?? candidate.features.filter(\.isNumeric).map(\.name)
            for name in selected {
                let column = candidate.features.first { $0.name == name }!
                if !column.isNumeric { throw fail(candidate.path, .unsupportedType(feature: name, dtype: column.dtype)) }
            }
            if selected.isEmpty { throw fail(candidate.path, .unknownLayout("no numeric features")) }
            if candidate.events == 0 { throw fail(candidate.path, .noEvents) }

            layout = candidate.layout
            datasetPath = candidate.path
            events = candidate.events
            availableFeatures = candidate.features
            features = selected
            nonFiniteCounts = Array(repeating: 0, count: selected.count)

            let datasets: [Dataset]
            switch candidate.layout {
            case .matrix, .compound:
                datasets = [try Self.openWithCache(root, candidate.path)]
            case .columns:
                datasets = try selected.map { (name) throws(HDF5Error) in try Self.openWithCache(root, candidate.path + "/" + name) }
            }
            let storage = try datasets.map { (d) throws(HDF5Error) in try d.storage() }
            for (dataset, info) in zip(datasets, storage) {
                if let missing = info.filters.first(where: { !$0.isAvailable }) {
                    throw fail(dataset.path, .filterUnavailable(id: missing.id, name: missing.name))
                }
            }
            chunking = storage[0].chunkDimensions
            storedBytesPerEvent = try Self.storedBytes(of: selected, in: candidate, datasets: datasets)
            compression = storage.flatMap { $0.filters.map(\.summary) }.uniqued()

            switch candidate.layout {
            case .matrix:
                let columns = selected.map { name in candidate.features.firstIndex { $0.name == name }! }
                source = .matrix(datasets[0], columns: columns, direct: columns == Array(0..<candidate.features.count))
            case .compound:
                let float = try Datatype.native(.float32)
                let fields = selected.enumerated().map { (name: $0.element, offset: 4 * $0.offset, type: float) }
                source = .compound(datasets[0], memoryType: try Datatype.compound(size: 4 * selected.count, fields: fields))
            case .columns:
                source = .columns(datasets)
            }
        } catch let error as ShardError {
            throw error
        } catch let error as HDF5Error {
            throw fail(options.dataset, .unreadable(error.reason))
        } catch {
            throw fail(options.dataset, .readFailed("\(error)"))
        }
    }

    /// Stored size of one event's selected features.
    private static func storedBytes(of selected: [String], in candidate: LayoutCandidate, datasets: [Dataset]) throws(HDF5Error) -> Int {
        switch candidate.layout {
        case .matrix:
            return selected.count * (try datasets[0].datatype().size)
        case .compound:
            let fields = try datasets[0].datatype().fields()
            return selected.reduce(0) { total, name in total + (fields.first { $0.name == name }?.type.size ?? 0) }
        case .columns:
            var total = 0
            for dataset in datasets { total += try dataset.datatype().size }
            return total
        }
    }

    /// Reopens a dataset with a chunk cache that holds two chunks, so a chunk straddling two batches is
    /// decompressed once and a chunk larger than HDF5's 1 MiB default cache is not decompressed per batch.
    private static func openWithCache(_ root: Group, _ path: String) throws(HDF5Error) -> Dataset {
        let probe = try root.openDataset(path)
        guard let chunk = try probe.storage().chunkDimensions else { return probe }
        let chunkBytes = chunk.reduce(1, *) * (try probe.datatype().size)
        return try root.openDataset(path, chunkCacheBytes: min(max(1 << 20, 2 * chunkBytes), 512 << 20))
    }

    /// Reads shard rows `rows` into `batch` (replacing its contents; no allocation once the batch has the
    /// capacity). Non-finite values are handled by the policy.
    public func read(rows: Range<Int>, into batch: inout EventBatch) throws(ShardError) {
        precondition(rows.lowerBound >= 0 && rows.upperBound <= events, "rows \(rows) outside the shard's 0..<\(events)")
        precondition(batch.values.columns == features.count, "batch has \(batch.values.columns) columns, reader selects \(features.count)")
        batch.rows = rows
        batch.skipped.removeAll(keepingCapacity: true)
        batch.values.resize(rows: rows.count)
        do {
            try fill(&batch.values, rows: rows)
        } catch {
            throw ShardError(shard: shard.relativePath, dataset: datasetPath, reason: .readFailed("rows \(rows.lowerBound)..<\(rows.upperBound): \(error.reason)"))
        }
        try screenNonFinite(&batch)
    }

    /// Calls `body` with successive batches covering `rows` (default: the whole shard), reusing one buffer.
    public func forEachBatch(rows: Range<Int>? = nil, _ body: (EventBatch) throws -> Void) throws {
        let range = rows ?? 0..<events
        var batch = EventBatch(features: features.count, capacity: min(options.batchSize, range.count))
        var start = range.lowerBound
        while start < range.upperBound {
            let end = min(start + options.batchSize, range.upperBound)
            try read(rows: start..<end, into: &batch)
            try body(batch)
            start = end
        }
    }

    private func fill(_ values: inout Matrix<Float>, rows: Range<Int>) throws(HDF5Error) {
        let n = rows.count, k = features.count
        switch source {
        case .matrix(let dataset, let columns, let direct):
            let fileSpace = try dataset.dataspace()
            if direct {
                try fileSpace.selectRows(rows)
                // The memory space has the selection's shape: with a flat one HDF5 falls back to gathering every
                // chunk element by element (H5S_select_iterate), which halved gzip read speed.
                try values.withValues { (buffer) throws(HDF5Error) in
                    try dataset.read(into: &buffer, memorySpace: try Dataspace(dimensions: [n, k]), fileSpace: fileSpace)
                }
                return
            }
            // Read the block of columns spanning the selection once, then gather the selected ones.
            let low = columns.min()!, span = columns.max()! - low + 1
            try fileSpace.selectHyperslab(start: [rows.lowerBound, low], count: [n, span])
            if scratch.count < n * span { scratch = [Float](repeating: 0, count: n * span) }
            try dataset.read(into: &scratch, memorySpace: try Dataspace(dimensions: [n, span]), fileSpace: fileSpace)
            scratch.withUnsafeBufferPointer { block in
                values.withUnsafeMutableBufferPointer { out in
                    for row in 0..<n {
                        for (j, column) in columns.enumerated() { out[row * k + j] = block[row * span + column - low] }
                    }
                }
            }
        case .compound(let dataset, let memoryType):
            let fileSpace = try dataset.dataspace()
            try fileSpace.selectRows(rows)
            try values.withValues { (buffer) throws(HDF5Error) in
                try dataset.read(into: &buffer, memoryType: memoryType, memorySpace: try Dataspace(dimensions: [n]), fileSpace: fileSpace)
            }
        case .columns(let datasets):
            // Each column into contiguous scratch (a strided memory selection sends HDF5 down its element-by-
            // element path), then interleaved here.
            let memory = try Dataspace(dimensions: [n])
            if scratch.count < n { scratch = [Float](repeating: 0, count: n) }
            for (j, dataset) in datasets.enumerated() {
                let fileSpace = try dataset.dataspace()
                try fileSpace.selectRows(rows)
                try dataset.read(into: &scratch, memorySpace: memory, fileSpace: fileSpace)
                scratch.withUnsafeBufferPointer { column in
                    values.withUnsafeMutableBufferPointer { out in
                        for row in 0..<n { out[row * k + j] = column[row] }
                    }
                }
            }
        }
    }

    /// Applies the non-finite policy: fail with per-feature counts, or zero those rows, list them in
    /// `batch.skipped` and count them.
    private func screenNonFinite(_ batch: inout EventBatch) throws(ShardError) {
        let k = features.count
        let clean = batch.values.withUnsafeBufferPointer { values in
            // Exponent bits all set ⇔ NaN or ±Inf; OR-reduced so the common all-finite case is one pass.
            var flag: UInt32 = 0
            for v in values { flag |= (v.bitPattern & 0x7F80_0000) == 0x7F80_0000 ? 1 : 0 }
            return flag == 0
        }
        if clean { return }
        var counts = [Int](repeating: 0, count: k)
        var skipped: [Int] = []
        batch.values.withUnsafeMutableBufferPointer { values in
            for row in 0..<values.count / k {
                var finite = true
                for j in 0..<k where !values[row * k + j].isFinite {
                    counts[j] += 1
                    finite = false
                }
                if !finite {
                    skipped.append(row)
                    for j in 0..<k { values[row * k + j] = 0 }
                }
            }
        }
        switch options.nonFinite {
        case .fail:
            var named: [String: Int] = [:]
            for (j, count) in counts.enumerated() where count > 0 { named[features[j]] = count }
            throw ShardError(shard: shard.relativePath, dataset: datasetPath, reason: .nonFinite(counts: named, rows: batch.rows))
        case .skip:
            for j in 0..<k { nonFiniteCounts[j] += counts[j] }
            skippedEvents += skipped.count
            batch.skipped.append(contentsOf: skipped)
        }
    }
}

extension Array where Element: Hashable {
    /// The elements in order, without repeats.
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}

import HDF5

/// Writes a shard in any accepted layout, streaming row blocks so that memory stays bounded; used by
/// `pairs simulate` and by tests. Values arrive as Float64 rows and HDF5 converts them to each column's type.
public final class ShardWriter {
    /// One output column.
    public struct Column: Sendable {
        public let name: String
        public let kind: ScalarKind
        public init(_ name: String, _ kind: ScalarKind = .float32) {
            self.name = name
            self.kind = kind
        }
    }

    /// Chunking and compression of the written datasets.
    public struct Storage: Sendable {
        /// Rows per chunk; nil writes contiguous (uncompressed) datasets.
        public var chunkRows: Int?
        /// gzip level, or nil for no compression (needs chunking).
        public var gzipLevel: Int?
        public var shuffle: Bool

        public init(chunkRows: Int? = 16_384, gzipLevel: Int? = 4, shuffle: Bool = true) {
            self.chunkRows = chunkRows
            self.gzipLevel = gzipLevel
            self.shuffle = shuffle
        }

        public static let contiguous = Storage(chunkRows: nil, gzipLevel: nil, shuffle: false)
    }

    public let path: String
    public let layout: ShardLayout
    public let columns: [Column]
    public let events: Int
    private let file: File
    private let datasets: [Dataset]
    private let memoryType: Datatype?

    /// Creates the file (replacing any old one) with room for `events` rows under `datasetPath`.
    public init(path: String, layout: ShardLayout, columns: [Column], events: Int, datasetPath: String = "events",
                storage: Storage = Storage()) throws(HDF5Error) {
        precondition(!columns.isEmpty, "a shard needs at least one column")
        self.path = path
        self.layout = layout
        self.columns = columns
        self.events = events
        file = try File.create(path, overwrite: true)
        let root = try file.root()
        func datasetStorage(_ trailing: [Int]) -> DatasetStorage {
            guard let rows = storage.chunkRows else { return .contiguous }
            var filters: [DatasetStorage.Filter] = []
            if storage.shuffle { filters.append(.shuffle) }
            if let level = storage.gzipLevel { filters.append(.deflate(level: level)) }
            return .chunked(chunk: [max(1, min(rows, events))] + trailing, filters: filters)
        }
        switch layout {
        case .matrix:
            precondition(Set(columns.map(\.kind)).count == 1, "a 2-D matrix shard has one element type for all columns")
            let dataset = try root.createDataset(datasetPath, type: .standard(columns[0].kind), dimensions: [events, columns.count],
                                                 storage: datasetStorage([columns.count]))
            try dataset.writeAttribute("features", .strings(columns.map(\.name)))
            datasets = [dataset]
            memoryType = nil
        case .compound:
            var offset = 0
            var fields: [(name: String, offset: Int, type: Datatype)] = []
            for column in columns {
                let type = try Datatype.standard(column.kind)
                fields.append((column.name, offset, type))
                offset += type.size
            }
            let fileType = try Datatype.compound(size: offset, fields: fields)
            datasets = [try root.createDataset(datasetPath, type: fileType, dimensions: [events], storage: datasetStorage([]))]
            let double = try Datatype.native(.float64)
            memoryType = try Datatype.compound(size: 8 * columns.count,
                                               fields: columns.enumerated().map { ($0.element.name, 8 * $0.offset, double) })
        case .columns:
            let group = try root.createGroup(datasetPath)
            datasets = try columns.map { (column) throws(HDF5Error) in
                try group.createDataset(column.name, type: .standard(column.kind), dimensions: [events], storage: datasetStorage([]))
            }
            memoryType = nil
        }
    }

    /// Attaches attributes to the events dataset (or group), e.g. the simulator and true θ of simulated shards.
    public func annotate(_ attributes: [String: AttributeValue]) throws(HDF5Error) {
        let target: Object = layout == .columns ? try file.root().openGroup(datasets[0].path.split(separator: "/").dropLast().joined(separator: "/"))
                                                : datasets[0]
        for (name, value) in attributes.sorted(by: { $0.key < $1.key }) { try target.writeAttribute(name, value) }
    }

    /// Writes rows `rows` from `values` (row-major, `rows.count × columns.count`).
    public func write(rows: Range<Int>, values: [Double]) throws(HDF5Error) {
        let k = columns.count, n = rows.count
        precondition(values.count == n * k, "\(values.count) values for \(n) rows of \(k) columns")
        guard n > 0 else { return }
        switch layout {
        case .matrix:
            try datasets[0].write(values, rows: rows)
        case .compound:
            let fileSpace = try datasets[0].dataspace()
            try fileSpace.selectRows(rows)
            try datasets[0].write(values, memoryType: memoryType, memorySpace: try Dataspace(dimensions: [n]), fileSpace: fileSpace)
        case .columns:
            let memory = try Dataspace(dimensions: [n * k])
            for (j, dataset) in datasets.enumerated() {
                let fileSpace = try dataset.dataspace()
                try fileSpace.selectRows(rows)
                try memory.selectHyperslab(start: [j], count: [n], stride: [k])
                try dataset.write(values, memorySpace: memory, fileSpace: fileSpace)
            }
        }
    }

    /// Flushes the file to disk (it is closed when the writer is released).
    public func finish() throws(HDF5Error) { try file.flush() }
}

import CHDF5

/// An HDF5 dataset: an n-dimensional array of one datatype, stored contiguously or in (filtered) chunks.
public final class Dataset: Object {
    /// The dataset's current extent as a fresh dataspace (select within it to read part of the data).
    public func dataspace() throws(HDF5Error) -> Dataspace {
        Dataspace(owning: try H5.call("H5Dget_space", path) { H5Dget_space(id) })
    }

    /// The stored element type.
    public func datatype() throws(HDF5Error) -> Datatype {
        Datatype(owning: try H5.call("H5Dget_type", path) { H5Dget_type(id) })
    }

    /// Current extent in each dimension.
    public func dimensions() throws(HDF5Error) -> [Int] { try dataspace().dimensions }

    /// How the data is laid out on disk and which filters (compression, shuffle, …) it passes through.
    public func storage() throws(HDF5Error) -> StorageInfo {
        let dcpl = try H5.call("H5Dget_create_plist", path) { H5Dget_create_plist(id) }
        defer { H5Pclose(dcpl) }
        let layout = try H5.call("H5Pget_layout", path) { H5Pget_layout(dcpl).rawValue }
        var chunk: [Int]? = nil
        if layout == H5D_CHUNKED.rawValue {
            var dims = [hsize_t](repeating: 0, count: 32)
            let rank = try H5.call("H5Pget_chunk", path) { H5Pget_chunk(dcpl, Int32(dims.count), &dims) }
            chunk = dims.prefix(Int(rank)).map { Int($0) }
        }
        let count = try H5.call("H5Pget_nfilters", path) { H5Pget_nfilters(dcpl) }
        var filters: [FilterInfo] = []
        for index in 0..<UInt32(count) {
            var flags: UInt32 = 0, config: UInt32 = 0
            var nValues = 8
            var values = [UInt32](repeating: 0, count: nValues)
            var name = [CChar](repeating: 0, count: 256)
            let filterID = try H5.call("H5Pget_filter2", path) {
                H5Pget_filter2(dcpl, index, &flags, &nValues, &values, name.count, &name, &config)
            }
            let available = try H5.truth("H5Zfilter_avail", path) { H5Zfilter_avail(filterID) }
            filters.append(FilterInfo(id: Int(filterID),
                                      storedName: name.withUnsafeBufferPointer { String(cString: $0.baseAddress!) },
                                      parameters: Array(values.prefix(min(nValues, values.count))),
                                      isAvailable: available))
        }
        let kind: StorageInfo.Layout = switch layout {
        case H5D_CHUNKED.rawValue: .chunked
        case H5D_COMPACT.rawValue: .compact
        case H5D_CONTIGUOUS.rawValue: .contiguous
        default: .other
        }
        return StorageInfo(layout: kind, chunkDimensions: chunk, filters: filters)
    }

    // MARK: reading and writing

    /// Reads the selected file elements into `buffer`, converting them to `memoryType` (default: `T`'s
    /// native type). `memorySpace` describes `buffer`; both spaces nil reads the whole dataset.
    /// The buffer must be large enough for `memorySpace`'s full extent; it is never resized.
    public func read<T: HDF5Scalar>(into buffer: inout [T], memoryType: Datatype? = nil,
                                    memorySpace: Dataspace? = nil, fileSpace: Dataspace? = nil) throws(HDF5Error) {
        let type = if let memoryType { memoryType } else { try Datatype.native(T.scalarKind) }
        let (mem, file) = try checkedSpaces(memorySpace, fileSpace, elementSize: type.size,
                                            bufferBytes: buffer.count * MemoryLayout<T>.stride, call: "H5Dread")
        _ = try H5.call("H5Dread", path) {
            buffer.withUnsafeMutableBytes { H5Dread(id, type.id, mem, file, chdf5_P_DEFAULT(), $0.baseAddress) }
        }
    }

    /// Writes `values` to the selected file elements; the mirror of `read(into:…)`.
    public func write<T: HDF5Scalar>(_ values: [T], memoryType: Datatype? = nil,
                                     memorySpace: Dataspace? = nil, fileSpace: Dataspace? = nil) throws(HDF5Error) {
        let type = if let memoryType { memoryType } else { try Datatype.native(T.scalarKind) }
        let (mem, file) = try checkedSpaces(memorySpace, fileSpace, elementSize: type.size,
                                            bufferBytes: values.count * MemoryLayout<T>.stride, call: "H5Dwrite")
        _ = try H5.call("H5Dwrite", path) {
            values.withUnsafeBytes { H5Dwrite(id, type.id, mem, file, chdf5_P_DEFAULT(), $0.baseAddress) }
        }
    }

    /// Reads the whole dataset as `T` (row-major).
    public func readAll<T: HDF5Scalar>(as _: T.Type = T.self) throws(HDF5Error) -> [T] {
        var values = [T](repeating: T(), count: try dataspace().elementCount)
        try read(into: &values)
        return values
    }

    /// Writes `values` into rows `rows` of the leading dimension (all of every other dimension).
    public func write<T: HDF5Scalar>(_ values: [T], rows: Range<Int>, memoryType: Datatype? = nil) throws(HDF5Error) {
        let file = try dataspace()
        try file.selectRows(rows)
        let memory = try Dataspace(dimensions: [file.selectedCount])
        try write(values, memoryType: memoryType, memorySpace: memory, fileSpace: file)
    }

    /// Grows (or shrinks) a chunked dataset to `dimensions`, within its maximum extent.
    public func setExtent(_ dimensions: [Int]) throws(HDF5Error) {
        let dims = dimensions.map { hsize_t($0) }
        _ = try H5.call("H5Dset_extent", path) { H5Dset_extent(id, dims) }
    }

    /// Validates the memory/file spaces against the buffer size and returns their ids.
    private func checkedSpaces(_ memory: Dataspace?, _ file: Dataspace?, elementSize: Int, bufferBytes: Int,
                               call: String) throws(HDF5Error) -> (hid_t, hid_t) {
        let needed: Int
        switch (memory, file) {
        case (nil, nil): needed = try dataspace().elementCount * elementSize
        case (let memory?, _): needed = memory.elementCount * elementSize
        case (nil, _?): throw HDF5Error.wrapper(call, path, "a file selection needs a memory dataspace")
        }
        guard needed <= bufferBytes else {
            throw HDF5Error.wrapper(call, path, "buffer holds \(bufferBytes) bytes, the memory dataspace needs \(needed)")
        }
        return (memory?.id ?? chdf5_S_ALL(), file?.id ?? chdf5_S_ALL())
    }
}

/// How a new dataset is stored.
public enum DatasetStorage: Sendable {
    case contiguous
    /// Chunks of `chunk` elements per dimension, each passed through `filters` in order.
    case chunked(chunk: [Int], filters: [Filter])

    /// A filter applied to each chunk when it is written.
    public enum Filter: Sendable, Equatable {
        /// Byte shuffle (helps gzip on floats).
        case shuffle
        /// gzip at `level` 0…9.
        case deflate(level: Int)
        /// Fletcher-32 checksum: corrupted chunks fail to read instead of returning wrong numbers.
        case fletcher32
    }

    func creationProperties(subject: String) throws(HDF5Error) -> hid_t {
        let dcpl = try H5.call("H5Pcreate") { H5Pcreate(chdf5_P_DATASET_CREATE()) }
        do {
            if case .chunked(let chunk, let filters) = self {
                let dims = chunk.map { hsize_t($0) }
                _ = try H5.call("H5Pset_chunk", subject) { H5Pset_chunk(dcpl, Int32(dims.count), dims) }
                for filter in filters {
                    switch filter {
                    case .shuffle: _ = try H5.call("H5Pset_shuffle", subject) { H5Pset_shuffle(dcpl) }
                    case .deflate(let level): _ = try H5.call("H5Pset_deflate", subject) { H5Pset_deflate(dcpl, UInt32(level)) }
                    case .fletcher32: _ = try H5.call("H5Pset_fletcher32", subject) { H5Pset_fletcher32(dcpl) }
                    }
                }
            }
            return dcpl
        } catch {
            H5Pclose(dcpl)
            throw error
        }
    }
}

/// How an existing dataset is stored.
public struct StorageInfo: Sendable {
    public enum Layout: String, Sendable { case contiguous, chunked, compact, other }
    public let layout: Layout
    /// Chunk extent per dimension, for chunked datasets.
    public let chunkDimensions: [Int]?
    /// The filter pipeline in application order.
    public let filters: [FilterInfo]
}

/// One filter of a dataset's pipeline, with whether this libhdf5 can decode it.
public struct FilterInfo: Sendable, Equatable {
    /// The registered HDF5 filter id (1 gzip, 2 shuffle, 32000 LZF, …).
    public let id: Int
    /// The name stored in the file, if any.
    public let storedName: String
    /// The filter's client parameters (e.g. the gzip level).
    public let parameters: [UInt32]
    /// Whether the filter is built in or was found on `HDF5_PLUGIN_PATH`.
    public let isAvailable: Bool

    /// A short name for well-known filters, else the stored name, else `filter <id>`.
    public var name: String {
        switch id {
        case 1: "gzip"
        case 2: "shuffle"
        case 3: "fletcher32"
        case 4: "szip"
        case 5: "nbit"
        case 6: "scaleoffset"
        case 32000: "lzf"
        case 32001: "blosc"
        case 32004: "lz4"
        case 32008: "bitshuffle"
        case 32013: "zfp"
        case 32015: "zstd"
        default: storedName.isEmpty ? "filter \(id)" : storedName
        }
    }

    /// `gzip(4)` for gzip with its level, the plain name otherwise.
    public var summary: String {
        id == 1 && !parameters.isEmpty ? "gzip(\(parameters[0]))" : name
    }
}

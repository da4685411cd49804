import CHDF5

/// The shape of a dataset or memory buffer, and a selection of elements within it.
public final class Dataspace {
    let id: hid_t

    init(owning id: hid_t) { self.id = id }

    deinit { H5Sclose(id) }

    /// A simple dataspace of `dimensions`; `maxDimensions` entries of nil are unlimited (needs chunking).
    public convenience init(dimensions: [Int], maxDimensions: [Int?]? = nil) throws(HDF5Error) {
        let dims = dimensions.map { hsize_t($0) }
        let maxDims = maxDimensions?.map { $0.map { hsize_t($0) } ?? chdf5_S_UNLIMITED() }
        let id: hid_t
        if let maxDims {
            id = try H5.call("H5Screate_simple") { H5Screate_simple(Int32(dims.count), dims, maxDims) }
        } else {
            id = try H5.call("H5Screate_simple") { H5Screate_simple(Int32(dims.count), dims, nil) }
        }
        self.init(owning: id)
    }

    /// A scalar (single element) dataspace.
    public static func scalar() throws(HDF5Error) -> Dataspace {
        Dataspace(owning: try H5.call("H5Screate") { H5Screate(H5S_SCALAR) })
    }

    /// Number of dimensions (0 for scalar).
    public var rank: Int { Int(H5Sget_simple_extent_ndims(id)) }

    /// Current extent in each dimension.
    public var dimensions: [Int] {
        var dims = [hsize_t](repeating: 0, count: max(rank, 1))
        H5Sget_simple_extent_dims(id, &dims, nil)
        return dims.prefix(rank).map { Int($0) }
    }

    /// Total number of elements in the extent.
    public var elementCount: Int { dimensions.reduce(1, *) }

    /// Number of elements currently selected.
    public var selectedCount: Int { Int(H5Sget_select_npoints(id)) }

    /// How a new hyperslab combines with the current selection.
    public enum Combine: Sendable { case replace, union }

    /// Selects a (strided, blocked) hyperslab; all arrays have one entry per dimension.
    public func selectHyperslab(start: [Int], count: [Int], stride: [Int]? = nil, block: [Int]? = nil,
                                combine: Combine = .replace) throws(HDF5Error) {
        precondition(start.count == rank && count.count == rank, "hyperslab needs one start and count per dimension")
        let op = combine == .replace ? H5S_SELECT_SET : H5S_SELECT_OR
        let s = start.map { hsize_t($0) }, c = count.map { hsize_t($0) }
        let st = stride?.map { hsize_t($0) }, b = block?.map { hsize_t($0) }
        _ = try H5.call("H5Sselect_hyperslab") {
            withOptionalPointer(st) { stp in withOptionalPointer(b) { bp in H5Sselect_hyperslab(id, op, s, stp, c, bp) } }
        }
    }

    /// Selects the rows `rows` of the leading dimension and every element of the others.
    public func selectRows(_ rows: Range<Int>) throws(HDF5Error) {
        let dims = dimensions
        precondition(!dims.isEmpty && rows.lowerBound >= 0 && rows.upperBound <= dims[0], "rows \(rows) outside 0..<\(dims.first ?? 0)")
        try selectHyperslab(start: [rows.lowerBound] + Array(repeating: 0, count: dims.count - 1),
                            count: [rows.count] + dims.dropFirst())
    }

    public func selectAll() throws(HDF5Error) { _ = try H5.call("H5Sselect_all") { H5Sselect_all(id) } }
    public func selectNone() throws(HDF5Error) { _ = try H5.call("H5Sselect_none") { H5Sselect_none(id) } }
}

/// Passes a pointer to `array`'s elements, or nil when `array` is nil.
private func withOptionalPointer<R>(_ array: [hsize_t]?, _ body: (UnsafePointer<hsize_t>?) -> R) -> R {
    guard let array else { return body(nil) }
    return array.withUnsafeBufferPointer { body($0.baseAddress) }
}

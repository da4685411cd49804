/// A dense row-major matrix. Its row count can shrink and grow again within the reserved capacity
/// without reallocating, so one matrix serves every batch of a stream.
public struct Matrix<Scalar: BLASScalar>: Equatable, Sendable {
    public let columns: Int
    @usableFromInline var rowCount: Int
    @usableFromInline var storage: [Scalar]

    /// Number of rows.
    public var rows: Int { rowCount }
    /// Row-major values; `values.count == rows * columns`.
    public var values: [Scalar] { storage }

    /// A `rows × columns` matrix filled with `value`, with room for `rowCapacity` rows.
    public init(rows: Int, columns: Int, repeating value: Scalar = 0, rowCapacity: Int? = nil) {
        precondition(rows >= 0 && columns >= 0, "negative matrix shape \(rows)×\(columns)")
        rowCount = rows
        self.columns = columns
        storage = []
        storage.reserveCapacity(max(rows, rowCapacity ?? 0) * columns)
        storage.append(contentsOf: repeatElement(value, count: rows * columns))
    }

    /// A `rows × columns` matrix holding `values` in row-major order.
    public init(rows: Int, columns: Int, values: [Scalar]) {
        precondition(values.count == rows * columns, "\(values.count) values for a \(rows)×\(columns) matrix")
        rowCount = rows
        self.columns = columns
        storage = values
    }

    @inlinable
    public subscript(row: Int, column: Int) -> Scalar {
        get { storage[row * columns + column] }
        set { storage[row * columns + column] = newValue }
    }

    /// The values of row `row`.
    @inlinable
    public func row(_ row: Int) -> ArraySlice<Scalar> {
        storage[row * columns..<(row + 1) * columns]
    }

    /// Changes the row count; new rows are zero. Shrinking keeps the storage, so growing back to an
    /// earlier size does not allocate.
    @inlinable
    public mutating func resize(rows newRows: Int) {
        precondition(newRows >= 0, "negative row count \(newRows)")
        if newRows < rowCount {
            storage.removeLast((rowCount - newRows) * columns)
        } else if newRows > rowCount {
            storage.append(contentsOf: repeatElement(0, count: (newRows - rowCount) * columns))
        }
        rowCount = newRows
    }

    /// Sets every value to `value`.
    @inlinable
    public mutating func fill(_ value: Scalar) {
        withUnsafeMutableBufferPointer { $0.update(repeating: value) }
    }

    /// Gives `body` the row-major storage to fill or update in place.
    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R>(_ body: (inout UnsafeMutableBufferPointer<Scalar>) throws -> R) rethrows -> R {
        try storage.withUnsafeMutableBufferPointer(body)
    }

    /// Gives `body` read access to the row-major storage.
    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Scalar>) throws -> R) rethrows -> R {
        try storage.withUnsafeBufferPointer(body)
    }

    /// Direct access to the storage as an array, e.g. for HDF5 reads into a preallocated buffer.
    public mutating func withValues<R, E: Error>(_ body: (inout [Scalar]) throws(E) -> R) throws(E) -> R {
        let count = storage.count
        defer { precondition(storage.count == count, "the matrix storage must keep its size") }
        return try body(&storage)
    }
}

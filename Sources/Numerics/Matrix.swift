/// A dense row-major Float32 matrix. Its row count can shrink and grow again within the reserved
/// capacity without reallocating, so one matrix serves every batch of a stream.
public struct Matrix: Equatable, Sendable {
    public private(set) var rows: Int
    public let columns: Int
    /// Row-major values; `values.count == rows * columns`.
    public private(set) var values: [Float]

    /// A `rows × columns` matrix filled with `value`, with room for `rowCapacity` rows.
    public init(rows: Int, columns: Int, repeating value: Float = 0, rowCapacity: Int? = nil) {
        precondition(rows >= 0 && columns >= 0, "negative matrix shape \(rows)×\(columns)")
        self.rows = rows
        self.columns = columns
        values = []
        values.reserveCapacity(max(rows, rowCapacity ?? 0) * columns)
        values.append(contentsOf: repeatElement(value, count: rows * columns))
    }

    /// A `rows × columns` matrix holding `values` in row-major order.
    public init(rows: Int, columns: Int, values: [Float]) {
        precondition(values.count == rows * columns, "\(values.count) values for a \(rows)×\(columns) matrix")
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    public subscript(row: Int, column: Int) -> Float {
        get { values[row * columns + column] }
        set { values[row * columns + column] = newValue }
    }

    /// The values of row `row`.
    public func row(_ row: Int) -> ArraySlice<Float> {
        values[row * columns..<(row + 1) * columns]
    }

    /// Changes the row count; new rows are zero. Shrinking keeps the storage, so growing back to an
    /// earlier size does not allocate.
    public mutating func resize(rows newRows: Int) {
        precondition(newRows >= 0, "negative row count \(newRows)")
        if newRows < rows {
            values.removeLast((rows - newRows) * columns)
        } else if newRows > rows {
            values.append(contentsOf: repeatElement(0, count: (newRows - rows) * columns))
        }
        rows = newRows
    }

    /// Gives `body` the row-major storage to fill or update in place.
    public mutating func withUnsafeMutableBufferPointer<R, E: Error>(
        _ body: (inout UnsafeMutableBufferPointer<Float>) throws(E) -> R) throws(E) -> R {
        var result: Result<R, E>! = nil
        values.withUnsafeMutableBufferPointer { buffer in
            do throws(E) { result = .success(try body(&buffer)) } catch { result = .failure(error) }
        }
        return try result.get()
    }

    /// Gives `body` read access to the row-major storage.
    public func withUnsafeBufferPointer<R, E: Error>(_ body: (UnsafeBufferPointer<Float>) throws(E) -> R) throws(E) -> R {
        var result: Result<R, E>! = nil
        values.withUnsafeBufferPointer { buffer in
            do throws(E) { result = .success(try body(buffer)) } catch { result = .failure(error) }
        }
        return try result.get()
    }

    /// Direct access to the storage as an array, e.g. for HDF5 reads into a preallocated buffer.
    public mutating func withValues<R, E: Error>(_ body: (inout [Float]) throws(E) -> R) throws(E) -> R {
        let count = values.count
        defer { precondition(values.count == count, "the matrix storage must keep its size") }
        return try body(&values)
    }
}

/// Adds row-major blocks of Float32 values (rows × columns) exactly into one `ExactSum` per column, fast.
///
/// For each column of up to `maxRows` rows it finds the largest magnitude, sums the values within
/// `window` binary exponents of it in a Double — exact by construction: such values are multiples of the
/// window's smallest ulp and at most 2⁸ of them stay below 2⁵³ of those ulps, so every partial sum is
/// representable and the order of additions does not matter — and adds that one Double to the column's
/// `ExactSum`. The rare smaller values are added one by one. All loops are branch-free over contiguous
/// columns so that they vectorise. Scratch buffers are reused: no allocation per block.
public struct ExactBlockSum: Sendable {
    /// Rows per window pass: 2⁸, so that window + log2(rows) + 24 ≤ 53 + 1 with `window` = 22.
    public static let maxRows = 256
    /// Width of the exponent window summed in a Double.
    static let window: UInt32 = 22

    public let columns: Int
    private var maxBits: [UInt32]
    private var threshold: [UInt32]
    private var partial: [Double]
    private var outliers: [UInt32]

    public init(columns: Int) {
        precondition(columns > 0, "need at least one column")
        self.columns = columns
        maxBits = [UInt32](repeating: 0, count: columns)
        threshold = [UInt32](repeating: 0, count: columns)
        partial = [Double](repeating: 0, count: columns)
        outliers = [UInt32](repeating: 0, count: columns)
    }

    /// Adds rows `rows` of a row-major block with `columns` values per row into `sums[c]`, leaving out the
    /// block rows listed (ascending) in `excluding`.
    /// - Returns: false if a value is NaN or infinite. Chunks of `maxRows` rows before the bad one have
    ///   been added: the sums are then to be discarded (a single call of up to `maxRows` rows adds nothing).
    public mutating func add(_ block: UnsafeBufferPointer<Float>, rows: Range<Int>, excluding: ArraySlice<Int> = [],
                             into sums: inout [ExactSum]) -> Bool {
        precondition(sums.count == columns, "\(sums.count) sums for \(columns) columns")
        precondition(rows.upperBound * columns <= block.count, "block holds fewer rows than \(rows)")
        var start = rows.lowerBound
        var skip = excluding.drop { $0 < start }
        while start < rows.upperBound {
            let end = min(start + Self.maxRows, rows.upperBound)
            let chunkSkip = skip.prefix { $0 < end }
            guard pass(block.baseAddress!, rows: start..<end, excluding: chunkSkip, into: &sums) else { return false }
            skip = skip.dropFirst(chunkSkip.count)
            start = end
        }
        return true
    }

    /// One column with a stride (used by `ExactSum.add(contentsOf:stride:)`); the caller checks finiteness.
    mutating func addColumn(_ first: UnsafePointer<Float>, stride: Int, rows: Int, into sum: inout ExactSum) {
        precondition(columns == 1 && rows <= Self.maxRows)
        var maximum: UInt32 = 0
        for r in 0..<rows { maximum = Swift.max(maximum, first[r * stride].bitPattern & 0x7FFF_FFFF) }
        precondition(maximum < 0x7F80_0000, "ExactSum adds finite values only")
        let limit = Self.threshold(for: maximum)
        var total = 0.0
        var small: UInt32 = 0
        for r in 0..<rows {
            let (kept, outlier) = Self.split(first[r * stride].bitPattern, limit)
            total += Double(Float(bitPattern: kept))
            small |= outlier
        }
        sum.add(total)
        if small != 0 {
            for r in 0..<rows where Self.isOutlier(first[r * stride].bitPattern, limit) { sum.add(first[r * stride]) }
        }
    }

    // MARK: the passes

    /// One chunk of at most `maxRows` rows; false (nothing added) if a value is not finite.
    private mutating func pass(_ base: UnsafePointer<Float>, rows: Range<Int>, excluding: ArraySlice<Int>, into sums: inout [ExactSum]) -> Bool {
        let k = columns
        maxBits.withUnsafeMutableBufferPointer { m in
            m.update(repeating: 0)
            var skip = excluding.makeIterator()
            var nextSkip = skip.next()
            for r in rows {
                if r == nextSkip { nextSkip = skip.next(); continue }
                rowMaximum(base + r * k, m.baseAddress!, k)
            }
        }
        // NaN and ±Inf have all exponent bits set, so they show up as the largest magnitude.
        if maxBits.contains(where: { $0 >= 0x7F80_0000 }) { return false }
        for c in 0..<k { threshold[c] = Self.threshold(for: maxBits[c]) }
        partial.withUnsafeMutableBufferPointer { p in
            outliers.withUnsafeMutableBufferPointer { o in
                threshold.withUnsafeBufferPointer { t in
                    p.update(repeating: 0)
                    o.update(repeating: 0)
                    var skip = excluding.makeIterator()
                    var nextSkip = skip.next()
                    for r in rows {
                        if r == nextSkip { nextSkip = skip.next(); continue }
                        rowWindowSum(base + r * k, t.baseAddress!, p.baseAddress!, o.baseAddress!, k)
                    }
                }
            }
        }
        for c in 0..<k {
            if partial[c] != 0 { sums[c].add(partial[c]) }
            guard outliers[c] != 0 else { continue }
            // Rare: values more than `window` binades below the column's largest, added one by one.
            var skip = excluding.makeIterator()
            var nextSkip = skip.next()
            for r in rows {
                if r == nextSkip { nextSkip = skip.next(); continue }
                let x = base[r * k + c]
                if Self.isOutlier(x.bitPattern, threshold[c]) { sums[c].add(x) }
            }
        }
        return true
    }

    /// Smallest |bits| inside the window below a column maximum `maximum` (|bits| of the largest magnitude).
    @inline(__always)
    static func threshold(for maximum: UInt32) -> UInt32 {
        let exponent = maximum >> 23
        return exponent > window ? (exponent - window + 1) << 23 : 0
    }

    /// (bits kept if inside the window else +0, nonzero if the value is a nonzero outlier), branch-free.
    @inline(__always)
    static func split(_ bits: UInt32, _ threshold: UInt32) -> (UInt32, UInt32) {
        let magnitude = bits & 0x7FFF_FFFF
        // Both are < 2^31, so threshold − 1 − magnitude is negative exactly when magnitude ≥ threshold.
        let inside = UInt32(bitPattern: Int32(bitPattern: threshold &- 1 &- magnitude) >> 31)
        return (bits & inside, magnitude & ~inside)
    }

    @inline(__always)
    static func isOutlier(_ bits: UInt32, _ threshold: UInt32) -> Bool {
        let magnitude = bits & 0x7FFF_FFFF
        return magnitude != 0 && magnitude < threshold
    }
}

// One-row kernels on concrete types, separate non-inlined functions: the form LLVM vectorises.

@inline(never)
private func rowMaximum(_ row: UnsafePointer<Float>, _ maximum: UnsafeMutablePointer<UInt32>, _ count: Int) {
    for c in 0..<count { maximum[c] = max(maximum[c], row[c].bitPattern & 0x7FFF_FFFF) }
}

@inline(never)
private func rowWindowSum(_ row: UnsafePointer<Float>, _ threshold: UnsafePointer<UInt32>, _ partial: UnsafeMutablePointer<Double>,
                          _ outliers: UnsafeMutablePointer<UInt32>, _ count: Int) {
    for c in 0..<count {
        let (kept, outlier) = ExactBlockSum.split(row[c].bitPattern, threshold[c])
        partial[c] += Double(Float(bitPattern: kept))
        outliers[c] |= outlier
    }
}

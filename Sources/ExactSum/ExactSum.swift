/// An exact sum of finite Float32/Float64 values: a two's-complement fixed-point integer whose least
/// significant bit is 2⁻¹⁰⁷⁴ (the smallest double), wide enough for 2⁷⁷ additions of the largest double.
///
/// Because the state is the exact integer value of the sum, it is canonical: any order of additions and any
/// split into accumulators that are merged later give the identical state, hence identical bits in every
/// value derived from it. Merging is integer addition.
public struct ExactSum: Hashable, Sendable, CustomStringConvertible {
    /// 34 × 64 = 2176 bits: 2098 bits for |double| ≥ 2⁻¹⁰⁷⁴, 77 bits of headroom, one sign bit.
    public static let limbCount = 34
    /// Little-endian limbs of the two's-complement integer (value = integer × 2⁻¹⁰⁷⁴).
    @usableFromInline var limbs: [UInt64]

    public init() { limbs = [UInt64](repeating: 0, count: Self.limbCount) }

    init(limbs: [UInt64]) {
        precondition(limbs.count == Self.limbCount)
        self.limbs = limbs
    }

    public var isZero: Bool { limbs.allSatisfy { $0 == 0 } }
    public var isNegative: Bool { limbs[Self.limbCount - 1] >> 63 == 1 }

    // MARK: adding

    /// Adds a finite double exactly.
    public mutating func add(_ x: Double) {
        precondition(x.isFinite, "ExactSum adds finite values only, got \(x)")
        if x == 0 { return }
        let bits = x.bitPattern
        let field = Int((bits >> 52) & 0x7FF)
        var significand = bits & ((1 << 52) - 1)
        // value = significand × 2^(field − 1075) for normals (with the hidden bit), × 2^−1074 for subnormals,
        // i.e. significand shifted left by `position` units of 2^−1074.
        let position: Int
        if field == 0 {
            position = 0
        } else {
            significand |= 1 << 52
            position = field - 1
        }
        let limb = position >> 6, shift = UInt64(position & 63)
        let low = significand << shift
        let high = shift == 0 ? 0 : significand >> (64 - shift)
        if x > 0 { addMagnitude(low, high, at: limb) } else { subtractMagnitude(low, high, at: limb) }
    }

    /// Adds a finite float exactly.
    @inlinable
    public mutating func add(_ x: Float) { add(Double(x)) }

    /// Adds every `stride`-th value of `values` (e.g. one column of a row-major batch) exactly.
    public mutating func add(contentsOf values: UnsafeBufferPointer<Float>, stride: Int = 1) {
        precondition(stride > 0, "stride must be positive")
        guard !values.isEmpty else { return }
        let count = (values.count + stride - 1) / stride
        var block = ExactBlockSum(columns: 1)
        var start = 0
        while start < count {
            let rows = min(ExactBlockSum.maxRows, count - start)
            block.addColumn(values.baseAddress! + start * stride, stride: stride, rows: rows, into: &self)
            start += rows
        }
    }

    /// Adds every value of `values` exactly.
    public mutating func add<S: Sequence>(contentsOf values: S) where S.Element == Double {
        for x in values { add(x) }
    }

    /// Adds another accumulator: afterwards `self` holds the exact sum of both.
    public mutating func merge(_ other: ExactSum) {
        var carry: UInt64 = 0
        for i in 0..<Self.limbCount {
            let (s1, o1) = limbs[i].addingReportingOverflow(other.limbs[i])
            let (s2, o2) = s1.addingReportingOverflow(carry)
            limbs[i] = s2
            carry = (o1 ? 1 : 0) + (o2 ? 1 : 0)
        }
    }

    private mutating func addMagnitude(_ low: UInt64, _ high: UInt64, at limb: Int) {
        let (s0, c0) = limbs[limb].addingReportingOverflow(low)
        limbs[limb] = s0
        let (s1, c1) = limbs[limb + 1].addingReportingOverflow(high)
        let (s2, c2) = s1.addingReportingOverflow(c0 ? 1 : 0)
        limbs[limb + 1] = s2
        var carry = c1 || c2
        var i = limb + 2
        while carry && i < Self.limbCount {
            (limbs[i], carry) = limbs[i].addingReportingOverflow(1)
            i += 1
        }
    }

    private mutating func subtractMagnitude(_ low: UInt64, _ high: UInt64, at limb: Int) {
        let (s0, b0) = limbs[limb].subtractingReportingOverflow(low)
        limbs[limb] = s0
        let (s1, b1) = limbs[limb + 1].subtractingReportingOverflow(high)
        let (s2, b2) = s1.subtractingReportingOverflow(b0 ? 1 : 0)
        limbs[limb + 1] = s2
        var borrow = b1 || b2
        var i = limb + 2
        while borrow && i < Self.limbCount {
            (limbs[i], borrow) = limbs[i].subtractingReportingOverflow(1)
            i += 1
        }
    }

    // MARK: values

    /// The sum correctly rounded to the nearest double (ties to even); ±infinity beyond the double range.
    /// An exact zero is +0.
    public var doubleValue: Double { rounded(significandBits: 53, minExponent: -1022, maxExponent: 1023) }

    /// The sum correctly rounded to the nearest float (directly from the exact value, no double rounding).
    public var floatValue: Float {
        Float(rounded(significandBits: 24, minExponent: -126, maxExponent: 127))  // exact: already representable
    }

    /// Rounds the exact value to a binary format with `significandBits` bits (including the hidden one) and
    /// the given exponent range; the result is returned as a Double that is exactly representable there.
    private func rounded(significandBits p: Int, minExponent: Int, maxExponent: Int) -> Double {
        if isZero { return 0 }
        let negative = isNegative
        var magnitude = limbs
        if negative {  // two's complement negation
            var carry = true
            for i in 0..<magnitude.count {
                magnitude[i] = ~magnitude[i]
                if carry { (magnitude[i], carry) = magnitude[i].addingReportingOverflow(1) }
            }
        }
        // Highest set bit h: the value lies in [2^(h−1074), 2^(h−1073)).
        var top = magnitude.count - 1
        while magnitude[top] == 0 { top -= 1 }
        let h = top * 64 + (63 - magnitude[top].leadingZeroBitCount)
        let exponent = h - 1074
        if exponent > maxExponent { return negative ? -.infinity : .infinity }
        // Keep bits down to the quantum of the target format at this magnitude.
        let quantumExponent = max(exponent, minExponent) - (p - 1)
        let cut = quantumExponent + 1074  // bit index of the quantum
        func bit(_ i: Int) -> Bool { i >= 0 && (magnitude[i >> 6] >> UInt64(i & 63)) & 1 == 1 }
        var kept: UInt64 = 0
        if cut <= h {
            for i in stride(from: h, through: max(cut, 0), by: -1) { kept = kept << 1 | (bit(i) ? 1 : 0) }
            if cut < 0 { kept <<= UInt64(-cut) }  // only for formats finer than 2^−1074 (not used)
        }
        // Round to nearest, ties to even, using the round bit and the sticky bits below it.
        let roundBit = bit(cut - 1)
        var sticky = false
        if cut - 1 > 0 {
            let below = cut - 1
            for i in 0..<(below >> 6) where magnitude[i] != 0 { sticky = true; break }
            if !sticky && below & 63 != 0 { sticky = magnitude[below >> 6] & ((1 << UInt64(below & 63)) - 1) != 0 }
        }
        if roundBit && (sticky || kept & 1 == 1) { kept += 1 }
        // kept × 2^quantumExponent; kept ≤ 2^p, so the conversion is exact and scaling is exact or overflows.
        let value = Double(kept) * Double(sign: .plus, exponent: quantumExponent, significand: 1)
        let limit = Double(sign: .plus, exponent: maxExponent, significand: 2 - Double(sign: .plus, exponent: 1 - p, significand: 1))
        if value > limit { return negative ? -.infinity : .infinity }
        return negative ? -value : value
    }

    public var description: String { "ExactSum(\(doubleValue))" }
}

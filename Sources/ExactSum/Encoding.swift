/// Why bytes are not a valid encoded `ExactSum`.
public struct ExactSumDecodingError: Error, CustomStringConvertible, Sendable, Equatable {
    public let reason: String
    public var description: String { "invalid exact sum encoding: \(reason)" }
}

extension ExactSum {
    /// Version of the binary encoding written by `encoded()`.
    public static let encodingVersion: UInt8 = 1

    /// The compact, canonical binary encoding (schemas/wire.md, *Exact sums*):
    /// `version (u8) | first limb index (u8) | limb count n (u8) | n little-endian u64 limbs`.
    /// Only the limbs from the lowest nonzero one up to the highest one that is not sign extension are
    /// stored; zero is `01 00 00`. Equal sums have equal encodings.
    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = [Self.encodingVersion]
        guard let low = limbs.firstIndex(where: { $0 != 0 }) else { return bytes + [0, 0] }
        let extensionLimb: UInt64 = isNegative ? ~0 : 0
        var top = max(limbs.lastIndex { $0 != extensionLimb } ?? low, low)
        // Keep one more limb when the top one's high bit would read as the wrong sign.
        if (limbs[top] >> 63 == 1) != isNegative { top += 1 }
        bytes.append(UInt8(low))
        bytes.append(UInt8(top - low + 1))
        for limb in limbs[low...top] {
            for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: limb >> UInt64(shift))) }
        }
        return bytes
    }

    /// Decodes `encoded()` output, rejecting every non-canonical or malformed input.
    public init<Bytes: Collection>(encoded bytes: Bytes) throws(ExactSumDecodingError) where Bytes.Element == UInt8 {
        let b = Array(bytes)
        func fail(_ why: String) -> ExactSumDecodingError { ExactSumDecodingError(reason: why) }
        guard b.count >= 3 else { throw fail("\(b.count) bytes, need at least 3") }
        guard b[0] == Self.encodingVersion else { throw fail("version \(b[0]), this pairs reads \(Self.encodingVersion)") }
        let low = Int(b[1]), count = Int(b[2])
        guard low + count <= Self.limbCount else { throw fail("limbs \(low)..<\(low + count) exceed \(Self.limbCount)") }
        guard b.count == 3 + 8 * count else { throw fail("\(b.count) bytes for \(count) limbs") }
        var limbs = [UInt64](repeating: 0, count: Self.limbCount)
        guard count > 0 else {
            guard low == 0 else { throw fail("zero with a nonzero limb index") }
            self.init(limbs: limbs)
            return
        }
        for i in 0..<count {
            var limb: UInt64 = 0
            for j in 0..<8 { limb |= UInt64(b[3 + 8 * i + j]) << UInt64(8 * j) }
            limbs[low + i] = limb
        }
        guard limbs[low] != 0 else { throw fail("lowest stored limb is zero") }
        let top = low + count - 1
        let negative = limbs[top] >> 63 == 1
        let extensionLimb: UInt64 = negative ? ~0 : 0
        if count > 1 && limbs[top] == extensionLimb && (limbs[top - 1] >> 63 == 1) == negative {
            throw fail("redundant sign-extension limb")
        }
        for i in (top + 1)..<Self.limbCount { limbs[i] = extensionLimb }
        self.init(limbs: limbs)
    }
}

/// A frame that does not decode: what was wrong, for the log line that accompanies dropping it.
public struct WireError: Error, CustomStringConvertible, Sendable, Equatable {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// Appends little-endian binary fields (schemas/wire.md, *Encoding*).
public struct WireWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func u8(_ v: UInt8) { bytes.append(v) }
    public mutating func u16(_ v: UInt16) { integer(v) }
    public mutating func u32(_ v: UInt32) { integer(v) }
    public mutating func u64(_ v: UInt64) { integer(v) }
    public mutating func i64(_ v: Int64) { integer(UInt64(bitPattern: v)) }
    public mutating func f64(_ v: Double) { integer(v.bitPattern) }
    public mutating func bool(_ v: Bool) { u8(v ? 1 : 0) }

    /// u32 length, then the UTF-8 bytes.
    public mutating func string(_ s: String) { blob(Array(s.utf8)) }

    /// u32 length, then the bytes.
    public mutating func blob(_ b: [UInt8]) {
        u32(UInt32(b.count))
        bytes.append(contentsOf: b)
    }

    private mutating func integer<T: FixedWidthInteger>(_ v: T) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }
}

/// Reads the fields `WireWriter` writes, checking every length against what is left and against limits.
public struct WireReader {
    private let bytes: [UInt8]
    private var offset = 0
    /// Longest string or blob accepted (guards against absurd lengths in garbage frames).
    public static let maxBlob = 256 << 20

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var remaining: Int { bytes.count - offset }

    private mutating func take(_ n: Int, _ what: String) throws(WireError) -> ArraySlice<UInt8> {
        guard n >= 0, n <= remaining else { throw WireError("truncated \(what): need \(n) bytes, \(remaining) left") }
        defer { offset += n }
        return bytes[offset..<offset + n]
    }

    private mutating func integer<T: FixedWidthInteger>(_ what: String) throws(WireError) -> T {
        let slice = try take(MemoryLayout<T>.size, what)
        var v: T = 0
        for (i, b) in slice.enumerated() { v |= T(b) << (8 * i) }
        return v
    }

    public mutating func u8(_ what: String) throws(WireError) -> UInt8 { try integer(what) }
    public mutating func u16(_ what: String) throws(WireError) -> UInt16 { try integer(what) }
    public mutating func u32(_ what: String) throws(WireError) -> UInt32 { try integer(what) }
    public mutating func u64(_ what: String) throws(WireError) -> UInt64 { try integer(what) }
    public mutating func i64(_ what: String) throws(WireError) -> Int64 { Int64(bitPattern: try integer(what) as UInt64) }
    public mutating func f64(_ what: String) throws(WireError) -> Double { Double(bitPattern: try integer(what)) }

    public mutating func bool(_ what: String) throws(WireError) -> Bool {
        switch try u8(what) {
        case 0: return false
        case 1: return true
        case let v: throw WireError("\(what): \(v) is not a boolean (0 or 1)")
        }
    }

    /// A non-negative count that fits `limit`.
    public mutating func count(_ what: String, limit: Int) throws(WireError) -> Int {
        let n = Int(try u32(what))
        guard n <= limit else { throw WireError("\(what): \(n) exceeds the limit \(limit)") }
        return n
    }

    public mutating func blob(_ what: String, limit: Int = maxBlob) throws(WireError) -> [UInt8] {
        let n = try count("\(what) length", limit: limit)
        return Array(try take(n, what))
    }

    public mutating func string(_ what: String, limit: Int = 1 << 20) throws(WireError) -> String {
        let raw = try blob(what, limit: limit)
        guard let s = String(validating: raw, as: UTF8.self) else { throw WireError("\(what) is not valid UTF-8") }
        return s
    }

    /// A finite double, optionally non-negative.
    public mutating func finite(_ what: String, nonNegative: Bool = false) throws(WireError) -> Double {
        let v = try f64(what)
        guard v.isFinite, !nonNegative || v >= 0 else { throw WireError("\(what): \(v) is not a finite\(nonNegative ? " non-negative" : "") number") }
        return v
    }

    /// Fails unless every byte was consumed (trailing garbage is an error, not ignored).
    public func finish(_ what: String) throws(WireError) {
        guard remaining == 0 else { throw WireError("\(remaining) unexpected trailing bytes after \(what)") }
    }
}

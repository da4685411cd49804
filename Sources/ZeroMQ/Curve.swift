import CZeroMQ

/// A 32-byte CurveZMQ key (public or secret), printable as 40 characters of Z85.
public struct CurveKey: Hashable, Sendable, CustomStringConvertible {
    /// The raw 32 key bytes.
    public let bytes: [UInt8]

    /// A key from its 32 raw bytes.
    public init(bytes: [UInt8]) throws(ZMQError) {
        guard bytes.count == 32 else { throw ZMQError(call: "CurveKey", code: EINVAL, detail: "\(bytes.count) bytes, need 32") }
        self.bytes = bytes
    }

    /// A key from its 40-character Z85 text (as written by `pairs keygen` and `zmq_curve_keypair`).
    public init(z85 text: String) throws(ZMQError) {
        let trimmed = text.trimmingWhitespace
        guard trimmed.utf8.count == 40 else {
            throw ZMQError(call: "zmq_z85_decode", code: EINVAL, detail: "key text has \(trimmed.utf8.count) characters, need 40")
        }
        var raw = [UInt8](repeating: 0, count: 32)
        let decoded = raw.withUnsafeMutableBufferPointer { zmq_z85_decode($0.baseAddress, String(trimmed)) }
        guard decoded != nil else { throw ZMQError(call: "zmq_z85_decode", code: EINVAL, detail: "not Z85 text") }
        bytes = raw
    }

    /// The 40-character Z85 text of the key.
    public var z85: String {
        var text = [CChar](repeating: 0, count: 41)
        _ = text.withUnsafeMutableBufferPointer { out in bytes.withUnsafeBufferPointer { zmq_z85_encode(out.baseAddress, $0.baseAddress, 32) } }
        return String(nulTerminated: text)
    }

    public var description: String { z85 }
}

/// A CurveZMQ key pair.
public struct CurveKeyPair: Hashable, Sendable {
    public let publicKey: CurveKey
    public let secretKey: CurveKey

    /// A fresh random key pair (`zmq_curve_keypair`).
    public static func generate() throws(ZMQError) -> CurveKeyPair {
        var pub = [CChar](repeating: 0, count: 41), sec = [CChar](repeating: 0, count: 41)
        _ = try zmqCall("zmq_curve_keypair") { zmq_curve_keypair(&pub, &sec) }
        return CurveKeyPair(publicKey: try CurveKey(z85: String(nulTerminated: pub)), secretKey: try CurveKey(z85: String(nulTerminated: sec)))
    }

    /// The pair belonging to `secretKey`, with the public key derived from it (`zmq_curve_public`).
    public init(secretKey: CurveKey) throws(ZMQError) {
        var pub = [CChar](repeating: 0, count: 41)
        _ = try zmqCall("zmq_curve_public") { zmq_curve_public(&pub, secretKey.z85) }
        self.init(publicKey: try CurveKey(z85: String(nulTerminated: pub)), secretKey: secretKey)
    }

    init(publicKey: CurveKey, secretKey: CurveKey) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }
}

extension String {
    var trimmingWhitespace: Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = lastIndex(where: { !isSpace($0) })!
        return self[first...last]
    }
}

extension String {
    /// The text in a C character buffer up to its first NUL.
    init(nulTerminated buffer: [CChar]) {
        self.init(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

import CZeroMQ

/// One message frame backed by a `zmq_msg_t`, so frames of any size are sent and received without
/// a fixed buffer and without truncation.
public final class Message {
    let pointer: UnsafeMutablePointer<zmq_msg_t>

    /// An empty frame (also the receiving end of `Socket.receive`).
    public init() {
        pointer = .allocate(capacity: 1)
        zmq_msg_init(pointer)
    }

    /// A frame holding a copy of `bytes`.
    public convenience init<Bytes: Collection>(_ bytes: Bytes) throws(ZMQError) where Bytes.Element == UInt8 {
        try self.init(count: bytes.count)
        let target = UnsafeMutableRawBufferPointer(start: zmq_msg_data(pointer), count: bytes.count)
        if bytes.withContiguousStorageIfAvailable({ target.copyMemory(from: UnsafeRawBufferPointer($0)) }) == nil {
            _ = target.initializeMemory(as: UInt8.self, from: bytes)
        }
    }

    /// A frame of `count` uninitialised bytes, to be filled through `withUnsafeMutableBytes`.
    public init(count: Int) throws(ZMQError) {
        pointer = .allocate(capacity: 1)
        do {
            _ = try zmqCall("zmq_msg_init_size", "\(count) bytes") { zmq_msg_init_size(pointer, count) }
        } catch {
            pointer.deallocate()
            throw error
        }
    }

    deinit {
        zmq_msg_close(pointer)
        pointer.deallocate()
    }

    /// Number of bytes in the frame.
    public var count: Int { zmq_msg_size(pointer) }

    /// Whether more frames of the same multipart message follow this received frame.
    public var hasMore: Bool { zmq_msg_more(pointer) == 1 }

    /// A copy of the frame's bytes.
    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    /// Calls `body` with the frame's bytes, valid only during the call.
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: zmq_msg_data(pointer), count: count))
    }

    /// Calls `body` with the frame's mutable bytes, e.g. to encode into a frame without a copy.
    public func withUnsafeMutableBytes<R, E: Error>(_ body: (UnsafeMutableRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeMutableRawBufferPointer(start: zmq_msg_data(pointer), count: count))
    }
}

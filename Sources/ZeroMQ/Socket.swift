import CZeroMQ

/// The libzmq socket types pairs uses.
public enum SocketType: Sendable {
    case router, dealer, pair, publisher, subscriber, push, pull, request, reply

    var raw: Int32 {
        switch self {
        case .router: ZMQ_ROUTER
        case .dealer: ZMQ_DEALER
        case .pair: ZMQ_PAIR
        case .publisher: ZMQ_PUB
        case .subscriber: ZMQ_SUB
        case .push: ZMQ_PUSH
        case .pull: ZMQ_PULL
        case .request: ZMQ_REQ
        case .reply: ZMQ_REP
        }
    }
}

/// A libzmq socket. Not thread-safe: one thread owns a socket for its whole life (create it there).
public final class Socket {
    /// The context this socket lives in (kept alive by the socket).
    public let context: Context
    public let type: SocketType
    let handle: UnsafeMutableRawPointer

    /// Opens a socket of `type` in `context`.
    public init(_ context: Context, type: SocketType) throws(ZMQError) {
        self.context = context
        self.type = type
        handle = try zmqPointer("zmq_socket") { zmq_socket(context.handle, type.raw) }
    }

    deinit { zmq_close(handle) }

    /// Accepts connections on `endpoint` (`tcp://127.0.0.1:*`, `ipc:///path`, `inproc://name`).
    public func bind(_ endpoint: String) throws(ZMQError) {
        _ = try zmqCall("zmq_bind", endpoint) { zmq_bind(handle, endpoint) }
    }

    /// Connects to `endpoint`; libzmq reconnects in the background if the peer is not up yet.
    public func connect(_ endpoint: String) throws(ZMQError) {
        _ = try zmqCall("zmq_connect", endpoint) { zmq_connect(handle, endpoint) }
    }

    public func disconnect(_ endpoint: String) throws(ZMQError) {
        _ = try zmqCall("zmq_disconnect", endpoint) { zmq_disconnect(handle, endpoint) }
    }

    /// The endpoint last bound, with a wildcard port resolved (e.g. `tcp://127.0.0.1:40123`).
    public func lastEndpoint() throws(ZMQError) -> String {
        var buffer = [CChar](repeating: 0, count: 1024)
        var size = buffer.count
        _ = try zmqCall("zmq_getsockopt", "ZMQ_LAST_ENDPOINT") { zmq_getsockopt(handle, ZMQ_LAST_ENDPOINT, &buffer, &size) }
        return String(nulTerminated: buffer)
    }

    /// Sets one socket option.
    public func set(_ option: SocketOption) throws(ZMQError) {
        let (number, value) = option.encoded
        _ = try zmqCall("zmq_setsockopt", option.name) {
            switch value {
            case .int(var v): zmq_setsockopt(handle, number, &v, MemoryLayout<Int32>.size)
            case .int64(var v): zmq_setsockopt(handle, number, &v, MemoryLayout<Int64>.size)
            case .bytes(let b): b.withUnsafeBytes { zmq_setsockopt(handle, number, $0.baseAddress, $0.count) }
            }
        }
    }

    /// Sets several socket options in order.
    public func set(_ options: [SocketOption]) throws(ZMQError) {
        for option in options { try set(option) }
    }

    // MARK: sending

    /// Sends one frame; its content moves into libzmq and `message` is left empty.
    /// - Returns: false if `dontWait` and the frame could not be queued now (high-water mark or send timeout).
    @discardableResult
    public func send(_ message: Message, more: Bool = false, dontWait: Bool = false) throws(ZMQError) -> Bool {
        let flags = (more ? ZMQ_SNDMORE : 0) | (dontWait ? ZMQ_DONTWAIT : 0)
        do {
            _ = try zmqCall("zmq_msg_send") { zmq_msg_send(message.pointer, handle, flags) }
            return true
        } catch where error.wouldBlock {
            return false
        }
    }

    /// Sends a copy of `bytes` as one frame.
    @discardableResult
    public func send<Bytes: Collection>(bytes: Bytes, more: Bool = false, dontWait: Bool = false) throws(ZMQError) -> Bool
    where Bytes.Element == UInt8 {
        try send(Message(bytes), more: more, dontWait: dontWait)
    }

    /// Sends `frames` as one multipart message (delivered atomically: all frames or none).
    /// - Returns: false if `dontWait` and the message could not be queued now.
    @discardableResult
    public func send(multipart frames: [Message], dontWait: Bool = false) throws(ZMQError) -> Bool {
        precondition(!frames.isEmpty, "a message has at least one frame")
        for (index, frame) in frames.enumerated() {
            // Once the first frame is queued, libzmq queues the rest of the message regardless of the HWM.
            let sent = try send(frame, more: index < frames.count - 1, dontWait: dontWait && index == 0)
            if !sent { return false }
        }
        return true
    }

    // MARK: receiving

    /// Receives one frame.
    /// - Returns: nil if `dontWait` and nothing is waiting, or the receive timeout expired.
    public func receive(dontWait: Bool = false) throws(ZMQError) -> Message? {
        let message = Message()
        do {
            _ = try zmqCall("zmq_msg_recv") { zmq_msg_recv(message.pointer, handle, dontWait ? ZMQ_DONTWAIT : 0) }
            return message
        } catch where error.wouldBlock {
            return nil
        }
    }

    /// Receives all frames of the next multipart message.
    /// - Returns: nil if `dontWait` and nothing is waiting, or the receive timeout expired.
    public func receiveMultipart(dontWait: Bool = false) throws(ZMQError) -> [Message]? {
        guard let first = try receive(dontWait: dontWait) else { return nil }
        var frames = [first]
        while frames[frames.count - 1].hasMore {
            // The remaining frames of a message have already arrived with the first one.
            guard let next = try receive() else { throw ZMQError(call: "zmq_msg_recv", code: EAGAIN, detail: "multipart message cut short") }
            frames.append(next)
        }
        return frames
    }
}

import CZeroMQ

/// One connection event of a monitored socket (`zmq_socket_monitor`): what happened, its value (an errno or a
/// ZAP status for failures) and the peer endpoint. Used to turn a failed CURVE handshake into a clear error
/// instead of a silent hang (libzmq #2227).
public struct MonitorEvent: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case connected, disconnected, handshakeSucceeded
        /// The peer closed or failed the handshake without detail (for CURVE: typically a wrong server key).
        case handshakeFailedNoDetail
        case handshakeFailedProtocol
        /// The server's ZAP handler refused this client's credentials.
        case handshakeFailedAuth
        case other(UInt16)
    }

    public let kind: Kind
    public let value: UInt32
    public let endpoint: String

    /// Decodes the two frames a monitor socket delivers; nil if they are not a monitor event.
    public init?(_ frames: [Message]) {
        guard frames.count == 2, frames[0].bytes.count == 6 else { return nil }
        let b = frames[0].bytes
        let event = UInt16(b[0]) | UInt16(b[1]) << 8
        value = UInt32(b[2]) | UInt32(b[3]) << 8 | UInt32(b[4]) << 16 | UInt32(b[5]) << 24
        endpoint = String(decoding: frames[1].bytes, as: UTF8.self)
        switch Int32(event) {
        case ZMQ_EVENT_CONNECTED: kind = .connected
        case ZMQ_EVENT_DISCONNECTED: kind = .disconnected
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED: kind = .handshakeSucceeded
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL: kind = .handshakeFailedNoDetail
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL: kind = .handshakeFailedProtocol
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: kind = .handshakeFailedAuth
        default: kind = .other(event)
        }
    }
}

extension Socket {
    /// Publishes this socket's connection and handshake events on `inproc://name`, and returns a PAIR socket
    /// connected to it (read it with `receiveMultipart` and decode with `MonitorEvent`).
    public func monitor(_ name: String) throws(ZMQError) -> Socket {
        let endpoint = "inproc://" + name
        let events = ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED
            | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
        _ = try zmqCall("zmq_socket_monitor", endpoint) { zmq_socket_monitor(handle, endpoint, events) }
        let pair = try Socket(context, type: .pair)
        try pair.connect(endpoint)
        return pair
    }
}

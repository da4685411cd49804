import CZeroMQ

/// A failed libzmq call: which C function failed and the errno it left behind.
public struct ZMQError: Error, Equatable, CustomStringConvertible {
    /// The libzmq function that failed, e.g. `zmq_bind`.
    public let call: String
    /// The errno value reported by `zmq_errno()`.
    public let code: Int32
    /// Extra context (an endpoint, an option name), if any.
    public let detail: String?

    public init(call: String, code: Int32, detail: String? = nil) {
        self.call = call
        self.code = code
        self.detail = detail
    }

    /// libzmq's text for `code`.
    public var message: String { String(cString: zmq_strerror(code)) }
    /// The operation would block (non-blocking send/receive, or a send/receive timeout).
    public var wouldBlock: Bool { code == EAGAIN }
    /// The context was terminated while the call was in progress.
    public var contextTerminated: Bool { code == ETERM }

    public var description: String {
        let what = detail.map { "\(call)(\($0))" } ?? call
        return "\(what) failed: \(message) (errno \(code))"
    }
}

/// The one call path into libzmq for calls returning an int status: retries on EINTR, throws otherwise.
@inline(__always)
func zmqCall(_ call: StaticString, _ detail: @autoclosure () -> String? = nil,
             _ body: () -> Int32) throws(ZMQError) -> Int32 {
    while true {
        let rc = body()
        if rc != -1 { return rc }
        let code = zmq_errno()
        if code == EINTR { continue }
        throw ZMQError(call: "\(call)", code: code, detail: detail())
    }
}

/// The one call path into libzmq for calls returning a pointer (NULL on failure).
@inline(__always)
func zmqPointer(_ call: StaticString, _ body: () -> UnsafeMutableRawPointer?) throws(ZMQError) -> UnsafeMutableRawPointer {
    guard let pointer = body() else { throw ZMQError(call: "\(call)", code: zmq_errno()) }
    return pointer
}

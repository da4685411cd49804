import CZeroMQ

/// A libzmq context: owns the I/O threads; every `Socket` keeps its context alive.
///
/// The context is thread-safe. It is created non-blocky (`ZMQ_BLOCKY = 0`), so sockets default to a
/// linger of 0 and terminating the context never hangs on undelivered messages: code that needs delivery
/// guarantees waits for an acknowledgement, as pairs' protocol does.
public final class Context: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer

    /// Creates a context with `ioThreads` background I/O threads.
    public init(ioThreads: Int = 1) throws(ZMQError) {
        handle = try zmqPointer("zmq_ctx_new") { zmq_ctx_new() }
        do {
            _ = try zmqCall("zmq_ctx_set", "ZMQ_IO_THREADS") { zmq_ctx_set(handle, ZMQ_IO_THREADS, Int32(ioThreads)) }
            _ = try zmqCall("zmq_ctx_set", "ZMQ_BLOCKY") { zmq_ctx_set(handle, ZMQ_BLOCKY, 0) }
        } catch {
            zmq_ctx_term(handle)
            throw error
        }
    }

    deinit {
        // All sockets hold a reference to their context, so none is open here and term cannot block.
        while zmq_ctx_term(handle) == -1 && zmq_errno() == EINTR {}
    }

    /// The libzmq version as (major, minor, patch).
    public static var version: (major: Int, minor: Int, patch: Int) {
        var major: Int32 = 0, minor: Int32 = 0, patch: Int32 = 0
        zmq_version(&major, &minor, &patch)
        return (Int(major), Int(minor), Int(patch))
    }

    /// Whether libzmq was built with `capability` (e.g. "curve", "ipc").
    public static func has(_ capability: String) -> Bool { zmq_has(capability) == 1 }
}

import CZeroMQ

/// Events a `Poller` waits for or reports.
public struct PollEvents: OptionSet, Sendable {
    public let rawValue: Int16
    public init(rawValue: Int16) { self.rawValue = rawValue }
    /// A message can be received without blocking.
    public static let readable = PollEvents(rawValue: Int16(ZMQ_POLLIN))
    /// A message can be sent without blocking.
    public static let writable = PollEvents(rawValue: Int16(ZMQ_POLLOUT))
}

/// Waits on several sockets at once (`zmq_poll`), with a timeout.
public final class Poller {
    private var sockets: [Socket] = []
    private var items: [zmq_pollitem_t] = []

    public init() {}

    /// Adds `socket`; returns the index used with `events(at:)`.
    @discardableResult
    public func register(_ socket: Socket, for events: PollEvents = .readable) -> Int {
        sockets.append(socket)
        items.append(zmq_pollitem_t(socket: socket.handle, fd: -1, events: events.rawValue, revents: 0))
        return items.count - 1
    }

    /// Waits until a registered socket is ready or `timeout` passes (`nil` waits forever).
    /// - Returns: the number of ready sockets (0 on timeout).
    @discardableResult
    public func poll(timeout: Duration?) throws(ZMQError) -> Int {
        let ms = timeout.map { Int(milliseconds($0)) } ?? -1
        let ready = try zmqCall("zmq_poll") { zmq_poll(&items, Int32(items.count), ms) }
        return Int(ready)
    }

    /// The events reported for the socket registered at `index` by the last `poll`.
    public func events(at index: Int) -> PollEvents { PollEvents(rawValue: items[index].revents) }
}

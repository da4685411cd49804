import Foundation
import Synchronization
import ZeroMQ

/// Lets into the coordinator's CURVE socket only workers whose public key is allowed: answers libzmq's ZAP
/// requests (RFC 27) on `inproc://zeromq.zap.01` from its own thread. Refusals are kept for the coordinator to
/// count in the report; a refused worker never completes the handshake, so nothing it sends reaches the core.
public final class ZAPHandler: @unchecked Sendable {  // the socket is used only by the handler thread after init
    private let socket: Socket
    private let allowed: Set<CurveKey>
    private let refusals = Mutex<[String]>([])
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    /// Binds the handler in `context` (before any CURVE server socket of that context accepts connections).
    public init(context: Context, allowed: Set<CurveKey>) throws(ZMQError) {
        self.allowed = allowed
        socket = try Socket(context, type: .reply)
        try socket.set(.linger(.milliseconds(0)))
        try socket.bind("inproc://zeromq.zap.01")
        let thread = Thread { [self] in serve() }
        thread.name = "pairs-zap"
        thread.start()
    }

    /// Refusals since the last call: one line each naming the key and the address.
    public func takeRefusals() -> [String] { refusals.withLock { r in defer { r.removeAll() }; return r } }

    /// Stops the handler thread and waits for it.
    public func stop() {
        stopping.store(true, ordering: .releasing)
        finished.wait()
    }

    private func serve() {
        defer { finished.signal() }
        let poller = Poller()
        poller.register(socket)
        while !stopping.load(ordering: .acquiring) {
            guard (try? poller.poll(timeout: .milliseconds(50))) != nil,
                  let request = try? socket.receiveMultipart(dontWait: true) else { continue }
            let frames = request.map(\.bytes)
            guard frames.count >= 6 else { continue }
            var status = "400", text = "unknown key"
            let mechanism = String(decoding: frames[5], as: UTF8.self)
            let address = String(decoding: frames[3], as: UTF8.self)
            if mechanism == "CURVE", frames.count == 7, let key = try? CurveKey(bytes: frames[6]) {
                if allowed.contains(key) {
                    (status, text) = ("200", "OK")
                } else {
                    refusals.withLock { $0.append("refused a worker from \(address): its CURVE public key \(key.z85) is not in --allowed-workers") }
                }
            } else {
                refusals.withLock { $0.append("refused a connection from \(address) using \(mechanism) instead of CURVE") }
            }
            let reply = [Array("1.0".utf8), frames[1], Array(status.utf8), Array(text.utf8), [], []]
            _ = try? socket.send(multipart: reply.compactMap { try? Message($0) })
        }
    }
}

import Foundation
import Testing
@testable import ZeroMQ

/// A deterministic byte pattern, so a truncated, reordered or corrupted frame cannot compare equal.
func pattern(count: Int, seed: UInt64) -> [UInt8] {
    var state = seed
    var bytes = [UInt8](repeating: 0, count: count)
    bytes.withUnsafeMutableBytes { raw in
        for offset in stride(from: 0, to: count - 7, by: 8) {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            raw.storeBytes(of: state, toByteOffset: offset, as: UInt64.self)
        }
    }
    return bytes
}

/// Whether a frame holds exactly `expected` (memcmp, so 64 MiB compares fast in debug builds too).
func frame(_ message: Message, equals expected: [UInt8]) -> Bool {
    message.withUnsafeBytes { got in
        expected.withUnsafeBytes { want in got.count == want.count && (got.count == 0 || memcmp(got.baseAddress!, want.baseAddress!, got.count) == 0) }
    }
}

/// Sends a 64 MiB payload DEALER → ROUTER and back over `endpoint`, frame by frame.
func roundTrip(bind endpoint: String) throws {
    let context = try Context()
    let router = try Socket(context, type: .router)
    try router.set([.linger(.zero), .receiveTimeout(.seconds(30))])
    try router.bind(endpoint)
    let dealer = try Socket(context, type: .dealer)
    try dealer.set([.linger(.zero), .receiveTimeout(.seconds(30)), .routingID(Array("worker-1".utf8))])
    try dealer.connect(try router.lastEndpoint())

    let header = Array("partial v1".utf8)
    let payload = pattern(count: 64 << 20, seed: 7)
    try dealer.send(multipart: [try Message(header), try Message(payload)])

    let received = try #require(try router.receiveMultipart())
    #expect(received.count == 3)
    #expect(received[0].bytes == Array("worker-1".utf8))
    #expect(received[1].bytes == header)
    #expect(received[2].count == payload.count)
    #expect(frame(received[2], equals: payload))

    // Echo back through the routing frame; the dealer sees header and payload only.
    try router.send(multipart: received)
    let echoed = try #require(try dealer.receiveMultipart())
    #expect(echoed.map(\.count) == [header.count, payload.count])
    #expect(frame(echoed[1], equals: payload))
}

@Suite struct ZeroMQRoundTrip {
    @Test func largeMultipartOverTCP() throws {
        try roundTrip(bind: "tcp://127.0.0.1:*")
    }

    @Test func largeMultipartOverIPC() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pairs-zmq-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try roundTrip(bind: "ipc://\(path)")
    }

    @Test func nonBlockingReceiveOnEmptySocketReturnsNil() throws {
        let context = try Context()
        let router = try Socket(context, type: .router)
        try router.bind("tcp://127.0.0.1:*")
        #expect(try router.receive(dontWait: true) == nil)
        try router.set(.receiveTimeout(.milliseconds(20)))
        #expect(try router.receiveMultipart() == nil)
    }

    @Test func pollerReportsReadableSocketAndTimesOut() throws {
        let context = try Context()
        let pull = try Socket(context, type: .pull)
        try pull.bind("inproc://poller-test")
        let push = try Socket(context, type: .push)
        try push.connect("inproc://poller-test")
        let poller = Poller()
        let index = poller.register(pull)
        #expect(try poller.poll(timeout: .milliseconds(10)) == 0)
        #expect(poller.events(at: index).isEmpty)
        try push.send(bytes: [1, 2, 3])
        #expect(try poller.poll(timeout: .seconds(5)) == 1)
        #expect(poller.events(at: index).contains(.readable))
        #expect(try pull.receive()?.bytes == [1, 2, 3])
    }

    @Test func errorsNameTheCallAndErrno() throws {
        let context = try Context()
        let socket = try Socket(context, type: .dealer)
        let error = try #require(throws: ZMQError.self) { try socket.bind("nonsense://x") }
        #expect(error.call == "zmq_bind")
        #expect(error.code == EPROTONOSUPPORT)
        #expect(error.description.contains("nonsense://x"))
    }

    @Test func routerMandatoryRejectsUnknownPeer() throws {
        let context = try Context()
        let router = try Socket(context, type: .router)
        try router.set(.routerMandatory(true))
        try router.bind("tcp://127.0.0.1:*")
        let error = try #require(throws: ZMQError.self) {
            try router.send(multipart: [try Message(Array("nobody".utf8)), try Message([1])])
        }
        #expect(error.code == EHOSTUNREACH)
    }
}

@Suite struct CurveTests {
    @Test func keysRoundTripThroughZ85() throws {
        let pair = try CurveKeyPair.generate()
        #expect(pair.publicKey.z85.count == 40)
        #expect(try CurveKey(z85: pair.secretKey.z85) == pair.secretKey)
        #expect(try CurveKeyPair(secretKey: pair.secretKey).publicKey == pair.publicKey)
        #expect(throws: ZMQError.self) { try CurveKey(z85: "too short") }
    }

    @Test func encryptedRoundTripWithMatchingKeys() throws {
        #expect(Context.has("curve"))
        let server = try CurveKeyPair.generate(), client = try CurveKeyPair.generate()
        let context = try Context()
        let router = try Socket(context, type: .router)
        try router.set([.curveServer(true), .curveSecretKey(server.secretKey), .receiveTimeout(.seconds(10))])
        try router.bind("tcp://127.0.0.1:*")
        let dealer = try Socket(context, type: .dealer)
        try dealer.set([.curveServerKey(server.publicKey), .curvePublicKey(client.publicKey),
                        .curveSecretKey(client.secretKey), .heartbeatInterval(.milliseconds(100))])
        try dealer.connect(try router.lastEndpoint())
        try dealer.send(bytes: Array("hello".utf8))
        let frames = try #require(try router.receiveMultipart())
        #expect(frames.last?.bytes == Array("hello".utf8))
    }

    @Test func wrongServerKeyDeliversNothing() throws {
        let server = try CurveKeyPair.generate(), client = try CurveKeyPair.generate(), other = try CurveKeyPair.generate()
        let context = try Context()
        let router = try Socket(context, type: .router)
        try router.set([.curveServer(true), .curveSecretKey(server.secretKey), .receiveTimeout(.milliseconds(300))])
        try router.bind("tcp://127.0.0.1:*")
        let dealer = try Socket(context, type: .dealer)
        try dealer.set([.curveServerKey(other.publicKey), .curvePublicKey(client.publicKey), .curveSecretKey(client.secretKey)])
        try dealer.connect(try router.lastEndpoint())
        try dealer.send(bytes: Array("hello".utf8))
        #expect(try router.receiveMultipart() == nil)
    }
}

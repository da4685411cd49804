import CZeroMQ

/// A socket option pairs sets, with its value in Swift units (durations in milliseconds are `Duration`).
public enum SocketOption: Sendable {
    /// How long pending outgoing messages are kept after close; `nil` keeps them forever.
    case linger(Duration?)
    /// Maximum queued outgoing / incoming messages per peer (0 = unlimited).
    case sendHighWaterMark(Int)
    case receiveHighWaterMark(Int)
    /// ZMTP heartbeats: send a PING every interval; drop the peer if nothing arrives within the timeout;
    /// ask the peer to drop us after the TTL.
    case heartbeatInterval(Duration)
    case heartbeatTimeout(Duration)
    case heartbeatTTL(Duration)
    /// Identity the peer ROUTER sees for this socket.
    case routingID([UInt8])
    /// ROUTER: fail with EHOSTUNREACH instead of silently dropping a message to an unknown peer.
    case routerMandatory(Bool)
    /// Queue messages only to completed connections.
    case immediate(Bool)
    /// Blocking send / receive give up after this long (EAGAIN); `nil` blocks forever.
    case sendTimeout(Duration?)
    case receiveTimeout(Duration?)
    /// Largest inbound message accepted; larger ones drop the connection. `nil` = no limit.
    case maxMessageSize(Int64?)
    /// Reconnection back-off: first interval and maximum.
    case reconnectInterval(Duration)
    case reconnectIntervalMax(Duration)
    /// Time allowed for the ZMTP handshake (and the CURVE exchange).
    case handshakeInterval(Duration)
    /// TCP keepalive on (true) or off (false).
    case tcpKeepalive(Bool)
    /// Accept IPv6 as well as IPv4.
    case ipv6(Bool)
    /// CurveZMQ: act as server (needs the secret key), or as client with these keys.
    case curveServer(Bool)
    case curvePublicKey(CurveKey)
    case curveSecretKey(CurveKey)
    case curveServerKey(CurveKey)
    /// ZAP authentication domain of a server socket.
    case zapDomain(String)
    /// SUB sockets: receive messages starting with these bytes.
    case subscribe([UInt8])
}

extension SocketOption {
    var name: String {
        switch self {
        case .linger: "ZMQ_LINGER"
        case .sendHighWaterMark: "ZMQ_SNDHWM"
        case .receiveHighWaterMark: "ZMQ_RCVHWM"
        case .heartbeatInterval: "ZMQ_HEARTBEAT_IVL"
        case .heartbeatTimeout: "ZMQ_HEARTBEAT_TIMEOUT"
        case .heartbeatTTL: "ZMQ_HEARTBEAT_TTL"
        case .routingID: "ZMQ_ROUTING_ID"
        case .routerMandatory: "ZMQ_ROUTER_MANDATORY"
        case .immediate: "ZMQ_IMMEDIATE"
        case .sendTimeout: "ZMQ_SNDTIMEO"
        case .receiveTimeout: "ZMQ_RCVTIMEO"
        case .maxMessageSize: "ZMQ_MAXMSGSIZE"
        case .reconnectInterval: "ZMQ_RECONNECT_IVL"
        case .reconnectIntervalMax: "ZMQ_RECONNECT_IVL_MAX"
        case .handshakeInterval: "ZMQ_HANDSHAKE_IVL"
        case .tcpKeepalive: "ZMQ_TCP_KEEPALIVE"
        case .ipv6: "ZMQ_IPV6"
        case .curveServer: "ZMQ_CURVE_SERVER"
        case .curvePublicKey: "ZMQ_CURVE_PUBLICKEY"
        case .curveSecretKey: "ZMQ_CURVE_SECRETKEY"
        case .curveServerKey: "ZMQ_CURVE_SERVERKEY"
        case .zapDomain: "ZMQ_ZAP_DOMAIN"
        case .subscribe: "ZMQ_SUBSCRIBE"
        }
    }

    /// The libzmq option number and its value encoded as libzmq expects.
    var encoded: (option: Int32, value: EncodedValue) {
        switch self {
        case .linger(let d): (ZMQ_LINGER, .int(d.map(milliseconds) ?? -1))
        case .sendHighWaterMark(let n): (ZMQ_SNDHWM, .int(Int32(clamping: n)))
        case .receiveHighWaterMark(let n): (ZMQ_RCVHWM, .int(Int32(clamping: n)))
        case .heartbeatInterval(let d): (ZMQ_HEARTBEAT_IVL, .int(milliseconds(d)))
        case .heartbeatTimeout(let d): (ZMQ_HEARTBEAT_TIMEOUT, .int(milliseconds(d)))
        case .heartbeatTTL(let d): (ZMQ_HEARTBEAT_TTL, .int(milliseconds(d)))
        case .routingID(let id): (ZMQ_ROUTING_ID, .bytes(id))
        case .routerMandatory(let on): (ZMQ_ROUTER_MANDATORY, .int(on ? 1 : 0))
        case .immediate(let on): (ZMQ_IMMEDIATE, .int(on ? 1 : 0))
        case .sendTimeout(let d): (ZMQ_SNDTIMEO, .int(d.map(milliseconds) ?? -1))
        case .receiveTimeout(let d): (ZMQ_RCVTIMEO, .int(d.map(milliseconds) ?? -1))
        case .maxMessageSize(let n): (ZMQ_MAXMSGSIZE, .int64(n ?? -1))
        case .reconnectInterval(let d): (ZMQ_RECONNECT_IVL, .int(milliseconds(d)))
        case .reconnectIntervalMax(let d): (ZMQ_RECONNECT_IVL_MAX, .int(milliseconds(d)))
        case .handshakeInterval(let d): (ZMQ_HANDSHAKE_IVL, .int(milliseconds(d)))
        case .tcpKeepalive(let on): (ZMQ_TCP_KEEPALIVE, .int(on ? 1 : 0))
        case .ipv6(let on): (ZMQ_IPV6, .int(on ? 1 : 0))
        case .curveServer(let on): (ZMQ_CURVE_SERVER, .int(on ? 1 : 0))
        case .curvePublicKey(let k): (ZMQ_CURVE_PUBLICKEY, .bytes(k.bytes))
        case .curveSecretKey(let k): (ZMQ_CURVE_SECRETKEY, .bytes(k.bytes))
        case .curveServerKey(let k): (ZMQ_CURVE_SERVERKEY, .bytes(k.bytes))
        case .zapDomain(let domain): (ZMQ_ZAP_DOMAIN, .bytes(Array(domain.utf8)))
        case .subscribe(let prefix): (ZMQ_SUBSCRIBE, .bytes(prefix))
        }
    }

    enum EncodedValue {
        case int(Int32)
        case int64(Int64)
        case bytes([UInt8])
    }
}

/// A duration in whole milliseconds, clamped to libzmq's `int` range.
func milliseconds(_ duration: Duration) -> Int32 {
    let (seconds, attoseconds) = duration.components
    return Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000)
}

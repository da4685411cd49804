/// An element-wise activation, named as in the model bundle (and as PyTorch's modules are, in snake case).
public enum Activation: Equatable, Sendable, CustomStringConvertible {
    case identity
    case relu
    /// PyTorch `LeakyReLU(negative_slope)`; PyTorch's default slope is 0.01.
    case leakyReLU(slope: Double)
    /// PyTorch `ELU(alpha)`; default alpha 1.
    case elu(alpha: Double)
    /// The exact (erf) GELU, PyTorch's `GELU()` default.
    case gelu
    case silu
    case tanh
    case sigmoid
    /// PyTorch `Softplus()` with beta 1 and threshold 20 (x > 20 → x).
    case softplus

    /// Every activation name the bundle format knows.
    public static let names = ["identity", "relu", "leaky_relu", "elu", "gelu", "silu", "tanh", "sigmoid", "softplus"]

    /// The name written into a model bundle.
    public var name: String {
        switch self {
        case .identity: "identity"
        case .relu: "relu"
        case .leakyReLU: "leaky_relu"
        case .elu: "elu"
        case .gelu: "gelu"
        case .silu: "silu"
        case .tanh: "tanh"
        case .sigmoid: "sigmoid"
        case .softplus: "softplus"
        }
    }

    /// The activation's parameter (leaky_relu slope, elu alpha), if it has one.
    public var parameter: Double? {
        switch self {
        case .leakyReLU(let slope): slope
        case .elu(let alpha): alpha
        default: nil
        }
    }

    /// The activation called `name`, with `parameter` for leaky_relu (default 0.01) and elu (default 1).
    public init?(name: String, parameter: Double? = nil) {
        switch name {
        case "identity": self = .identity
        case "relu": self = .relu
        case "leaky_relu": self = .leakyReLU(slope: parameter ?? 0.01)
        case "elu": self = .elu(alpha: parameter ?? 1)
        case "gelu": self = .gelu
        case "silu": self = .silu
        case "tanh": self = .tanh
        case "sigmoid": self = .sigmoid
        case "softplus": self = .softplus
        default: return nil
        }
    }

    public var description: String { parameter.map { "\(name)(\($0))" } ?? name }

    /// Whether the derivative can be computed from the output alone (then training need not keep the input).
    @inlinable
    public var derivativeFromOutput: Bool {
        switch self {
        case .gelu, .silu: false
        default: true
        }
    }

    /// The activation of one value.
    @inlinable @inline(__always)
    public func value<T: BLASScalar>(_ z: T) -> T {
        switch self {
        case .identity: return z
        case .relu: return z > 0 ? z : 0
        case .leakyReLU(let slope): return z > 0 ? z : T(slope) * z
        case .elu(let alpha): return z > 0 ? z : T(alpha) * (T.exp(z) - 1)
        case .gelu: return 0.5 * z * (1 + T.erf(z * T(0.7071067811865476)))
        case .silu: return z * Activation.logistic(z)
        case .tanh: return T.tanh(z)
        case .sigmoid: return Activation.logistic(z)
        case .softplus: return z > 20 ? z : T.log1p(T.exp(z))
        }
    }

    /// d activation / dz at input `z` with output `a = value(z)`.
    @inlinable @inline(__always)
    public func derivative<T: BLASScalar>(input z: T, output a: T) -> T {
        switch self {
        case .identity: return 1
        case .relu: return a > 0 ? 1 : 0
        case .leakyReLU(let slope): return a > 0 ? 1 : T(slope)
        case .elu(let alpha): return a > 0 ? 1 : a + T(alpha)
        case .gelu:
            let cdf = 0.5 * (1 + T.erf(z * T(0.7071067811865476)))
            return cdf + z * T(0.3989422804014327) * T.exp(-0.5 * z * z)
        case .silu:
            let s = Activation.logistic(z)
            return s * (1 + z * (1 - s))
        case .tanh: return 1 - a * a
        case .sigmoid: return a * (1 - a)
        case .softplus: return a > 20 ? 1 : -T.exp(-a) + 1  // σ(z) = 1 − e^{−softplus(z)}
        }
    }

    /// A numerically stable logistic function.
    @inlinable @inline(__always)
    @usableFromInline static func logistic<T: BLASScalar>(_ z: T) -> T {
        if z >= 0 { return 1 / (1 + T.exp(-z)) }
        let e = T.exp(z)
        return e / (1 + e)
    }

    /// `values[i] ← activation(values[i])` in place: the inference path, where the bias already went into the
    /// GEMM's output. relu runs a concrete Float/Double kernel (see `BLASScalar.rectify`).
    @inlinable
    public func apply<T: BLASScalar>(_ values: UnsafeMutableBufferPointer<T>) {
        guard let base = values.baseAddress, !values.isEmpty else { return }
        switch self {
        case .identity: return
        case .relu: T.rectify(base, count: values.count)
        default: for i in values.indices { values[i] = value(values[i]) }
        }
    }

    /// `values[r, c] ← activation(values[r, c] + bias[c])` over a row-major block, keeping the pre-activation
    /// values in `inputs` (the training path: gelu's and silu's derivatives need them).
    /// Loops walk row pointers (no trapping index arithmetic) so that they vectorise.
    @inlinable
    public func applyWithBias<T: BLASScalar>(_ values: UnsafeMutableBufferPointer<T>, bias: UnsafeBufferPointer<T>,
                                            inputs: UnsafeMutableBufferPointer<T>) {
        let columns = bias.count
        precondition(columns > 0 && values.count % columns == 0, "bias length does not divide the block")
        let rows = values.count / columns
        guard rows > 0 else { return }
        let b = bias.baseAddress!
        var row = values.baseAddress!, pre = inputs.baseAddress!
        for _ in 0..<rows {
            for c in 0..<columns {
                let z = row[c] + b[c]
                pre[c] = z
                row[c] = value(z)
            }
            row += columns
            pre += columns
        }
    }

    /// `gradient ← gradient ⊙ activation'(inputs)`, turning dL/da into dL/dz in place.
    @inlinable
    public func backpropagate<T: BLASScalar>(_ gradient: UnsafeMutableBufferPointer<T>, inputs: UnsafeBufferPointer<T>?,
                                            outputs: UnsafeBufferPointer<T>) {
        if self == .identity { return }
        for i in gradient.indices {
            gradient[i] *= derivative(input: inputs?[i] ?? 0, output: outputs[i])
        }
    }
}

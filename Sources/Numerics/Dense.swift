/// A fully connected layer `a = activation(x · Wᵀ + b)` with weights stored `[out, in]` (PyTorch's
/// `nn.Linear` layout, so exported weights need no transpose).
public struct Dense<T: BLASScalar>: Equatable, Sendable {
    public var weight: Matrix<T>
    public var bias: [T]
    public var activation: Activation

    public var inputSize: Int { weight.columns }
    public var outputSize: Int { weight.rows }

    public init(weight: Matrix<T>, bias: [T], activation: Activation) {
        precondition(bias.count == weight.rows, "bias has \(bias.count) values for \(weight.rows) outputs")
        self.weight = weight
        self.bias = bias
        self.activation = activation
    }

    /// A freshly initialised layer: He-normal weights for the ReLU family, Glorot-uniform otherwise; zero bias.
    public init(inputSize: Int, outputSize: Int, activation: Activation, using rng: inout SeededGenerator) {
        var values = [T]()
        values.reserveCapacity(inputSize * outputSize)
        switch activation {
        case .relu, .leakyReLU, .elu:
            let std = (2.0 / Double(inputSize)).squareRoot()
            for _ in 0..<inputSize * outputSize { values.append(T(std * rng.normal())) }
        default:
            let limit = (6.0 / Double(inputSize + outputSize)).squareRoot()
            for _ in 0..<inputSize * outputSize { values.append(T(rng.uniform(in: -limit...limit))) }
        }
        self.init(weight: Matrix(rows: outputSize, columns: inputSize, values: values),
                  bias: [T](repeating: 0, count: outputSize), activation: activation)
    }

    /// The same layer in another precision.
    public func converted<U: BLASScalar>(to _: U.Type = U.self) -> Dense<U> {
        Dense<U>(weight: Matrix<U>(rows: weight.rows, columns: weight.columns, values: weight.values.map { U($0) }),
                 bias: bias.map { U($0) }, activation: activation)
    }
}

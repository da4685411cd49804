/// A multilayer perceptron: per-feature input standardisation `(x − mean) / std`, then a chain of `Dense`
/// layers. The standardisation belongs to the model, so callers always pass raw features.
public struct MLP<T: BLASScalar>: Equatable, Sendable {
    public var inputMean: [T]
    public var inputStd: [T]
    public var layers: [Dense<T>]

    public var inputSize: Int { inputMean.count }
    public var outputSize: Int { layers.last?.outputSize ?? inputSize }
    /// Number of trainable values (weights and biases).
    public var parameterCount: Int { layers.reduce(0) { $0 + $1.weight.values.count + $1.bias.count } }

    /// An MLP from its parts; the layer sizes must chain. Mean/std default to 0 and 1 (no standardisation).
    public init(inputMean: [T]? = nil, inputStd: [T]? = nil, layers: [Dense<T>]) throws(ShapeError) {
        guard let first = layers.first else { throw ShapeError("an MLP needs at least one layer") }
        let n = first.inputSize
        let mean = inputMean ?? [T](repeating: 0, count: n), std = inputStd ?? [T](repeating: 1, count: n)
        guard mean.count == n, std.count == n else {
            throw ShapeError("input standardisation has \(mean.count) means and \(std.count) stds for \(n) inputs")
        }
        guard std.allSatisfy({ $0 > 0 && $0.isFinite }), mean.allSatisfy(\.isFinite) else {
            throw ShapeError("input standardisation needs finite means and positive finite stds")
        }
        for (index, (a, b)) in zip(layers, layers.dropFirst()).enumerated() where a.outputSize != b.inputSize {
            throw ShapeError("layer \(index) has \(a.outputSize) outputs but layer \(index + 1) takes \(b.inputSize) inputs")
        }
        self.inputMean = mean
        self.inputStd = std
        self.layers = layers
    }

    /// A freshly initialised MLP with `sizes = [input, hidden…, output]`, `hidden` activations between layers
    /// and `output` on the last layer.
    public init(sizes: [Int], hidden: Activation, output: Activation = .identity, using rng: inout SeededGenerator) {
        precondition(sizes.count >= 2, "sizes lists the input size and at least one layer")
        let layers = (0..<sizes.count - 1).map { i in
            Dense<T>(inputSize: sizes[i], outputSize: sizes[i + 1], activation: i == sizes.count - 2 ? output : hidden, using: &rng)
        }
        try! self.init(layers: layers)  // sizes chain by construction
    }

    /// A model-shaped value of zeros: the container `backward` writes gradients into.
    public func zeroGradients() -> MLP<T> {
        var zero = self
        for i in zero.layers.indices {
            zero.layers[i].weight.fill(0)
            zero.layers[i].bias = [T](repeating: 0, count: zero.layers[i].bias.count)
        }
        return zero
    }

    /// The same network in another precision (e.g. Float64 for gradient checks).
    public func converted<U: BLASScalar>(to _: U.Type = U.self) -> MLP<U> {
        try! MLP<U>(inputMean: inputMean.map { U($0) }, inputStd: inputStd.map { U($0) }, layers: layers.map { $0.converted(to: U.self) })
    }

    // MARK: forward and backward

    /// Runs a batch (rows are events) through the network into `workspace.output`. No allocation when the
    /// batch fits the workspace's capacity.
    /// - Parameters:
    ///   - rows: the rows of `input` to run (default: all).
    ///   - placement: run them as rows `offset..<offset + rows.count` of a block of `total` rows whose other
    ///     rows are zero; output rows correspond to block rows. OpenBLAS' result for a row depends on the
    ///     row's position within the GEMM (never on the other rows' values), so callers that need results
    ///     independent of batching place each event at a fixed position of a fixed-size block.
    @inlinable
    public func forward(_ input: Matrix<T>, rows: Range<Int>? = nil, placement: (offset: Int, total: Int)? = nil,
                        workspace: inout MLPWorkspace<T>) {
        precondition(input.columns == inputSize, "input has \(input.columns) features, the network takes \(inputSize)")
        let selected = rows ?? 0..<input.rows
        precondition(selected.lowerBound >= 0 && selected.upperBound <= input.rows, "rows \(selected) outside the input")
        let n = selected.count
        let (offset, total) = placement ?? (0, n)
        precondition(offset >= 0 && offset + n <= total, "placement \(offset)+\(n) exceeds the block of \(total) rows")
        workspace.prepare(rows: total)
        input.withUnsafeBufferPointer { x in
            workspace.standardized.withUnsafeMutableBufferPointer { out in
                inputMean.withUnsafeBufferPointer { mean in
                    inputStd.withUnsafeBufferPointer { std in
                        let f = mean.count
                        // Zero only the padding rows around the placed ones; those are overwritten below.
                        UnsafeMutableBufferPointer(rebasing: out[..<(offset * f)]).update(repeating: 0)
                        UnsafeMutableBufferPointer(rebasing: out[((offset + n) * f)...]).update(repeating: 0)
                        guard n > 0 else { return }
                        // Row pointers rather than trapping index arithmetic, so the loop vectorises.
                        let m = mean.baseAddress!, sd = std.baseAddress!
                        var source = x.baseAddress! + selected.lowerBound * f, target = out.baseAddress! + offset * f
                        for _ in 0..<n {
                            for c in 0..<f { target[c] = (source[c] - m[c]) / sd[c] }
                            source += f
                            target += f
                        }
                    }
                }
            }
        }
        for (l, layer) in layers.enumerated() {
            let input = l == 0 ? workspace.standardized : workspace.outputs[l - 1]
            if workspace.keepsInputs[l] {
                // Training with gelu/silu: keep the pre-activations for backward.
                gemm(input, layer.weight, into: &workspace.outputs[l], transposeB: .transposed)
                layer.bias.withUnsafeBufferPointer { bias in
                    workspace.outputs[l].withUnsafeMutableBufferPointer { out in
                        workspace.inputs[l].withUnsafeMutableBufferPointer { pre in layer.activation.applyWithBias(out, bias: bias, inputs: pre) }
                    }
                }
                continue
            }
            // Bias first, then C ← X·Wᵀ + C: with beta = 1 OpenBLAS skips its own pass over C (sgemm_beta, 9 % of a
            // worker's profile with beta = 0) and the bias needs no pass of its own. While the inner dimension fits
            // one OpenBLAS K-block (a few hundred; the shipped models and the reference embedder use ≤ 128) this
            // rounds exactly like adding the bias afterwards; beyond, the bias joins the partial sums earlier. Either
            // way a row's result depends on its position only, so embeddings stay independent of batching.
            layer.bias.withUnsafeBufferPointer { bias in
                workspace.outputs[l].withUnsafeMutableBufferPointer { out in
                    var row = out.baseAddress!
                    for _ in 0..<total {
                        row.update(from: bias.baseAddress!, count: bias.count)
                        row += bias.count
                    }
                }
            }
            gemm(input, layer.weight, into: &workspace.outputs[l], transposeB: .transposed, beta: 1)
            workspace.outputs[l].withUnsafeMutableBufferPointer { out in layer.activation.apply(out) }
        }
    }

    /// Backpropagates `outputGradient` (dL/d output, same shape as the last forward's output) through the
    /// batch of the last `forward`, writing parameter gradients into `gradients` (a model-shaped value; see
    /// `zeroGradients`) and, if requested, dL/d raw input into `workspace.inputGradient`.
    /// - Parameter accumulate: add to `gradients` instead of overwriting them.
    @inlinable
    public func backward(outputGradient: Matrix<T>, workspace: inout MLPWorkspace<T>, gradients: inout MLP<T>,
                         accumulate: Bool = false, inputGradient: Bool = false) {
        precondition(workspace.training, "backward needs a workspace created with training: true")
        let n = workspace.outputs.last!.rows
        precondition(outputGradient.rows == n && outputGradient.columns == outputSize, "output gradient shape differs from the output")
        precondition(gradients.layers.count == layers.count, "gradients are not shaped like the model")
        outputGradient.withUnsafeBufferPointer { g in
            workspace.deltas[layers.count - 1].withUnsafeMutableBufferPointer { d in _ = d.update(fromContentsOf: g) }
        }
        let beta: T = accumulate ? 1 : 0
        for l in layers.indices.reversed() {
            let layer = layers[l]
            let keptInputs = !layer.activation.derivativeFromOutput
            workspace.outputs[l].withUnsafeBufferPointer { out in
                workspace.deltas[l].withUnsafeMutableBufferPointer { delta in
                    if keptInputs {
                        workspace.inputs[l].withUnsafeBufferPointer { pre in layer.activation.backpropagate(delta, inputs: pre, outputs: out) }
                    } else {
                        layer.activation.backpropagate(delta, inputs: nil, outputs: out)
                    }
                }
            }
            // dW = δᵀ · a_{l−1};  db = Σ_rows δ;  δ_{l−1} = δ · W
            let previous = l == 0 ? workspace.standardized : workspace.outputs[l - 1]
            gemm(workspace.deltas[l], previous, into: &gradients.layers[l].weight, transposeA: .transposed, beta: beta)
            workspace.deltas[l].withUnsafeBufferPointer { delta in
                gradients.layers[l].bias.withUnsafeMutableBufferPointer { db in
                    let m = db.count
                    if !accumulate { db.update(repeating: 0) }
                    for r in 0..<n { for c in 0..<m { db[c] += delta[r * m + c] } }
                }
            }
            if l > 0 {
                gemm(workspace.deltas[l], layer.weight, into: &workspace.deltas[l - 1])
            } else if inputGradient {
                gemm(workspace.deltas[0], layer.weight, into: &workspace.gradientStorage)
                // The standardisation divides by std, so dL/dx = dL/dx_std / std.
                inputStd.withUnsafeBufferPointer { std in
                    workspace.gradientStorage.withUnsafeMutableBufferPointer { g in
                        let f = std.count
                        for r in 0..<n { for c in 0..<f { g[r * f + c] /= std[c] } }
                    }
                }
            }
        }
    }
}

/// Preallocated buffers for an MLP's forward (and backward) passes over batches of up to `capacity` rows.
public struct MLPWorkspace<T: BLASScalar>: Sendable {
    public let capacity: Int
    /// Whether the buffers needed by `backward` are kept.
    public let training: Bool
    @usableFromInline var standardized: Matrix<T>
    @usableFromInline var outputs: [Matrix<T>]
    /// Pre-activation values, kept for layers whose derivative needs them (training only).
    @usableFromInline var inputs: [Matrix<T>]
    @usableFromInline let keepsInputs: [Bool]
    @usableFromInline var deltas: [Matrix<T>]
    @usableFromInline var gradientStorage: Matrix<T>
    /// dL/d raw input of the last `backward(…, inputGradient: true)`.
    public var inputGradient: Matrix<T> { gradientStorage }

    public init(for mlp: MLP<T>, capacity: Int, training: Bool = false) {
        precondition(capacity > 0, "workspace capacity must be positive")
        self.capacity = capacity
        self.training = training
        let widths = mlp.layers.map(\.outputSize)
        standardized = Matrix(rows: 0, columns: mlp.inputSize, rowCapacity: capacity)
        outputs = widths.map { Matrix(rows: 0, columns: $0, rowCapacity: capacity) }
        keepsInputs = mlp.layers.map { training && !$0.activation.derivativeFromOutput }
        inputs = zip(keepsInputs, widths).map { keep, width in Matrix(rows: 0, columns: width, rowCapacity: keep ? capacity : 0) }
        deltas = widths.map { Matrix(rows: 0, columns: $0, rowCapacity: training ? capacity : 0) }
        gradientStorage = Matrix(rows: 0, columns: mlp.inputSize, rowCapacity: training ? capacity : 0)
    }

    /// The output of the last `forward`: rows × output size.
    public var output: Matrix<T> { outputs[outputs.count - 1] }

    @usableFromInline
    mutating func prepare(rows: Int) {
        precondition(rows <= capacity, "batch of \(rows) rows exceeds the workspace capacity \(capacity)")
        standardized.resize(rows: rows)
        for i in outputs.indices { outputs[i].resize(rows: rows) }
        if training {
            for i in inputs.indices where keepsInputs[i] { inputs[i].resize(rows: rows) }
            for i in deltas.indices { deltas[i].resize(rows: rows) }
            gradientStorage.resize(rows: rows)
        }
    }
}

/// Layer or tensor shapes that do not fit together.
public struct ShapeError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

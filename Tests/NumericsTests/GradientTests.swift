import Testing
@testable import Numerics

let allActivations: [Activation] = [.identity, .relu, .leakyReLU(slope: 0.1), .elu(alpha: 1.3), .gelu, .silu, .tanh, .sigmoid, .softplus]

/// The largest deviation between numeric and analytic gradient components, relative to the largest
/// analytic component: components far below the gradient's scale are measured against that scale, which is
/// all finite differences can resolve for them.
func relativeError(_ numeric: [Double], _ analytic: [Double]) -> Double {
    let scale = max(analytic.map(abs).max() ?? 0, 1e-12)
    return zip(numeric, analytic).map { abs($0 - $1) }.max()! / scale
}

func randomDoubleMatrix(_ rows: Int, _ columns: Int, _ rng: inout SeededGenerator, scale: Double = 1) -> Matrix<Double> {
    Matrix(rows: rows, columns: columns, values: (0..<rows * columns).map { _ in scale * rng.normal() })
}

/// Float64 finite-difference checks (central differences, h = 1e-6): truncation error O(h²) ≈ 1e-12 and
/// rounding error ≈ 1e-16·|L|/1e-6 ≈ 1e-10·|L|, so analytic and numeric gradients must agree to 1e-6 of the
/// gradient's scale — three orders stricter than the 1e-3 asked for.
@Suite struct FiniteDifferenceChecks {
    /// L = Σ w ⊙ output: dL/doutput = w, so the check covers `backward` independently of any loss.
    @Test(arguments: allActivations)
    func mlpBackwardMatchesFiniteDifferences(_ activation: Activation) {
        var rng = SeededGenerator(seed: 11)
        var mlp = MLP<Double>(sizes: [3, 6, 5, 2], hidden: activation, output: activation, using: &rng)
        mlp.inputMean = [0.3, -1, 2]
        mlp.inputStd = [1.5, 0.5, 2]
        for l in mlp.layers.indices { mlp.layers[l].bias = mlp.layers[l].bias.map { _ in 0.3 * rng.normal() } }
        let x = randomDoubleMatrix(7, 3, &rng, scale: 2)
        let w = randomDoubleMatrix(7, 2, &rng)
        func loss(_ model: MLP<Double>, _ input: Matrix<Double>) -> Double {
            var ws = MLPWorkspace(for: model, capacity: 7)
            model.forward(input, workspace: &ws)
            return zip(ws.output.values, w.values).reduce(0) { $0 + $1.0 * $1.1 }
        }
        var workspace = MLPWorkspace(for: mlp, capacity: 7, training: true)
        mlp.forward(x, workspace: &workspace)
        var gradients = mlp.zeroGradients()
        mlp.backward(outputGradient: w, workspace: &workspace, gradients: &gradients, inputGradient: true)

        let h = 1e-6
        for l in mlp.layers.indices {
            var numericWeight: [Double] = [], numericBias: [Double] = []
            for i in mlp.layers[l].weight.values.indices {
                var plus = mlp, minus = mlp
                plus.layers[l].weight.withValues { $0[i] += h }
                minus.layers[l].weight.withValues { $0[i] -= h }
                numericWeight.append((loss(plus, x) - loss(minus, x)) / (2 * h))
            }
            for i in mlp.layers[l].bias.indices {
                var plus = mlp, minus = mlp
                plus.layers[l].bias[i] += h
                minus.layers[l].bias[i] -= h
                numericBias.append((loss(plus, x) - loss(minus, x)) / (2 * h))
            }
            let weightError = relativeError(numericWeight, gradients.layers[l].weight.values)
            let biasError = relativeError(numericBias, gradients.layers[l].bias)
            #expect(weightError < 1e-6 && biasError < 1e-6, "layer \(l) of \(activation): weight \(weightError), bias \(biasError)")
        }
        var numericInput: [Double] = []
        for i in x.values.indices {
            var plus = x, minus = x
            plus.withValues { $0[i] += h }
            minus.withValues { $0[i] -= h }
            numericInput.append((loss(mlp, plus) - loss(mlp, minus)) / (2 * h))
        }
        let inputError = relativeError(numericInput, workspace.inputGradient.values)
        #expect(inputError < 1e-6, "input gradient of \(activation): \(inputError)")
    }

    @Test(arguments: allActivations)
    func activationDerivativeMatchesFiniteDifferences(_ activation: Activation) {
        let points = Array(stride(from: -4.05, through: 4.05, by: 0.3)) + [-25, 25]
        let h = 1e-6
        let numeric = points.map { (activation.value($0 + h) - activation.value($0 - h)) / (2 * h) }
        let analytic = points.map { activation.derivative(input: $0, output: activation.value($0)) }
        #expect(relativeError(numeric, analytic) < 1e-6, "\(activation)")
    }

    typealias LossFunction = (Matrix<Double>, inout Matrix<Double>) -> Double

    func check(_ prediction: Matrix<Double>, _ loss: LossFunction) -> Double {
        var gradient = Matrix<Double>(rows: prediction.rows, columns: prediction.columns)
        _ = loss(prediction, &gradient)
        var scratch = gradient, numeric: [Double] = []
        let h = 1e-6
        for i in prediction.values.indices {
            var plus = prediction, minus = prediction
            plus.withValues { $0[i] += h }
            minus.withValues { $0[i] -= h }
            numeric.append((loss(plus, &scratch) - loss(minus, &scratch)) / (2 * h))
        }
        return relativeError(numeric, gradient.values)
    }

    @Test func lossGradientsMatchFiniteDifferences() {
        var rng = SeededGenerator(seed: 5)
        let target = randomDoubleMatrix(6, 3, &rng)
        #expect(check(randomDoubleMatrix(6, 3, &rng)) { Loss.meanSquaredError($0, target, gradient: &$1) } < 1e-6)
        let labels = Matrix(rows: 6, columns: 3, values: (0..<18).map { _ in rng.uniform() < 0.5 ? 0.0 : 1.0 })
        #expect(check(randomDoubleMatrix(6, 3, &rng, scale: 3)) { Loss.binaryCrossEntropyWithLogits($0, labels, gradient: &$1) } < 1e-6)
        for p in 1...3 {
            let theta = randomDoubleMatrix(5, p, &rng)
            let sizes: [Double] = [1, 2, 10, 1000, 3]
            let output = randomDoubleMatrix(5, Loss.gaussianOutputSize(parameters: p), &rng, scale: 0.7)
            #expect(check(output) { Loss.gaussianNegativeLogLikelihood($0, target: theta, setSize: sizes, gradient: &$1) } < 1e-6, "P = \(p)")
        }
    }

    @Test func gaussianNLLIsTheMultivariateNormalDensity() {
        // P = 2, one row: raw output (μ, L packed) → Λ = N L Lᵀ, compare to −log N(θ; μ, Λ⁻¹) computed directly.
        let mu = [0.4, -0.2], raw = [0.3, -0.5, 1.1], theta = [1.0, 0.5], setN = 4.0
        func softplus(_ x: Double) -> Double { log1p(exp(x)) }
        let l00 = softplus(raw[0]) + 1e-6, l10 = raw[1], l11 = softplus(raw[2]) + 1e-6
        // Λ = N · L Lᵀ
        let a = setN * l00 * l00, b = setN * l00 * l10, d = setN * (l10 * l10 + l11 * l11)
        let r = [theta[0] - mu[0], theta[1] - mu[1]]
        let quadratic = a * r[0] * r[0] + 2 * b * r[0] * r[1] + d * r[1] * r[1]
        let expected = 0.5 * quadratic - 0.5 * log(a * d - b * b) + log(2 * Double.pi)
        var gradient = Matrix<Double>(rows: 1, columns: 5)
        let got = Loss.gaussianNegativeLogLikelihood(Matrix(rows: 1, columns: 5, values: mu + raw),
                                                     target: Matrix(rows: 1, columns: 2, values: theta), setSize: [setN], gradient: &gradient)
        #expect(abs(got - expected) < 1e-12)
    }
}

@Suite struct TrainingSmokeTests {
    /// y = sin(2 x₁) + 0.5 x₂² on 256 points: a 2→32→32→1 tanh network gets the MSE below 0.01.
    @Test func adamFitsASmallRegression() {
        var rng = SeededGenerator(seed: 3)
        let n = 256
        let x = Matrix<Float>(rows: n, columns: 2, values: (0..<2 * n).map { _ in Float(rng.uniform(in: -1.5...1.5)) })
        let y = Matrix<Float>(rows: n, columns: 1, values: (0..<n).map { sin(2 * x[$0, 0]) + 0.5 * x[$0, 1] * x[$0, 1] })
        var mlp = MLP<Float>(sizes: [2, 32, 32, 1], hidden: .tanh, using: &rng)
        var adam = Adam<Float>(learningRate: 1e-2)
        let schedule = CosineSchedule(peak: 1e-2, floor: 1e-4, warmupSteps: 20, totalSteps: 800)
        var workspace = MLPWorkspace(for: mlp, capacity: n, training: true)
        var gradients = mlp.zeroGradients()
        var lossGradient = Matrix<Float>(rows: n, columns: 1)
        var loss = Double.infinity
        for step in 0..<800 {
            mlp.forward(x, workspace: &workspace)
            loss = Loss.meanSquaredError(workspace.output, y, gradient: &lossGradient)
            mlp.backward(outputGradient: lossGradient, workspace: &workspace, gradients: &gradients)
            adam.update(&mlp, gradients: gradients, learningRate: schedule.learningRate(at: step))
        }
        #expect(loss < 0.01, "final MSE \(loss)")
    }

    /// Points inside / outside a circle of radius 1: a 2→16→16→1 ReLU network with AdamW separates them.
    @Test func adamFitsASmallClassification() {
        var rng = SeededGenerator(seed: 4)
        let n = 512
        let x = Matrix<Float>(rows: n, columns: 2, values: (0..<2 * n).map { _ in Float(rng.uniform(in: -2...2)) })
        let labels = Matrix<Float>(rows: n, columns: 1, values: (0..<n).map { x[$0, 0] * x[$0, 0] + x[$0, 1] * x[$0, 1] < 1.5 ? 1 : 0 })
        var mlp = MLP<Float>(sizes: [2, 16, 16, 1], hidden: .relu, using: &rng)
        var adam = Adam<Float>(learningRate: 2e-2, weightDecay: 1e-4)
        var workspace = MLPWorkspace(for: mlp, capacity: n, training: true)
        var gradients = mlp.zeroGradients()
        var lossGradient = Matrix<Float>(rows: n, columns: 1)
        var loss = Double.infinity
        for _ in 0..<600 {
            mlp.forward(x, workspace: &workspace)
            loss = Loss.binaryCrossEntropyWithLogits(workspace.output, labels, gradient: &lossGradient)
            mlp.backward(outputGradient: lossGradient, workspace: &workspace, gradients: &gradients)
            adam.update(&mlp, gradients: gradients)
        }
        mlp.forward(x, workspace: &workspace)
        let correct = (0..<n).filter { (workspace.output[$0, 0] > 0) == (labels[$0, 0] == 1) }.count
        #expect(loss < 0.15, "final BCE \(loss)")
        #expect(Double(correct) / Double(n) > 0.95, "accuracy \(correct)/\(n)")
    }

    @Test func cosineScheduleWarmsUpThenDecaysToTheFloor() {
        let s = CosineSchedule(peak: 1, floor: 0.1, warmupSteps: 10, totalSteps: 110)
        #expect(s.learningRate(at: 0) == 0.1)
        #expect(s.learningRate(at: 9) == 1)
        #expect(abs(s.learningRate(at: 60) - 0.55) < 1e-12)
        #expect(abs(s.learningRate(at: 110) - 0.1) < 1e-12)
        #expect(abs(s.learningRate(at: 500) - 0.1) < 1e-12)
    }
}

@Suite struct ForwardTests {
    @Test func forwardMatchesAnExplicitComputation() throws {
        let layer0 = Dense<Float>(weight: Matrix(rows: 2, columns: 2, values: [1, -1, 0.5, 2]), bias: [0.5, -3], activation: .relu)
        let layer1 = Dense<Float>(weight: Matrix(rows: 1, columns: 2, values: [2, 1]), bias: [1], activation: .identity)
        let mlp = try MLP(inputMean: [1, 0], inputStd: [2, 1], layers: [layer0, layer1])
        var ws = MLPWorkspace(for: mlp, capacity: 4)
        mlp.forward(Matrix(rows: 2, columns: 2, values: [3, 1, -1, 2]), workspace: &ws)
        // row 0: standardised (1, 1) → (1−1+0.5, 0.5+2−3) = (0.5, −0.5) → relu (0.5, 0) → 2·0.5 + 0 + 1 = 2
        // row 1: standardised (−1, 2) → (−1−2+0.5, −0.5+4−3) = (−2.5, 0.5) → relu (0, 0.5) → 0 + 0.5 + 1 = 1.5
        #expect(ws.output.values == [2, 1.5])
    }

    @Test func shapeErrorsAreReported() {
        let a = Dense<Float>(weight: Matrix(rows: 3, columns: 2), bias: [0, 0, 0], activation: .relu)
        let b = Dense<Float>(weight: Matrix(rows: 1, columns: 4), bias: [0], activation: .identity)
        #expect(throws: ShapeError.self) { try MLP(layers: [a, b]) }
        #expect(throws: ShapeError.self) { try MLP(inputMean: [0], layers: [a]) }
        #expect(throws: ShapeError.self) { try MLP(inputStd: [1, 0], layers: [a]) }
    }

    @Test func activationNamesRoundTrip() {
        for activation in allActivations {
            #expect(Activation(name: activation.name, parameter: activation.parameter) == activation)
        }
        #expect(Activation(name: "swish") == nil)
        #expect(Activation(name: "leaky_relu") == .leakyReLU(slope: 0.01))
    }
}

#if canImport(Glibc)
import Glibc
#endif

import Foundation
import Numerics

/// Trains the exponential-family LR estimator on the frozen embedder.
///
/// Reference: the prior-marginal p(x) = ∫ p(x|θ) π(θ) dθ (contrastive: events paired with their own θ against
/// the same events paired with a fresh θ′ from the prior). The optimal logit is log p(x|θ) − log p(x), so the
/// classifier is a(u)·t(x) + b(u) + g(t(x)), with g a small MLP of t. g cancels in every ratio between two θ —
/// profiles and intervals only use differences — so the bundle keeps a and b only.
/// Chosen over a fixed θ₀ because the marginal covers every region of x the prior can produce: against a
/// fixed θ₀, events far from θ₀ are separated by huge logits and the linear form is fitted where it matters
/// least. Deterministic for a seed.
/// The networks of the contrastive LR classifier a(u)·t + b(u) + g(t) (g is used in training only).
public struct LRNetworks: Sendable {
    public var a: MLP<Float>
    public var b: MLP<Float>
    public var g: MLP<Float>

    init(simulator: any Simulator, embeddingSize e: Int, options: TrainingOptions, tMean: [Float], tStd: [Float]) {
        let p = simulator.parameters.count
        var rng = SeededGenerator(seed: options.seed, stream: 10)
        a = MLP<Float>(sizes: [p] + options.lrHidden + [e], hidden: .silu, using: &rng)
        b = MLP<Float>(sizes: [p] + options.lrHidden + [1], hidden: .silu, using: &rng)
        g = MLP<Float>(sizes: [e] + options.lrHidden + [1], hidden: .silu, using: &rng)
        g.inputMean = tMean
        g.inputStd = tStd  // a and b take u ∈ [−1, 1]: no standardisation needed
    }

    public var estimator: LREstimator { LREstimator(a: a, b: b) }
}

/// One training step of the contrastive classifier on a batch of embedded events (positives: each event with
/// its own standardised θ; negatives: the same event with a fresh θ′ from the prior), with Adam state.
struct LRContrast {
    let simulator: any Simulator
    var networks: LRNetworks
    private let n: Int
    private var draws: SeededGenerator
    private var aWork: MLPWorkspace<Float>, bWork: MLPWorkspace<Float>, gWork: MLPWorkspace<Float>
    private var aGrad: MLP<Float>, bGrad: MLP<Float>, gGrad: MLP<Float>
    private var aAdam: Adam<Float>, bAdam: Adam<Float>, gAdam: Adam<Float>
    private var logits: Matrix<Float>, labels: Matrix<Float>, dLogit: Matrix<Float>
    private var aOut: Matrix<Float>, bOut: Matrix<Float>, gOut: Matrix<Float>

    init(simulator: any Simulator, networks: LRNetworks, events n: Int, options: TrainingOptions) {
        self.simulator = simulator
        self.networks = networks
        self.n = n
        let e = networks.a.outputSize
        draws = SeededGenerator(seed: options.seed, stream: 12)
        aWork = MLPWorkspace(for: networks.a, capacity: 2 * n, training: true)
        bWork = MLPWorkspace(for: networks.b, capacity: 2 * n, training: true)
        gWork = MLPWorkspace(for: networks.g, capacity: n, training: true)
        aGrad = networks.a.zeroGradients(); bGrad = networks.b.zeroGradients(); gGrad = networks.g.zeroGradients()
        aAdam = Adam(learningRate: options.learningRate); bAdam = Adam(learningRate: options.learningRate); gAdam = Adam(learningRate: options.learningRate)
        logits = Matrix(rows: 2 * n, columns: 1)
        labels = Matrix(rows: 2 * n, columns: 1, values: [Float](repeating: 1, count: n) + [Float](repeating: 0, count: n))
        dLogit = Matrix(rows: 2 * n, columns: 1)
        aOut = Matrix(rows: 2 * n, columns: e); bOut = Matrix(rows: 2 * n, columns: 1); gOut = Matrix(rows: n, columns: 1)
    }

    /// Updates a, b, g on embeddings `t` (n × E) with standardised θ `u` (row-major); if `embeddingGradient`
    /// is given, adds weight × dLoss/dt to it. Returns the BCE.
    mutating func step(t: Matrix<Float>, u: [Double], weight: Float = 1, addingTo embeddingGradient: inout Matrix<Float>,
                       learningRate: Double) -> Double {
        let p = simulator.parameters.count, e = networks.a.outputSize
        let negatives = (0..<n).flatMap { _ in simulator.parameters.map { $0.standardise(draws.uniform(in: $0.bounds)) } }
        let inputs = Matrix<Float>(rows: 2 * n, columns: p, values: (u + negatives).map { Float($0) })
        networks.a.forward(inputs, workspace: &aWork)
        networks.b.forward(inputs, workspace: &bWork)
        networks.g.forward(t, workspace: &gWork)
        for r in 0..<2 * n {
            let event = r % n
            var z = bWork.output[r, 0] + gWork.output[event, 0]
            for c in 0..<e { z += aWork.output[r, c] * t[event, c] }
            logits[r, 0] = z
        }
        let loss = Loss.binaryCrossEntropyWithLogits(logits, labels, gradient: &dLogit)
        for r in 0..<2 * n {
            let event = r % n, d = dLogit[r, 0]
            for c in 0..<e { aOut[r, c] = d * t[event, c] }
            bOut[r, 0] = d
        }
        for event in 0..<n { gOut[event, 0] = dLogit[event, 0] + dLogit[event + n, 0] }
        networks.a.backward(outputGradient: aOut, workspace: &aWork, gradients: &aGrad)
        networks.b.backward(outputGradient: bOut, workspace: &bWork, gradients: &bGrad)
        networks.g.backward(outputGradient: gOut, workspace: &gWork, gradients: &gGrad, inputGradient: embeddingGradient.rows == n)
        if embeddingGradient.rows == n {
            // dLoss/dt = dlogit⁺·a(u) + dlogit⁻·a(u′) + (dlogit⁺ + dlogit⁻)·∂g/∂t
            for event in 0..<n {
                for c in 0..<e {
                    let d = dLogit[event, 0] * aWork.output[event, c] + dLogit[event + n, 0] * aWork.output[event + n, c] + gWork.inputGradient[event, c]
                    embeddingGradient[event, c] += weight * d
                }
            }
        }
        aAdam.update(&networks.a, gradients: aGrad, learningRate: learningRate)
        bAdam.update(&networks.b, gradients: bGrad, learningRate: learningRate)
        gAdam.update(&networks.g, gradients: gGrad, learningRate: learningRate)
        return loss
    }
}

/// Trains the exponential-family LR estimator on the frozen embedder.
///
/// Reference: the prior-marginal p(x) = ∫ p(x|θ) π(θ) dθ (contrastive: events paired with their own θ against
/// the same events paired with a fresh θ′ from the prior). The optimal logit is log p(x|θ) − log p(x), so the
/// classifier is a(u)·t(x) + b(u) + g(t(x)), with g a small MLP of t. g cancels in every ratio between two θ —
/// profiles and intervals only use differences — so the bundle keeps a and b only.
/// Chosen over a fixed θ₀ because the marginal covers every region of x the prior can produce: against a
/// fixed θ₀, events far from θ₀ are separated by huge logits and the linear form is fitted where it matters
/// least. Deterministic for a seed.
public struct LRTrainer {
    public let simulator: any Simulator
    public let embedder: MLP<Float>
    public let options: TrainingOptions

    public init(simulator: any Simulator, embedder: MLP<Float>, options: TrainingOptions) {
        self.simulator = simulator
        self.embedder = embedder
        self.options = options
    }

    /// Trains from `initial` networks (e.g. those co-trained in pretraining), or fresh ones.
    public func run(from initial: LRNetworks? = nil, progress: (Int, Double) -> Void = { _, _ in }) -> LREstimator {
        BLAS.configure()
        let f = simulator.features.count, e = embedder.outputSize
        var sampler = SetSampler(simulator: simulator, rng: SeededGenerator(seed: options.seed, stream: 11))
        var pilot: [Double] = []
        _ = sampler.draw(sizes: [Int](repeating: 1, count: 20_000), events: &pilot)
        let (tMean, tStd) = columnMoments(Pretrainer.embed(embedder, pilot, features: f).values.map(Double.init), columns: e)
        let networks = initial ?? LRNetworks(simulator: simulator, embeddingSize: e, options: options, tMean: tMean, tStd: tStd)
        let n = 2 * options.setsPerBatch  // events per step
        var contrast = LRContrast(simulator: simulator, networks: networks, events: n, options: options)
        var embedWork = MLPWorkspace(for: embedder, capacity: n)
        let schedule = CosineSchedule(peak: options.learningRate, floor: options.learningRate / 50, warmupSteps: 200, totalSteps: options.lrSteps)
        var events: [Double] = []
        var none = Matrix<Float>(rows: 0, columns: e)
        var meter = LossMeter()
        for step in 0..<options.lrSteps {
            let u = sampler.draw(sizes: [Int](repeating: 1, count: n), events: &events)
            embedder.forward(Matrix(rows: n, columns: f, values: events.map { Float($0) }), workspace: &embedWork)
            let loss = contrast.step(t: embedWork.output, u: u, addingTo: &none, learningRate: schedule.learningRate(at: step))
            meter.record(loss, step: step, progress: progress)
        }
        return contrast.networks.estimator
    }
}

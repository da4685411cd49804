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
public struct LRTrainer {
    public let simulator: any Simulator
    public let embedder: MLP<Float>
    public let options: TrainingOptions

    public init(simulator: any Simulator, embedder: MLP<Float>, options: TrainingOptions) {
        self.simulator = simulator
        self.embedder = embedder
        self.options = options
    }

    public func run(progress: (Int, Double) -> Void = { _, _ in }) -> LREstimator {
        BLAS.configure()
        let f = simulator.features.count, p = simulator.parameters.count, e = embedder.outputSize
        var rng = SeededGenerator(seed: options.seed, stream: 10)
        var a = MLP<Float>(sizes: [p] + options.lrHidden + [e], hidden: .silu, using: &rng)
        var b = MLP<Float>(sizes: [p] + options.lrHidden + [1], hidden: .silu, using: &rng)
        var g = MLP<Float>(sizes: [e] + options.lrHidden + [1], hidden: .silu, using: &rng)
        var sampler = SetSampler(simulator: simulator, rng: SeededGenerator(seed: options.seed, stream: 11))
        var draws = SeededGenerator(seed: options.seed, stream: 12)
        var pilot: [Double] = []
        _ = sampler.draw(sizes: [Int](repeating: 1, count: 20_000), events: &pilot)
        let pilotT = Pretrainer.embed(embedder, pilot, features: f)
        (g.inputMean, g.inputStd) = columnMoments(pilotT.values.map(Double.init), columns: e)
        // a and b take u ∈ [−1, 1]: no standardisation needed.

        let n = 2 * options.setsPerBatch  // events per step
        var embedWork = MLPWorkspace(for: embedder, capacity: n)
        var aWork = MLPWorkspace(for: a, capacity: 2 * n, training: true)
        var bWork = MLPWorkspace(for: b, capacity: 2 * n, training: true)
        var gWork = MLPWorkspace(for: g, capacity: n, training: true)
        var aGrad = a.zeroGradients(), bGrad = b.zeroGradients(), gGrad = g.zeroGradients()
        var aAdam = Adam<Float>(learningRate: options.learningRate), bAdam = Adam<Float>(learningRate: options.learningRate)
        var gAdam = Adam<Float>(learningRate: options.learningRate)
        let schedule = CosineSchedule(peak: options.learningRate, floor: options.learningRate / 50, warmupSteps: 200, totalSteps: options.lrSteps)
        var events: [Double] = []
        var logits = Matrix<Float>(rows: 2 * n, columns: 1)
        let labels = Matrix<Float>(rows: 2 * n, columns: 1, values: [Float](repeating: 1, count: n) + [Float](repeating: 0, count: n))
        var dLogit = Matrix<Float>(rows: 2 * n, columns: 1)
        var aOut = Matrix<Float>(rows: 2 * n, columns: e), bOut = Matrix<Float>(rows: 2 * n, columns: 1), gOut = Matrix<Float>(rows: n, columns: 1)
        var meter = LossMeter()
        for step in 0..<options.lrSteps {
            // Positives: (x, its θ); negatives: (the same x, θ′ from the prior).
            let u = sampler.draw(sizes: [Int](repeating: 1, count: n), events: &events)
            let negatives = (0..<n).flatMap { _ in simulator.parameters.map { $0.standardise(draws.uniform(in: $0.bounds)) } }
            embedder.forward(Matrix(rows: n, columns: f, values: events.map { Float($0) }), workspace: &embedWork)
            let t = embedWork.output
            a.forward(Matrix(rows: 2 * n, columns: p, values: (u + negatives).map { Float($0) }), workspace: &aWork)
            b.forward(Matrix(rows: 2 * n, columns: p, values: (u + negatives).map { Float($0) }), workspace: &bWork)
            g.forward(t, workspace: &gWork)
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
            a.backward(outputGradient: aOut, workspace: &aWork, gradients: &aGrad)
            b.backward(outputGradient: bOut, workspace: &bWork, gradients: &bGrad)
            g.backward(outputGradient: gOut, workspace: &gWork, gradients: &gGrad)
            let lr = schedule.learningRate(at: step)
            aAdam.update(&a, gradients: aGrad, learningRate: lr)
            bAdam.update(&b, gradients: bGrad, learningRate: lr)
            gAdam.update(&g, gradients: gGrad, learningRate: lr)
            meter.record(loss, step: step, progress: progress)
        }
        return LREstimator(a: a, b: b)
    }
}

import Foundation
import Numerics

/// One cached simulated set: its true θ, its size N and its pooled Σ t (correctly rounded from the exact sum).
public struct CachedSet: Sendable, Equatable {
    public var theta: [Double]
    public var count: Int
    public var sum: [Double]

    public init(theta: [Double], count: Int, sum: [Double]) {
        self.theta = theta
        self.count = count
        self.sum = sum
    }
}

/// Finetunes the head on cached pooled embeddings of large sets, with the embedder frozen: inputs
/// [Σ t / N, log N], Gaussian NLL of standardised θ with the precision scaled by N.
public struct HeadFinetuner {
    public let parameters: [Parameter]
    public let steps: Int
    public let batch: Int
    public let learningRate: Double
    public let seed: UInt64

    public init(parameters: [Parameter], steps: Int = 4000, batch: Int = 256, learningRate: Double = 1e-3, seed: UInt64 = 1) {
        self.parameters = parameters
        self.steps = steps
        self.batch = batch
        self.learningRate = learningRate
        self.seed = seed
    }

    /// Head inputs and standardised targets of cached sets.
    func rows(_ sets: [CachedSet]) -> (input: Matrix<Float>, target: Matrix<Float>, sizes: [Float]) {
        let e = sets.first?.sum.count ?? 0
        var input: [Float] = [], target: [Float] = []
        for s in sets {
            input += s.sum.map { Float($0 / Double(s.count)) } + [Float(log(Double(s.count)))]
            target += zip(parameters, s.theta).map { Float($0.standardise($1)) }
        }
        return (Matrix(rows: sets.count, columns: e + 1, values: input), Matrix(rows: sets.count, columns: parameters.count, values: target),
                sets.map { Float($0.count) })
    }

    /// Mean Gaussian NLL of the head on `sets` (in standardised θ units).
    public func loss(_ head: MLP<Float>, on sets: [CachedSet]) -> Double {
        let (input, target, sizes) = rows(sets)
        var work = MLPWorkspace(for: head, capacity: sets.count)
        head.forward(input, workspace: &work)
        var gradient = Matrix<Float>(rows: sets.count, columns: head.outputSize)
        return Loss.gaussianNegativeLogLikelihood(work.output, target: target, setSize: sizes, gradient: &gradient)
    }

    public func run(head initial: MLP<Float>, on sets: [CachedSet], progress: (Int, Double) -> Void = { _, _ in }) -> MLP<Float> {
        precondition(!sets.isEmpty, "finetuning needs cached sets")
        BLAS.configure()
        var head = initial
        let (input, target, sizes) = rows(sets)
        var rng = SeededGenerator(seed: seed, stream: 20)
        let b = min(batch, sets.count)
        var work = MLPWorkspace(for: head, capacity: b, training: true)
        var grad = head.zeroGradients()
        var adam = Adam<Float>(learningRate: learningRate)
        let schedule = CosineSchedule(peak: learningRate, floor: learningRate / 50, warmupSteps: 100, totalSteps: steps)
        var x = Matrix<Float>(rows: b, columns: input.columns), y = Matrix<Float>(rows: b, columns: target.columns)
        var n = [Float](repeating: 0, count: b)
        var lossGradient = Matrix<Float>(rows: b, columns: head.outputSize)
        var meter = LossMeter()
        for step in 0..<steps {
            for r in 0..<b {
                let k = Int(rng.next() % UInt64(sets.count))
                for c in 0..<input.columns { x[r, c] = input[k, c] }
                for c in 0..<target.columns { y[r, c] = target[k, c] }
                n[r] = sizes[k]
            }
            head.forward(x, workspace: &work)
            let loss = Loss.gaussianNegativeLogLikelihood(work.output, target: y, setSize: n, gradient: &lossGradient)
            head.backward(outputGradient: lossGradient, workspace: &work, gradients: &grad)
            adam.update(&head, gradients: grad, learningRate: schedule.learningRate(at: step))
            meter.record(loss, step: step, progress: progress)
        }
        return head
    }
}

/// Finetunes the LR estimator's a and b at the set level on the cache: for each cached set the composed
/// ℓ(θ) = a(u)·Σt + N·b(u) is trained to single out the set's true θ among contrasting values θ′ drawn from a
/// proposal q(θ′ | data) — a Gaussian around the head's posterior, twice as wide — with the InfoNCE loss on the
/// logits ℓ(θⱼ) − log q(θⱼ). Its optimum is ℓ(θ) = log p(x|θ) + c(x): exactly what profiles and intervals need,
/// at every N of the cache. (Per-event training alone leaves systematic errors that grow like √N once composed.)
public struct LRFinetuner {
    public let parameters: [Parameter]
    public let steps: Int
    public let setsPerStep: Int
    public let contrasts: Int
    public let learningRate: Double
    public let seed: UInt64

    public init(parameters: [Parameter], steps: Int = 5000, setsPerStep: Int = 64, contrasts: Int = 32, learningRate: Double = 5e-4, seed: UInt64 = 1) {
        self.parameters = parameters
        self.steps = steps
        self.setsPerStep = setsPerStep
        self.contrasts = contrasts
        self.learningRate = learningRate
        self.seed = seed
    }

    /// Proposal per set (mean and std in standardised units), from the head's posterior.
    func proposals(head: MLP<Float>, sets: [CachedSet]) -> [(mean: [Double], std: [Double])] {
        sets.map { set in
            let posterior = GaussianPosterior.from(head: head, sum: set.sum, count: set.count, parameters: parameters)
            return (zip(parameters, posterior.mean).map { $0.standardise($1) },
                    zip(parameters, posterior.std).map { max(2 * $1 / $0.halfWidth, 1e-4) })
        }
    }

    public func run(_ initial: LREstimator, head: MLP<Float>, on sets: [CachedSet], progress: (Int, Double) -> Void = { _, _ in }) -> LREstimator {
        precondition(!sets.isEmpty, "finetuning needs cached sets")
        BLAS.configure()
        var a = initial.a, b = initial.b
        let p = parameters.count, e = a.outputSize, k = contrasts + 1, rows = setsPerStep * k
        let q = proposals(head: head, sets: sets)
        var rng = SeededGenerator(seed: seed, stream: 30)
        var aWork = MLPWorkspace(for: a, capacity: rows, training: true), bWork = MLPWorkspace(for: b, capacity: rows, training: true)
        var aGrad = a.zeroGradients(), bGrad = b.zeroGradients()
        var aAdam = Adam<Float>(learningRate: learningRate), bAdam = Adam<Float>(learningRate: learningRate)
        let schedule = CosineSchedule(peak: learningRate, floor: learningRate / 50, warmupSteps: 100, totalSteps: steps)
        var u = Matrix<Float>(rows: rows, columns: p)
        var aOut = Matrix<Float>(rows: rows, columns: e), bOut = Matrix<Float>(rows: rows, columns: 1)
        var logQ = [Double](repeating: 0, count: rows), chosen = [Int](repeating: 0, count: setsPerStep)
        var meter = LossMeter()
        for step in 0..<steps {
            for s in 0..<setsPerStep {
                let index = Int(rng.next() % UInt64(sets.count))
                chosen[s] = index
                let set = sets[index], proposal = q[index]
                for j in 0..<k {
                    var logDensity = 0.0
                    for d in 0..<p {
                        // j = 0: the truth; others: from the proposal, redrawn until inside the prior box.
                        var value = parameters[d].standardise(set.theta[d])
                        if j > 0 {
                            repeat { value = proposal.mean[d] + proposal.std[d] * rng.normal() } while abs(value) > 1
                        }
                        let z = (value - proposal.mean[d]) / proposal.std[d]
                        logDensity += -0.5 * z * z - log(proposal.std[d])
                        u[s * k + j, d] = Float(value)
                    }
                    logQ[s * k + j] = logDensity
                }
            }
            a.forward(u, workspace: &aWork)
            b.forward(u, workspace: &bWork)
            var loss = 0.0
            for s in 0..<setsPerStep {
                let set = sets[chosen[s]], n = Double(set.count)
                var logits = [Double](repeating: 0, count: k)
                for j in 0..<k {
                    let r = s * k + j
                    var l = n * Double(bWork.output[r, 0])
                    for c in 0..<e { l += Double(aWork.output[r, c]) * set.sum[c] }
                    logits[j] = l - logQ[r]
                }
                let top = logits.max()!
                let weights = logits.map { exp($0 - top) }, total = weights.reduce(0, +)
                loss += -(logits[0] - top - log(total))
                for j in 0..<k {
                    let r = s * k + j
                    let d = (weights[j] / total - (j == 0 ? 1 : 0)) / Double(setsPerStep)
                    for c in 0..<e { aOut[r, c] = Float(d * set.sum[c]) }
                    bOut[r, 0] = Float(d * n)
                }
            }
            a.backward(outputGradient: aOut, workspace: &aWork, gradients: &aGrad)
            b.backward(outputGradient: bOut, workspace: &bWork, gradients: &bGrad)
            let lr = schedule.learningRate(at: step)
            aAdam.update(&a, gradients: aGrad, learningRate: lr)
            bAdam.update(&b, gradients: bGrad, learningRate: lr)
            meter.record(loss / Double(setsPerStep), step: step, progress: progress)
        }
        return LREstimator(a: a, b: b)
    }
}

/// Calibrates the composed ratio of an LR estimator on cached sets: log R is multiplied by
/// τ(N) = exp(α + β log N), with (α, β) maximising the exactly normalised set-level log score
/// Σ_k [τ ℓ_k(θ_k) − log ∫ exp(τ ℓ_k(θ)) dθ] (uniform prior; the integral on a grid around the head's posterior).
/// Temperature scaling for a composed likelihood: it sharpens a ratio that came out too flat and widens one whose
/// errors grow with N, so that profile intervals cover at every N of the cache.
public struct LRCalibrator {
    public let parameters: [Parameter]
    /// Grid points per parameter for the normaliser.
    public let resolution: Int

    public init(parameters: [Parameter], resolution: Int = 31) {
        self.parameters = parameters
        self.resolution = resolution
    }

    public func fit(_ lr: LREstimator, head: MLP<Float>, on sets: [CachedSet]) -> (alpha: Double, beta: Double) {
        var uncalibrated = lr
        uncalibrated.calibration = (0, 0)
        // Per set: ℓ at the truth and on a grid spanning ±10 head σ (clipped to the prior box).
        var scores: [SetScore] = []
        for set in sets {
            let posterior = GaussianPosterior.from(head: head, sum: set.sum, count: set.count, parameters: parameters)
            let axes = parameters.indices.map { d -> [Double] in
                let p = parameters[d], half = 10 * posterior.std[d]
                let lo = max(p.bounds.lowerBound, posterior.mean[d] - half), hi = min(p.bounds.upperBound, posterior.mean[d] + half)
                return LikelihoodScan.axis(hi > lo ? lo...hi : p.bounds, resolution)
            }
            let values = uncalibrated.logRatio(LikelihoodScan.points(axes) + [set.theta], sum: set.sum, count: set.count,
                                               parameters: parameters, yield: nil)
            scores.append(SetScore(truth: values.last!, grid: Array(values.dropLast()),
                                   logCell: axes.reduce(0.0) { $0 + log($1[1] - $1[0]) }, logN: log(Double(set.count))))
        }
        return Self.fitTemperature(scores)
    }

    /// ℓ of one set at its true θ and on a grid of cells of log-volume `logCell`.
    struct SetScore {
        var truth: Double
        var grid: [Double]
        var logCell: Double
        var logN: Double
    }

    /// (α, β) minimising the mean of −τ ℓ(θ_true) + log Σ_g exp(τ ℓ_g) + log cell, τ = exp(α + β log N).
    static func fitTemperature(_ scores: [SetScore]) -> (alpha: Double, beta: Double) {
        func loss(_ alpha: Double, _ beta: Double) -> Double {
            var total = 0.0
            for s in scores {
                let tau = exp(alpha + beta * s.logN)
                let top = s.grid.reduce(-Double.infinity) { max($0, tau * $1) }
                let z = s.grid.reduce(0.0) { $0 + exp(tau * $1 - top) }
                total += -(tau * s.truth) + top + log(z) + s.logCell
            }
            return total / Double(scores.count)
        }
        // Coordinate descent with golden-section line searches: the score is smooth and convex in α for fixed β.
        func golden(_ range: ClosedRange<Double>, _ f: (Double) -> Double) -> Double {
            var (a, b) = (range.lowerBound, range.upperBound)
            let r = (5.0.squareRoot() - 1) / 2
            var c = b - r * (b - a), d = a + r * (b - a)
            var fc = f(c), fd = f(d)
            for _ in 0..<40 {
                if fc < fd { b = d; d = c; fd = fc; c = b - r * (b - a); fc = f(c) } else { a = c; c = d; fc = fd; d = a + r * (b - a); fd = f(d) }
            }
            return (a + b) / 2
        }
        var alpha = 0.0, beta = 0.0
        for _ in 0..<6 {
            alpha = golden(-4...4) { loss($0, beta) }
            beta = golden(-0.6...0.6) { loss(alpha, $0) }
        }
        return (alpha, beta)
    }
}

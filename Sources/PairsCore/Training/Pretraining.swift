import Foundation
import Numerics

/// Settings of `pairs train`. Defaults train the shipped models in about a minute on one core.
public struct TrainingOptions: Sendable {
    public var embeddingSize = 8
    public var embedderHidden = [64, 64]
    public var headHidden = [128, 128]
    public var lrHidden = [64, 64]
    /// Set sizes of pretraining, drawn in equal shares: [1, 2] is PAIRS; [1] is the no-pairs baseline.
    public var setSizes = [1, 2]
    public var steps = 6000
    public var lrSteps = 4000
    public var setsPerBatch = 256
    public var learningRate = 2e-3
    public var weightDecay = 0.0
    /// Weight of the per-event LR classification loss added to pretraining (0: NPE only). It shapes the
    /// embedder so that log p(x|θ) − log p(x) is close to linear in t, which the composed LR needs.
    public var lrWeight = 0.0
    public var seed: UInt64 = 1

    public init() {}
}

/// The head's inputs are [mean t, log N]; log N is standardised over N ∈ [1, 10⁶] once and for all, so that
/// a head pretrained at N ≤ 2 and finetuned on large sets keeps one fixed input scale.
let logNMean = 0.5 * log(1e6), logNStd = log(1e6) / 2

/// Draws training sets from a simulator: θ from the prior, a set size, the events.
struct SetSampler {
    let simulator: any Simulator
    var rng: SeededGenerator

    /// Fills `events` (row-major) for `sizes.count` sets and returns their standardised θ (row-major).
    mutating func draw(sizes: [Int], events: inout [Double]) -> [Double] {
        events.removeAll(keepingCapacity: true)
        var u: [Double] = []
        u.reserveCapacity(sizes.count * simulator.parameters.count)
        for n in sizes {
            let theta = simulator.drawTheta(using: &rng)
            for (p, value) in zip(simulator.parameters, theta) { u.append(p.standardise(value)) }
            simulator.sample(count: n, theta: theta, using: &rng, into: &events)
        }
        return u
    }
}

/// Averages the training loss over blocks of 100 steps and reports each block's mean.
struct LossMeter {
    private var total = 0.0

    mutating func record(_ loss: Double, step: Int, progress: (Int, Double) -> Void) {
        total += loss
        if (step + 1) % 100 == 0 {
            progress(step + 1, total / 100)
            total = 0
        }
    }
}

/// Mean and standard deviation of each column of row-major `values` (std floored at 1e-6).
func columnMoments(_ values: [Double], columns: Int) -> (mean: [Float], std: [Float]) {
    let rows = values.count / columns
    var mean = [Double](repeating: 0, count: columns), square = mean
    for r in 0..<rows { for c in 0..<columns { mean[c] += values[r * columns + c]; square[c] += values[r * columns + c] * values[r * columns + c] } }
    let m = mean.map { $0 / Double(rows) }
    let s = zip(square, m).map { max(($0 / Double(rows) - $1 * $1).squareRoot(), 1e-6) }
    return (m.map { Float($0) }, s.map { Float($0) })
}

/// PAIRS pretraining: the embedder t and the head are trained jointly, through mean pooling, on sets of one and
/// two events with the Gaussian NLL of the standardised θ (precision scaled by N). Deterministic for a seed
/// (one BLAS thread).
public struct Pretrainer {
    public let simulator: any Simulator
    public let options: TrainingOptions

    public init(simulator: any Simulator, options: TrainingOptions) {
        self.simulator = simulator
        self.options = options
    }

    /// Returns (embedder, head, and the LR networks when `lrWeight` > 0); `progress` receives (step, mean loss
    /// of the last 100 steps).
    public func run(progress: (Int, Double) -> Void = { _, _ in }) -> (embedder: MLP<Float>, head: MLP<Float>, lr: LRNetworks?) {
        BLAS.configure()
        let f = simulator.features.count, p = simulator.parameters.count, e = options.embeddingSize
        var rng = SeededGenerator(seed: options.seed, stream: 0)
        var embedder = MLP<Float>(sizes: [f] + options.embedderHidden + [e], hidden: .relu, using: &rng)
        var head = MLP<Float>(sizes: [e + 1] + options.headHidden + [Loss.gaussianOutputSize(parameters: p)], hidden: .silu, using: &rng)
        var sampler = SetSampler(simulator: simulator, rng: SeededGenerator(seed: options.seed, stream: 1))

        // Standardise the embedder's inputs from the prior predictive, and the head's mean-t inputs from
        // single-event embeddings of the initial network (log N has a fixed scale).
        var pilot: [Double] = []
        _ = sampler.draw(sizes: [Int](repeating: 1, count: 20_000), events: &pilot)
        (embedder.inputMean, embedder.inputStd) = columnMoments(pilot, columns: f)
        let pilotEmbedding = Self.embed(embedder, pilot, features: f)
        let (tMean, tStd) = columnMoments(pilotEmbedding.values.map(Double.init), columns: e)
        head.inputMean = tMean + [Float(logNMean)]
        head.inputStd = tStd + [Float(logNStd)]

        let b = options.setsPerBatch
        let sizes = (0..<b).map { options.setSizes[$0 % options.setSizes.count] }
        let totalEvents = sizes.reduce(0, +)
        var embedderWork = MLPWorkspace(for: embedder, capacity: totalEvents, training: true)
        var headWork = MLPWorkspace(for: head, capacity: b, training: true)
        var embedderGrad = embedder.zeroGradients(), headGrad = head.zeroGradients()
        var embedderAdam = Adam<Float>(learningRate: options.learningRate, weightDecay: options.weightDecay)
        var headAdam = Adam<Float>(learningRate: options.learningRate, weightDecay: options.weightDecay)
        let schedule = CosineSchedule(peak: options.learningRate, floor: options.learningRate / 50, warmupSteps: 200, totalSteps: options.steps)
        var events: [Double] = []
        var headInput = Matrix<Float>(rows: b, columns: e + 1)
        var lossGradient = Matrix<Float>(rows: b, columns: head.outputSize)
        var eventGradient = Matrix<Float>(rows: totalEvents, columns: e)
        let setSize = sizes.map { Float($0) }
        var meter = LossMeter()
        var contrast = options.lrWeight > 0
            ? LRContrast(simulator: simulator, networks: LRNetworks(simulator: simulator, embeddingSize: e, options: options,
                                                                    tMean: tMean, tStd: tStd), events: totalEvents, options: options)
            : nil
        for step in 0..<options.steps {
            let u = sampler.draw(sizes: sizes, events: &events)
            let x = Matrix<Float>(rows: totalEvents, columns: f, values: events.map { Float($0) })
            embedder.forward(x, workspace: &embedderWork)
            // Mean pooling per set, then [mean t, log N].
            var row = 0
            for (s, n) in sizes.enumerated() {
                for c in 0..<e {
                    var sum: Float = 0
                    for k in 0..<n { sum += embedderWork.output[row + k, c] }
                    headInput[s, c] = sum / Float(n)
                }
                headInput[s, e] = Float(log(Double(n)))
                row += n
            }
            head.forward(headInput, workspace: &headWork)
            let target = Matrix<Float>(rows: b, columns: p, values: u.map { Float($0) })
            let loss = Loss.gaussianNegativeLogLikelihood(headWork.output, target: target, setSize: setSize, gradient: &lossGradient)
            head.backward(outputGradient: lossGradient, workspace: &headWork, gradients: &headGrad, inputGradient: true)
            // dL/dt_i = dL/d(mean t of its set) / N.
            row = 0
            for (s, n) in sizes.enumerated() {
                for k in 0..<n { for c in 0..<e { eventGradient[row + k, c] = headWork.inputGradient[s, c] / Float(n) } }
                row += n
            }
            var lossTotal = loss
            if contrast != nil {
                // Every event against its own θ and a fresh θ′: the per-event LR loss, whose gradient also
                // reaches the embedder.
                var eventTheta: [Double] = []
                for (s, n) in sizes.enumerated() { for _ in 0..<n { eventTheta += u[s * p..<(s + 1) * p] } }
                lossTotal += options.lrWeight * contrast!.step(t: embedderWork.output, u: eventTheta, weight: Float(options.lrWeight),
                                                               addingTo: &eventGradient, learningRate: schedule.learningRate(at: step))
            }
            embedder.backward(outputGradient: eventGradient, workspace: &embedderWork, gradients: &embedderGrad)
            let lr = schedule.learningRate(at: step)
            headAdam.update(&head, gradients: headGrad, learningRate: lr)
            embedderAdam.update(&embedder, gradients: embedderGrad, learningRate: lr)
            meter.record(lossTotal, step: step, progress: progress)
        }
        return (embedder, head, contrast?.networks)
    }

    /// Single-event embeddings of row-major Double events.
    static func embed(_ embedder: MLP<Float>, _ events: [Double], features: Int) -> Matrix<Float> {
        let x = Matrix<Float>(rows: events.count / features, columns: features, values: events.map { Float($0) })
        var work = MLPWorkspace(for: embedder, capacity: x.rows)
        embedder.forward(x, workspace: &work)
        return work.output
    }
}

import Dispatch
import ExactSum
import Foundation
import Numerics

/// How a trained bundle compares with the exact inference of its simulator, per set size N.
public struct ValidationResult: Sendable {
    public struct Method: Sendable {
        /// Mean of (estimate − truth) for the parameter of interest, and the same in units of the exact std.
        public var bias: Double
        public var biasOverExactStd: Double
        /// Mean and median of (this method's std or 68 % half-width) / (the exact one).
        public var widthRatioMean: Double
        public var widthRatioMedian: Double
        /// Fraction of data sets whose truth lies in the 68 % / 95 % interval.
        public var coverage68: Double
        public var coverage95: Double
        /// Fraction of data sets whose interval reached the prior box's edge.
        public var atEdge: Double
    }

    public struct Row: Sendable {
        public var size: Int
        public var datasets: Int
        /// Head posterior vs the exact posterior (uniform prior, nuisance marginalised, given N).
        public var head: Method
        /// Composed LR profile vs the exact profile likelihood (extended where the simulator is).
        public var lr: Method?
        /// Coverage of the exact profile-likelihood intervals themselves (Wilks' theorem at this N).
        public var exactProfileCoverage68: Double
        public var exactProfileCoverage95: Double
        /// Binomial standard error of a 68 % coverage estimated from this many data sets.
        public var coverageError68: Double { (0.6827 * 0.3173 / Double(datasets)).squareRoot() }
    }

    public var simulator: String
    public var modelDigest: String
    public var parameterOfInterest: String
    public var seed: UInt64
    public var rows: [Row]
}

/// Validates a bundle against its simulator's exact likelihood (`pairs validate`).
public struct Validator: Sendable {
    public let model: ModelBundle
    public let simulatorName: String
    public let seed: UInt64
    public let threads: Int

    public init(model: ModelBundle, simulator: String, seed: UInt64 = 1, threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.model = model
        simulatorName = simulator
        self.seed = seed
        self.threads = threads
    }

    struct Outcome {
        var truth: Double
        var head: (mean: Double, std: Double, in68: Bool, in95: Bool)
        var exact: (mean: Double, std: Double)
        var lr: (mle: Double, halfWidth: Double, in68: Bool, in95: Bool, edge: Bool)?
        var exactProfile: (halfWidth: Double, in68: Bool, in95: Bool, edge: Bool)
    }

    public func run(sizes: [Int], datasets: Int, progress: @Sendable (Int, Int) -> Void = { _, _ in }) throws(SimulatorError) -> ValidationResult {
        let base = try Simulators.named(simulatorName)
        guard base.features == model.metadata.features, base.parameters.map(\.name) == model.metadata.parameters.map(\.name) else {
            throw SimulatorError("the model's features and parameters do not match simulator '\(simulatorName)'")
        }
        guard let poi = model.metadata.parameters.firstIndex(where: { $0.role == .poi }) else {
            throw SimulatorError("the model has no parameter of interest")
        }
        var rows: [ValidationResult.Row] = []
        for size in sizes {
            // Extended simulators: a luminosity giving ν ≈ N at the centre of the prior box; N is then Poisson.
            let centre = base.parameters.map(\.centre)
            let luminosity = base.yieldModel.map { Double(size) / $0.expected(centre) } ?? 1
            let simulator = try Simulators.named(simulatorName, luminosity: luminosity)
            let outcomes = Results(count: datasets)
            DispatchQueue.concurrentPerform(iterations: threads) { worker in
                var d = worker
                while d < datasets {
                    outcomes.set(d, one(simulator, size: size, index: d, poi: poi))
                    d += threads
                }
            }
            progress(size, datasets)
            rows.append(summarise(outcomes.all, size: size))
        }
        return ValidationResult(simulator: simulatorName, modelDigest: model.digest, parameterOfInterest: model.metadata.parameters[poi].name,
                                seed: seed, rows: rows)
    }

    /// One data set: simulate, pool exactly, then compare head and LR with the exact likelihood.
    private func one(_ simulator: any Simulator, size: Int, index: Int, poi: Int) -> Outcome {
        var rng = SeededGenerator(seed: seed, stream: UInt64(size) << 24 | UInt64(index))
        let parameters = model.metadata.parameters
        let theta = simulator.drawTheta(using: &rng)
        let count = simulator.isExtended ? max(1, simulator.drawCount(theta: theta, requested: size, using: &rng)) : size
        var events: [Double] = []
        simulator.sample(count: count, theta: theta, using: &rng, into: &events)
        let pooled = Self.pool(events, features: simulator.features.count, embedder: Embedder(model.embedder))
        let exact = simulator.likelihood(of: events)
        let bounds = parameters.map(\.bounds), resolution = parameters.indices.map { $0 == poi ? 41 : 31 }
        let truth = theta[poi]

        let posterior = GaussianPosterior.from(head: model.head, sum: pooled.sum, count: count, parameters: parameters)
        let shapeScan = LikelihoodScan(bounds: bounds, resolution: resolution) { exact.logLikelihoods($0) }
        let exactMoments = shapeScan.marginalMoments(poi)
        let h68 = posterior.interval(poi, level: 0.68), h95 = posterior.interval(poi, level: 0.95)
        var outcome = Outcome(truth: truth, head: (posterior.mean[poi], posterior.std[poi], h68.contains(truth), h95.contains(truth)),
                              exact: exactMoments, lr: nil, exactProfile: (0, false, false, false))

        let yield = simulator.yieldModel
        let profileScan = yield.map { y in LikelihoodScan(bounds: bounds, resolution: resolution) { exact.extendedLogLikelihoods($0, yield: y) } } ?? shapeScan
        let exactProfile = profileScan.profile(poi)
        outcome.exactProfile = (Self.halfWidth(exactProfile.interval68), exactProfile.interval68.contains(truth),
                                exactProfile.interval95.contains(truth), exactProfile.atGridEdge)
        if let lr = model.lrEstimator {
            let lrScan = LikelihoodScan(bounds: bounds, resolution: resolution) {
                lr.logRatio($0, sum: pooled.sum, count: count, parameters: parameters, yield: yield)
            }
            let profile = lrScan.profile(poi)
            outcome.lr = (profile.mle, Self.halfWidth(profile.interval68), profile.interval68.contains(truth),
                          profile.interval95.contains(truth), profile.atGridEdge)
        }
        return outcome
    }

    static func halfWidth(_ interval: ClosedRange<Double>) -> Double { (interval.upperBound - interval.lowerBound) / 2 }

    /// Embeds events (row-major) and pools them exactly.
    static func pool(_ events: [Double], features: Int, embedder: Embedder) -> PooledEmbedding {
        var pooled = PooledEmbedding(dimensions: embedder.outputSize)
        var adder = ExactBlockSum(columns: embedder.outputSize)
        let batch = EventBatch(values: Matrix(rows: events.count / features, columns: features, values: events.map { Float($0) }))
        _ = embedder.pool(batch, adder: &adder, into: &pooled)
        return pooled
    }

    private func summarise(_ outcomes: [Outcome], size: Int) -> ValidationResult.Row {
        let n = Double(outcomes.count)
        func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(max(1, v.count)) }
        func median(_ v: [Double]) -> Double { let s = v.sorted(); return s.isEmpty ? .nan : s[s.count / 2] }
        func fraction(_ flags: [Bool]) -> Double { Double(flags.filter { $0 }.count) / n }
        let headRatios = outcomes.map { $0.head.std / $0.exact.std }
        let head = ValidationResult.Method(
            bias: mean(outcomes.map { $0.head.mean - $0.truth }), biasOverExactStd: mean(outcomes.map { ($0.head.mean - $0.truth) / $0.exact.std }),
            widthRatioMean: mean(headRatios), widthRatioMedian: median(headRatios),
            coverage68: fraction(outcomes.map(\.head.in68)), coverage95: fraction(outcomes.map(\.head.in95)), atEdge: 0)
        var lr: ValidationResult.Method? = nil
        if outcomes.first?.lr != nil {
            let ratios = outcomes.map { $0.lr!.halfWidth / max($0.exactProfile.halfWidth, 1e-300) }
            lr = ValidationResult.Method(
                bias: mean(outcomes.map { $0.lr!.mle - $0.truth }), biasOverExactStd: mean(outcomes.map { ($0.lr!.mle - $0.truth) / $0.exact.std }),
                widthRatioMean: mean(ratios), widthRatioMedian: median(ratios),
                coverage68: fraction(outcomes.map { $0.lr!.in68 }), coverage95: fraction(outcomes.map { $0.lr!.in95 }),
                atEdge: fraction(outcomes.map { $0.lr!.edge }))
        }
        return ValidationResult.Row(size: size, datasets: outcomes.count, head: head, lr: lr,
                                    exactProfileCoverage68: fraction(outcomes.map(\.exactProfile.in68)),
                                    exactProfileCoverage95: fraction(outcomes.map(\.exactProfile.in95)))
    }
}

/// Per-data-set outcomes filled from several threads (each index written once).
private final class Results: @unchecked Sendable {  // guarded by `lock`
    private let lock = NSLock()
    private var values: [Validator.Outcome?]
    init(count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ v: Validator.Outcome) { lock.lock(); values[i] = v; lock.unlock() }
    var all: [Validator.Outcome] { lock.lock(); defer { lock.unlock() }; return values.compactMap { $0 } }
}

import Foundation
import Testing
import Numerics
@testable import PairsCore

let shippedModels = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("examples/models").path

/// The shipped gaussian model's calibrated composed likelihood ratio, log R(θ) = τ(N)·[a(θ)·Σ t + N·b(θ)],
/// against the exact log-likelihood on 16 fresh data sets per N with θ drawn from the prior. The LR estimator
/// is learned, so single data sets scatter; what must hold on the ensemble (numbers measured with this model are
/// in the comments, and in examples/models/validation/gaussian): the composed MLE sits close to the exact MLE on
/// the exact σ scale, the profile interval is about the exact one's width (calibration keeps it from shrinking),
/// and it contains the exact MLE for most data sets.
@Suite struct ShippedModelTests {
    @Test(arguments: [(1000, UInt64(1)), (10_000, UInt64(2))])
    func composedRatioTracksTheExactLikelihoodOnGaussian(size: Int, seed: UInt64) throws {
        let model = try ModelBundle.load(shippedModels + "/gaussian.h5")
        let lr = try #require(model.lrEstimator)
        #expect(lr.isCalibrated)
        let simulator = GaussianSimulator()
        let bounds = simulator.parameters.map(\.bounds)
        var rng = SeededGenerator(seed: seed)
        var offsets: [Double] = [], widthRatios: [Double] = [], containsExactMLE = 0
        let sets = 16
        for _ in 0..<sets {
            let theta = bounds.map { rng.uniform(in: $0) }
            var events: [Double] = []
            simulator.sample(count: size, theta: theta, using: &rng, into: &events)
            let pooled = Validator.pool(events, features: 1, embedder: Embedder(model.embedder))
            let exact = simulator.likelihood(of: events)
            let exactProfile = LikelihoodScan(bounds: bounds, resolution: [41, 31]) { exact.logLikelihoods($0) }.profile(0)
            let lrProfile = LikelihoodScan(bounds: bounds, resolution: [41, 31]) {
                lr.logRatio($0, sum: pooled.sum, count: size, parameters: simulator.parameters, yield: nil)
            }.profile(0)
            let exactWidth = exactProfile.interval68.upperBound - exactProfile.interval68.lowerBound
            offsets.append(abs(lrProfile.mle - exactProfile.mle) / (exactWidth / 2))
            widthRatios.append((lrProfile.interval68.upperBound - lrProfile.interval68.lowerBound) / exactWidth)
            if lrProfile.interval68.contains(exactProfile.mle) { containsExactMLE += 1 }
        }
        let medianOffset = offsets.sorted()[sets / 2], medianWidth = widthRatios.sorted()[sets / 2]
        print("N = \(size): median |MLE_LR − MLE_exact|/σ_exact \(medianOffset), median width ratio \(medianWidth),"
              + " LR 68 % contains the exact MLE in \(containsExactMLE)/\(sets)")
        // Measured: offsets 0.20 (N = 1000) and 0.48 (N = 10⁴); widths 1.34 and 1.59; contains 16/16 and 15/16.
        #expect(medianOffset < 0.75)
        #expect(medianWidth > 0.9 && medianWidth < 1.8)
        #expect(containsExactMLE >= sets * 3 / 4)
    }
}

@Suite struct LRCalibrationTests {
    /// Composed ratios that are Gaussian in θ but `flatness` times too flat (and unbiased): the fitted τ(N) must
    /// undo the flattening at every N, with no trend in N.
    @Test(arguments: [0.5, 1.0, 2.0])
    func temperatureUndoesAKnownFlattening(flatness: Double) {
        var rng = SeededGenerator(seed: 21)
        let scores: [LRCalibrator.SetScore] = (0..<300).map { _ in
            let n = Int(exp(rng.uniform(in: log(10.0)...log(1e5))))
            let sigma = 0.3 / Double(n).squareRoot(), truth = rng.uniform(in: -0.5...0.5)
            let estimate = truth + sigma * rng.normal()
            let ell = { (θ: Double) in -0.5 * flatness * (θ - estimate) * (θ - estimate) / (sigma * sigma) }
            let grid = LikelihoodScan.axis((estimate - 12 * sigma)...(estimate + 12 * sigma), 101)
            return LRCalibrator.SetScore(truth: ell(truth), grid: grid.map(ell), logCell: log(grid[1] - grid[0]), logN: log(Double(n)))
        }
        let (alpha, beta) = LRCalibrator.fitTemperature(scores)
        #expect(abs(exp(alpha + beta * log(1000.0)) * flatness - 1) < 0.15, "τ(1000) = \(exp(alpha + beta * log(1000.0)))")
        #expect(abs(beta) < 0.05)
    }
}

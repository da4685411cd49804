import Foundation
import Testing
import Numerics
@testable import PairsCore

let shippedModels = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("examples/models").path

/// The shipped gaussian model's composed likelihood ratio against the exact log-likelihood on fresh data sets:
/// log R(θ) = a(θ)·Σ t + N·b(θ) differs from log L(θ) by a constant only if the LR estimator is exact. Measured:
/// the MLE lands within one exact σ and ΔlogR follows Δ log L closely in shape, with a flatter curvature
/// (intervals about 1.3× wide; examples/models/README.md).
@Suite struct ShippedModelTests {
    @Test(arguments: [(1000, UInt64(1)), (10_000, UInt64(2))])
    func composedRatioTracksTheExactLikelihoodOnGaussian(size: Int, seed: UInt64) throws {
        let model = try ModelBundle.load(shippedModels + "/gaussian.h5")
        let lr = try #require(model.lrEstimator)
        let simulator = GaussianSimulator()
        var rng = SeededGenerator(seed: seed)
        let theta = [0.7, 1.3]
        var events: [Double] = []
        simulator.sample(count: size, theta: theta, using: &rng, into: &events)
        let pooled = Validator.pool(events, features: 1, embedder: Embedder(model.embedder))
        let exact = simulator.likelihood(of: events)
        let exactScan = LikelihoodScan(bounds: simulator.parameters.map(\.bounds), resolution: [41, 31]) { exact.logLikelihoods($0) }
        let exactProfile = exactScan.profile(0)
        let sigma = (exactProfile.interval68.upperBound - exactProfile.interval68.lowerBound) / 2
        // Compare Δ relative to the exact MLE over the exact 95 % region of the final grid.
        let points = LikelihoodScan.points(exactScan.axes)
        let composed = lr.logRatio(points, sum: pooled.sum, count: size, parameters: simulator.parameters, yield: nil)
        let top = exactScan.values.max()!, topR = composed.max()!
        let inside = points.indices.filter { exactScan.values[$0] > top - 3 }
        let dL = inside.map { exactScan.values[$0] - top }, dR = inside.map { composed[$0] - topR }
        let correlation = Self.correlation(dL, dR)
        let lrProfile = LikelihoodScan(bounds: simulator.parameters.map(\.bounds), resolution: [41, 31]) {
            lr.logRatio($0, sum: pooled.sum, count: size, parameters: simulator.parameters, yield: nil)
        }.profile(0)
        let widthRatio = (lrProfile.interval68.upperBound - lrProfile.interval68.lowerBound) / (2 * sigma)
        print("N = \(size): exact MLE \(exactProfile.mle) ± \(sigma), composed MLE \(lrProfile.mle), width ratio \(widthRatio), correlation \(correlation)")
        #expect(abs(lrProfile.mle - exactProfile.mle) < sigma)
        #expect(correlation > 0.9)
        #expect(widthRatio > 0.8 && widthRatio < 1.6)
    }

    static func correlation(_ a: [Double], _ b: [Double]) -> Double {
        let ma = a.reduce(0, +) / Double(a.count), mb = b.reduce(0, +) / Double(b.count)
        let cov = zip(a, b).reduce(0) { $0 + ($1.0 - ma) * ($1.1 - mb) }
        let va = a.reduce(0) { $0 + ($1 - ma) * ($1 - ma) }, vb = b.reduce(0) { $0 + ($1 - mb) * ($1 - mb) }
        return cov / (va * vb).squareRoot()
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

import Foundation
import Testing
import Numerics
@testable import PairsCore

@Suite struct SimulatorTests {
    @Test(arguments: Simulators.names)
    func exactLikelihoodPeaksAtTheTruth(_ name: String) throws {
        let simulator = try Simulators.named(name)
        var rng = SeededGenerator(seed: 3)
        let theta = simulator.parameters.map { $0.bounds.lowerBound + 0.6 * ($0.bounds.upperBound - $0.bounds.lowerBound) }
        let count = simulator.isExtended ? simulator.drawCount(theta: theta, requested: 0, using: &rng) : 20_000
        var events: [Double] = []
        simulator.sample(count: count, theta: theta, using: &rng, into: &events)
        let likelihood = simulator.likelihood(of: events)
        let scan = LikelihoodScan(bounds: simulator.parameters.map(\.bounds), resolution: [41, 31]) { points in
            points.map { point in
                simulator.yieldModel.map { y in likelihood.extendedLogLikelihood(point, yield: y) } ?? likelihood.logLikelihood(point)
            }
        }
        for d in 0..<2 {
            let profile = scan.profile(d)
            let sigma = (profile.interval68.upperBound - profile.interval68.lowerBound) / 2
            #expect(abs(profile.mle - theta[d]) < 4 * sigma, "\(name) parameter \(d): MLE \(profile.mle) vs truth \(theta[d]) ± \(sigma)")
        }
    }

    @Test func extendedCountsFollowTheYield() throws {
        let simulator = try Simulators.named("extended-bump", luminosity: 2)
        var rng = SeededGenerator(seed: 4)
        let counts = (0..<400).map { _ in simulator.drawCount(theta: [1, 1], requested: 0, using: &rng) }
        let mean = Double(counts.reduce(0, +)) / 400
        #expect(abs(mean - 2100) < 4 * (2100.0 / 400).squareRoot())
        #expect(simulator.yieldModel == YieldModel(intercept: 0, coefficients: [100, 2000]))
    }

    @Test func poissonSamplerHasTheRightMomentsOverItsRegimes() {
        var rng = SeededGenerator(seed: 5)
        for mean in [0.3, 7, 29.5, 30, 250, 1e5, 3e6] {
            let draws = (0..<4_000).map { _ in Double(rng.poisson(mean)) }
            let m = draws.reduce(0, +) / 4000, v = draws.map { ($0 - m) * ($0 - m) }.reduce(0, +) / 3999
            #expect(abs(m - mean) < 5 * (mean / 4000).squareRoot(), "mean of Poisson(\(mean)): \(m)")
            #expect(abs(v / mean - 1) < 0.15, "variance of Poisson(\(mean)): \(v)")
        }
    }

    @Test func onOffClosedFormProfileMatchesTheNumericalOne() throws {
        let onoff = OnOffSimulator()
        let (n1, n2) = (120, 75)
        let events = [Double](repeating: 1, count: n1) + [Double](repeating: 0, count: n2)
        let likelihood = onoff.likelihood(of: events)
        for mu in [0.0, 1.3, 2.9] {
            let gammaHat = onoff.conditionalGamma(mu: mu, n1: n1, n2: n2)
            let value = likelihood.extendedLogLikelihood([mu, gammaHat], yield: onoff.yieldModel!)
            for delta in [-1e-3, 1e-3] {
                #expect(likelihood.extendedLogLikelihood([mu, gammaHat + delta], yield: onoff.yieldModel!) < value)
            }
        }
        // The unconditional maximum: μ̂ = (n1 − n2/τ)/s0, γ̂ = n2/(τ b0).
        let muHat = (Double(n1) - Double(n2)) / onoff.s0, gammaHat = Double(n2) / onoff.b0
        #expect(abs(onoff.conditionalGamma(mu: muHat, n1: n1, n2: n2) - gammaHat) < 1e-12)
    }
}

@Suite struct LikelihoodScanTests {
    /// log L of a 2-D Gaussian with a correlated nuisance: the profile of θ₀ is exactly Gaussian with its
    /// marginal σ; the MLE and the 68 %/95 % profile intervals must match the analytic ones to 1 % of σ at the
    /// report's default resolution, also for a peak 10⁴ times narrower than the prior box.
    @Test func profileIntervalsAreWilksIntervalsAndTheGridZoomsOnNarrowPeaks() {
        for sigma in [0.4, 1e-4] {
            let rho = 0.5, s1 = 2 * sigma, centre = [0.3, -0.2]
            let scan = LikelihoodScan(bounds: [-3...3, -4...4], resolution: [81, 81]) { points in
                points.map { p in
                    let z0 = (p[0] - centre[0]) / sigma, z1 = (p[1] - centre[1]) / s1
                    return -0.5 * (z0 * z0 - 2 * rho * z0 * z1 + z1 * z1) / (1 - rho * rho)
                }
            }
            let profile = scan.profile(0)
            #expect(abs(profile.mle - centre[0]) < 0.01 * sigma)
            for (interval, z) in [(profile.interval68, 1.0), (profile.interval95, 1.959963984540054)] {
                #expect(abs(interval.lowerBound - (centre[0] - z * sigma)) < 0.01 * sigma, "σ = \(sigma): \(interval)")
                #expect(abs(interval.upperBound - (centre[0] + z * sigma)) < 0.01 * sigma, "σ = \(sigma): \(interval)")
            }
            // The profile itself is the analytic one, ((θ₀ − c)/σ)², at every grid value.
            for (x, q) in zip(scan.axes[0], profile.q) where abs(x - centre[0]) < 3 * sigma {
                #expect(abs(q - (x - centre[0]) * (x - centre[0]) / (sigma * sigma)) < 0.01, "profile at \(x)")
            }
            #expect(!profile.atGridEdge)
            let (mean, std) = scan.marginalMoments(0)
            #expect(abs(mean - centre[0]) < 0.02 * sigma && abs(std / sigma - 1) < 0.02)
        }
    }

    @Test func intervalsReachingThePriorEdgeAreFlagged() {
        let scan = LikelihoodScan(bounds: [0...1], resolution: [51]) { $0.map { -0.5 * $0[0] * $0[0] / 0.04 } }
        let profile = scan.profile(0)
        #expect(profile.mle < 0.01 && profile.atGridEdge)
        #expect(abs(profile.interval68.upperBound - 0.2) < 0.01)
    }
}

@Suite struct TrainingDeterminismTests {
    @Test func sameSeedSameWeightsDifferentSeedDifferentWeights() throws {
        var options = TrainingOptions()
        options.steps = 30
        options.lrSteps = 20
        options.setsPerBatch = 32
        options.embeddingSize = 3
        options.embedderHidden = [8]
        options.headHidden = [8]
        options.lrHidden = [8]
        let simulator = GaussianSimulator()
        let first = Pretrainer(simulator: simulator, options: options).run()
        let second = Pretrainer(simulator: simulator, options: options).run()
        #expect(first.embedder == second.embedder && first.head == second.head)
        #expect(LRTrainer(simulator: simulator, embedder: first.embedder, options: options).run()
                == LRTrainer(simulator: simulator, embedder: second.embedder, options: options).run())
        options.seed = 2
        #expect(Pretrainer(simulator: simulator, options: options).run().embedder != first.embedder)
    }
}

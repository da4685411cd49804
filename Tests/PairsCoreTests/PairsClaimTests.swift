import Foundation
import Testing
import Numerics
@testable import PairsCore

/// The central claim of PAIRS ("It Just Takes Two"): with a nuisance shared by the whole set (here the Gaussian
/// σ), pretraining on sets of one *and two* events forces the mean embedding to carry what a set of any size
/// needs; pretraining on single events does not. Measured as the posterior NLL of a finetuned head at N = 1000.
@Suite struct PairsClaimTests {
    func finetunedNLL(setSizes: [Int]) throws -> Double {
        let simulator = GaussianSimulator()
        var options = TrainingOptions()
        options.setSizes = setSizes
        options.steps = 2000
        options.lrSteps = 0
        options.setsPerBatch = 128
        options.embeddingSize = 4
        options.embedderHidden = [32, 32]
        options.headHidden = [64, 64]
        options.seed = 11
        let (embedderNet, head, _) = Pretrainer(simulator: simulator, options: options).run()
        let embedder = Embedder(embedderNet)
        func cache(_ spec: CacheSpec) throws -> [CachedSet] {
            try (0..<spec.sets).map { index in
                let (theta, pooled) = try spec.pool(index, simulator: simulator, embedder: embedder)
                return CachedSet(theta: theta, count: pooled.events, sum: pooled.sum)
            }
        }
        let training = try cache(CacheSpec(simulator: "gaussian", sets: 1500, minimumSize: 100, maximumSize: 5000, seed: 12))
        let test = try cache(CacheSpec(simulator: "gaussian", sets: 400, minimumSize: 1000, maximumSize: 1000, seed: 13))
        let tuner = HeadFinetuner(parameters: simulator.parameters, steps: 4000, batch: 128, learningRate: 2e-3, seed: 14)
        return tuner.loss(tuner.run(head: head, on: training), on: test)
    }

    @Test func pretrainingOnPairsBeatsSingleEventsAtN1000() throws {
        let pairs = try finetunedNLL(setSizes: [1, 2]), single = try finetunedNLL(setSizes: [1])
        print("posterior NLL at N = 1000 (standardised θ): pairs \(pairs), single events only \(single)")
        #expect(pairs < single - 0.2, "posterior NLL at N = 1000: pairs \(pairs), single events only \(single)")
    }
}

import Foundation
import Numerics
import PairsCore

/// `pairs train`: PAIRS pretraining (embedder + head on sets of 1 and 2 events), then the LR estimator.
enum TrainCommand: Command {
    static let spec = CommandSpec(
        name: "train",
        summary: "Pretrain embedder + head on sets of one and two events, then the LR estimator; write a bundle.",
        positionals: [],
        options: [
            .value("simulator", "NAME", "Built-in simulator: \(Simulators.names.joined(separator: ", ")) (required)."),
            .value("out", "BUNDLE", "Output model bundle (required)."),
            .value("seed", "S", "Seed of every random draw (default 1); training is deterministic for a seed."),
            .value("embedding-dim", "E", "Embedding dimension (default 8)."),
            .value("hidden", "W,W", "Hidden widths of the embedder (default 64,64)."),
            .value("steps", "N", "Pretraining steps (default 6000)."),
            .value("lr-steps", "N", "LR estimator training steps (default 4000; 0 skips the LR estimator)."),
            .value("set-sizes", "1,2", "Set sizes of pretraining in equal shares (default 1,2; 1 alone is the no-pairs baseline)."),
            .value("batch", "B", "Sets per step (default 256)."),
            .value("learning-rate", "X", "Peak learning rate of the cosine schedule (default 0.002)."),
            .value("lr-weight", "W", "Weight of the per-event LR classification loss added to pretraining (default 0: NPE only)."),
            .value("luminosity", "L", "Luminosity of the yield model recorded for extended simulators (default 1)."),
        ])

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        guard let name: String = try arguments.optional("simulator") else { throw UsageError("--simulator NAME is required") }
        guard let out: String = try arguments.optional("out") else { throw UsageError("--out BUNDLE is required") }
        let simulator = try Simulators.named(name, luminosity: try arguments.value("luminosity", default: 1.0))
        var options = TrainingOptions()
        options.seed = try arguments.value("seed", default: options.seed)
        options.embeddingSize = try arguments.value("embedding-dim", default: options.embeddingSize)
        options.embedderHidden = try arguments.value("hidden", default: options.embedderHidden)
        options.steps = try arguments.value("steps", default: options.steps)
        options.lrSteps = try arguments.value("lr-steps", default: options.lrSteps)
        options.setSizes = try arguments.value("set-sizes", default: options.setSizes)
        options.setsPerBatch = try arguments.value("batch", default: options.setsPerBatch)
        options.learningRate = try arguments.value("learning-rate", default: options.learningRate)
        options.lrWeight = try arguments.value("lr-weight", default: options.lrWeight)
        guard options.embeddingSize > 0, options.steps > 0, options.lrSteps >= 0, options.setsPerBatch > 0,
              !options.setSizes.isEmpty, options.setSizes.allSatisfy({ $0 >= 1 }) else {
            throw UsageError("--embedding-dim, --steps and --batch must be positive, --set-sizes at least 1")
        }
        let console = Console(prefix: "pairs train")
        let started = Date()
        console.log("pretraining on sets of \(options.setSizes.map(String.init).joined(separator: " and ")) events: \(options.steps) steps")
        let (embedder, head, cotrained) = Pretrainer(simulator: simulator, options: options).run { step, loss in
            if step % 500 == 0 { console.log(String(format: "pretraining step %d: Gaussian NLL %.4f", step, loss)) }
        }
        var lr: LREstimator? = nil
        if options.lrSteps > 0 {
            console.log("LR estimator (reference: the prior-marginal p(x)): \(options.lrSteps) steps")
            lr = LRTrainer(simulator: simulator, embedder: embedder, options: options).run(from: cotrained) { step, loss in
                if step % 500 == 0 { console.log(String(format: "LR step %d: BCE %.4f", step, loss)) }
            }
        }
        let provenance = "pairs train --simulator \(name) --seed \(options.seed) --embedding-dim \(options.embeddingSize) --hidden "
            + options.embedderHidden.map(String.init).joined(separator: ",") + " --steps \(options.steps) --lr-steps \(options.lrSteps) --set-sizes "
            + options.setSizes.map(String.init).joined(separator: ",") + " --batch \(options.setsPerBatch) --learning-rate \(options.learningRate) --lr-weight \(options.lrWeight)"
            + " (OpenBLAS \(BLAS.coreName), one thread; \(ISO8601DateFormatter().string(from: started))). Head pretrained on N ≤ \(options.setSizes.max()!)."
        let bundle = try ModelBundle(
            metadata: ModelMetadata(features: simulator.features, parameters: simulator.parameters,
                                    setSizeRange: options.setSizes.min()!...options.setSizes.max()!, yieldModel: simulator.yieldModel,
                                    provenance: provenance),
            embedder: embedder, head: head, lrEstimator: lr)
        try bundle.write(to: out)
        emit(String(format: "wrote %@ (digest %@) in %.0f s", out, bundle.digest, Date().timeIntervalSince(started)))
        return ExitStatus.success
    }
}

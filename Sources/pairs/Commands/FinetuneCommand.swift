import Foundation
import PairsCore

/// `pairs finetune`: the embedder frozen, the head trained on a cache of pooled embeddings of large sets.
enum FinetuneCommand: Command {
    static let spec = CommandSpec(
        name: "finetune",
        summary: "Finetune the head on a cache of pooled embeddings (embedder frozen); records the N range.",
        positionals: [],
        options: [
            .value("model", "BUNDLE", "The pretrained bundle the cache was built with (required)."),
            .value("cache", "FILE", "Embedding cache from pairs cache (required)."),
            .value("out", "BUNDLE", "Output bundle (required)."),
            .value("steps", "N", "Training steps (default 4000)."),
            .value("batch", "B", "Sets per step (default 256)."),
            .value("learning-rate", "X", "Peak learning rate (default 0.001)."),
            .value("lr-steps", "N", "Set-level finetuning steps of the LR estimator (default 5000; 0 keeps it as trained)."),
            .value("lr-learning-rate", "X", "Peak learning rate of the LR finetuning (default 0.0005)."),
            .flag("no-calibration", "Do not fit the set-size calibration τ(N) of the composed ratio."),
            .value("seed", "S", "Seed (default 1)."),
        ])

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        guard let modelPath: String = try arguments.optional("model"), let cachePath: String = try arguments.optional("cache"),
              let out: String = try arguments.optional("out") else { throw UsageError("--model, --cache and --out are required") }
        var model = try ModelBundle.load(modelPath)
        let cache = try EmbeddingCache.load(cachePath)
        guard cache.modelDigest == model.digest else {
            throw UsageError("the cache was built with model \(cache.modelDigest), not \(model.digest): its embeddings would not match")
        }
        guard cache.parameters == model.metadata.parameters.map(\.name) else {
            throw UsageError("the cache's parameters \(cache.parameters) are not the model's")
        }
        let seed: UInt64 = try arguments.value("seed", default: 1)
        let tuner = HeadFinetuner(parameters: model.metadata.parameters, steps: try arguments.value("steps", default: 4000),
                                  batch: try arguments.value("batch", default: 256), learningRate: try arguments.value("learning-rate", default: 1e-3),
                                  seed: seed)
        // Hold out every tenth set to report the loss on sets the head did not see.
        let training = cache.sets.enumerated().filter { $0.offset % 10 != 0 }.map(\.element)
        let heldOut = cache.sets.enumerated().filter { $0.offset % 10 == 0 }.map(\.element)
        let console = Console(prefix: "pairs finetune")
        console.log(String(format: "held-out NLL before: %.4f", tuner.loss(model.head, on: heldOut)))
        let head = tuner.run(head: model.head, on: training) { step, loss in
            if step % 500 == 0 { console.log(String(format: "step %d: Gaussian NLL %.4f", step, loss)) }
        }
        console.log(String(format: "held-out NLL after: %.4f", tuner.loss(head, on: heldOut)))
        model.head = head
        let lrSteps: Int = try arguments.value("lr-steps", default: 5000)
        if let lr = model.lrEstimator, lrSteps > 0 {
            let lrTuner = LRFinetuner(parameters: model.metadata.parameters, steps: lrSteps,
                                      learningRate: try arguments.value("lr-learning-rate", default: 5e-4), seed: seed)
            model.lrEstimator = lrTuner.run(lr, head: head, on: training) { step, loss in
                if step % 500 == 0 { console.log(String(format: "LR step %d: set-level InfoNCE %.4f", step, loss)) }
            }
            model.metadata.provenance += " LR estimator finetuned at set level on the cache (\(lrSteps) steps, 32 contrasts per set)."
        }
        if var lr = model.lrEstimator, !arguments.flag("no-calibration") {
            lr.calibration = LRCalibrator(parameters: model.metadata.parameters).fit(lr, head: head, on: heldOut)
            model.lrEstimator = lr
            console.log(String(format: "LR calibration τ(N) = exp(%.3f + %.3f log N): τ(100) = %.2f, τ(10⁴) = %.2f, τ(10⁵) = %.2f",
                               lr.calibration.alpha, lr.calibration.beta, lr.temperature(100), lr.temperature(10_000), lr.temperature(100_000)))
            model.metadata.provenance += String(format: " Composed ratio calibrated on the held-out cache sets: τ(N) = exp(%.4f + %.4f log N).",
                                                lr.calibration.alpha, lr.calibration.beta)
        }
        model.metadata.setSizeRange = cache.sets.map(\.count).min()!...cache.sets.map(\.count).max()!
        model.metadata.provenance += " Finetuned: pairs finetune --steps \(tuner.steps) --batch \(tuner.batch) --learning-rate \(tuner.learningRate) --seed \(seed) on a cache of \(cache.sets.count) sets (N \(cache.spec.minimumSize)…\(cache.spec.maximumSize), cache seed \(cache.spec.seed))."
        try model.write(to: out)
        emit("wrote \(out) (digest \(model.digest)); head finetuned on N in \(model.metadata.setSizeRange.lowerBound)…\(model.metadata.setSizeRange.upperBound)")
        return ExitStatus.success
    }
}

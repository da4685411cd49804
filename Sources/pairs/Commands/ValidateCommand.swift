import Foundation
import PairsCore
import Report

/// `pairs validate`: how close a bundle's head posterior and LR scan come to exact inference.
enum ValidateCommand: Command {
    static let spec = CommandSpec(
        name: "validate",
        summary: "Compare a model's posterior and LR intervals with exact inference on fresh simulated data sets.",
        positionals: [],
        options: [
            .value("model", "BUNDLE", "The bundle to validate (required)."),
            .value("simulator", "NAME", "The simulator it models (required)."),
            .value("n", "N,N,…", "Set sizes (default 100,1000,10000,100000)."),
            .value("datasets", "D", "Data sets per set size (default 200)."),
            .value("seed", "S", "Seed (default 1)."),
            .value("threads", "T", "Threads (default: number of cores)."),
            .value("out", "DIR", "Writes validation.json and validation.html there (default: current directory)."),
        ])

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        guard let modelPath: String = try arguments.optional("model"), let name: String = try arguments.optional("simulator") else {
            throw UsageError("--model and --simulator are required")
        }
        let sizes: [Int] = try arguments.value("n", default: [100, 1000, 10_000, 100_000])
        let datasets: Int = try arguments.value("datasets", default: 200)
        let threads: Int = try arguments.value("threads", default: ProcessInfo.processInfo.activeProcessorCount)
        guard !sizes.isEmpty, sizes.allSatisfy({ $0 >= 1 }), datasets >= 1, threads >= 1 else { throw UsageError("need N ≥ 1, D ≥ 1, T ≥ 1") }
        let out: String = try arguments.value("out", default: ".")
        let model = try ModelBundle.load(modelPath)
        let console = Console(prefix: "pairs validate")
        let started = Date()
        let result = try Validator(model: model, simulator: name, seed: try arguments.value("seed", default: 1), threads: threads)
            .run(sizes: sizes, datasets: datasets) { size, d in
                console.log(String(format: "N = %d: %d data sets done (%.0f s)", size, d, Date().timeIntervalSince(started)))
            }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try ValidationReport.json(result).rendered().write(toFile: out + "/validation.json", atomically: true, encoding: .utf8)
        try ValidationReport.html(result).write(toFile: out + "/validation.html", atomically: true, encoding: .utf8)
        emit(ValidationReport.markdown(result))
        emit("wrote \(out)/validation.json and \(out)/validation.html")
        return ExitStatus.success
    }
}

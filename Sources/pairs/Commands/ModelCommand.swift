import Foundation
import Numerics
import PairsCore

/// `pairs model <bundle.h5>`: what a model bundle holds — architecture, features, parameters, digest.
enum ModelCommand: Command {
    static let spec = CommandSpec(
        name: "model",
        summary: "Describe a model bundle: networks, features, parameters with roles and priors, digest, sizes.",
        positionals: [("BUNDLE", "A model bundle (.h5) as described in schemas/model-bundle.md.")],
        options: [.flag("json", "Print JSON instead of text.")])

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let path = arguments.positionals[0]
        let bundle = try ModelBundle.load(path)
        let summary = ModelSummary(path: path, bundle: bundle)
        if arguments.flag("json") {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            emit(String(decoding: try encoder.encode(summary), as: UTF8.self))
        } else {
            emit(summary.text)
        }
        return ExitStatus.success
    }
}

/// The description `pairs model` prints.
struct ModelSummary: Encodable {
    struct ParameterInfo: Encodable {
        let name: String, role: String, low: Double, high: Double
    }
    struct Layer: Encodable {
        let inputs: Int, outputs: Int, activation: String
    }
    struct Network: Encodable {
        let layers: [Layer]
        let parameters: Int
        init(_ mlp: MLP<Float>) {
            layers = mlp.layers.map { Layer(inputs: $0.inputSize, outputs: $0.outputSize, activation: $0.activation.description) }
            parameters = mlp.parameterCount
        }
        var text: String {
            ([String(layers[0].inputs)] + layers.map { "\($0.outputs) \($0.activation)" }).joined(separator: " → ") + "  (\(parameters) parameters)"
        }
    }
    struct Yield: Encodable {
        let intercept: Double, coefficients: [Double]
    }

    let path: String
    let formatVersion: Int
    let digest: String
    let features: [String]
    let parameters: [ParameterInfo]
    let setSizeRange: [Int]
    let yieldModel: Yield?
    let embedder: Network
    let head: Network
    let lrEstimator: [String: Network]?
    let parameterCount: Int
    let provenance: String

    enum CodingKeys: String, CodingKey {
        case path, formatVersion = "format_version", digest, features, parameters, setSizeRange = "set_size_range"
        case yieldModel = "yield_model", embedder, head, lrEstimator = "lr_estimator", parameterCount = "parameter_count", provenance
    }

    init(path: String, bundle: ModelBundle) {
        let m = bundle.metadata
        self.path = path
        formatVersion = ModelBundle.formatVersion
        digest = bundle.digest
        features = m.features
        parameters = m.parameters.map { ParameterInfo(name: $0.name, role: $0.role.rawValue, low: $0.bounds.lowerBound, high: $0.bounds.upperBound) }
        setSizeRange = [m.setSizeRange.lowerBound, m.setSizeRange.upperBound]
        yieldModel = m.yieldModel.map { Yield(intercept: $0.intercept, coefficients: $0.coefficients) }
        embedder = Network(bundle.embedder)
        head = Network(bundle.head)
        lrEstimator = bundle.lrEstimator.map { ["a": Network($0.a), "b": Network($0.b)] }
        parameterCount = [bundle.embedder, bundle.head].reduce(0) { $0 + $1.parameterCount }
            + (bundle.lrEstimator.map { $0.a.parameterCount + $0.b.parameterCount } ?? 0)
        provenance = m.provenance
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(path, forKey: .path)
        try c.encode(formatVersion, forKey: .formatVersion)
        try c.encode(digest, forKey: .digest)
        try c.encode(features, forKey: .features)
        try c.encode(parameters, forKey: .parameters)
        try c.encode(setSizeRange, forKey: .setSizeRange)
        try c.encode(yieldModel, forKey: .yieldModel)  // null when absent
        try c.encode(embedder, forKey: .embedder)
        try c.encode(head, forKey: .head)
        try c.encode(lrEstimator, forKey: .lrEstimator)
        try c.encode(parameterCount, forKey: .parameterCount)
        try c.encode(provenance, forKey: .provenance)
    }

    var text: String {
        func number(_ x: Double) -> String { x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x) }
        let yieldText = yieldModel.map { y in
            "ν(θ) = \(number(y.intercept))" + zip(y.coefficients, parameters).map { " + \(number($0))·\($1.name)" }.joined()
        } ?? "none (no extended likelihood)"
        var rows: [(String, String)] = [
            ("model bundle", path),
            ("format", "\(ModelBundle.formatName) v\(formatVersion)"),
            ("digest", digest),
            ("features", features.joined(separator: ", ")),
            ("parameters", parameters.map { "\($0.name) (\($0.role)) in [\(number($0.low)), \(number($0.high))]" }.joined(separator: "; ")),
            ("set sizes", "finetuned on N in \(setSizeRange[0])…\(setSizeRange[1])"),
            ("yield model", yieldText),
            ("embedder", embedder.text),
            ("head", head.text),
        ]
        if let lr = lrEstimator {
            rows.append(("lr estimator", "log r(x, θ) = a(θ)·t(x) + b(θ)"))
            rows.append(("  a", lr["a"]!.text))
            rows.append(("  b", lr["b"]!.text))
        } else {
            rows.append(("lr estimator", "none"))
        }
        rows.append(("size", "\(parameterCount) trainable weights and biases in all"))
        rows.append(("provenance", provenance))
        return rows.map { $0.0.padding(toLength: 14, withPad: " ", startingAt: 0) + $0.1 }.joined(separator: "\n")
    }
}

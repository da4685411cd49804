import Foundation
import HDF5
import Numerics
import Digest

/// What a model bundle says about the data it applies to (the root attributes of the bundle file).
public struct ModelMetadata: Sendable, Equatable {
    /// Event features in the order the embedder takes them.
    public var features: [String]
    /// The parameters θ, in the order of the head's outputs, with roles and prior boxes.
    public var parameters: [Parameter]
    /// The set sizes N the head was finetuned on; outside it the posterior is an extrapolation.
    public var setSizeRange: ClosedRange<Int>
    /// ν(θ) for the extended likelihood, if the model has one.
    public var yieldModel: YieldModel?
    /// Free text: how and from what the model was made. Not part of the digest.
    public var provenance: String

    public init(features: [String], parameters: [Parameter], setSizeRange: ClosedRange<Int>,
                yieldModel: YieldModel? = nil, provenance: String) {
        self.features = features
        self.parameters = parameters
        self.setSizeRange = setSizeRange
        self.yieldModel = yieldModel
        self.provenance = provenance
    }
}

/// The exponential-family per-event likelihood-ratio estimator log r(x, θ) = a(u)·t(x) + b(u) on the frozen
/// embedding t, with u the standardised θ; it composes over a set from the pooled sum Σ t alone.
public struct LREstimator: Sendable, Equatable {
    /// u (P values) → E values.
    public var a: MLP<Float>
    /// u (P values) → 1 value.
    public var b: MLP<Float>
    /// Set-size calibration (α, β): the composed ratio is multiplied by τ(N) = exp(α + β log N), fitted on the
    /// cache so that its intervals are calibrated; (0, 0) leaves it as trained.
    public var calibration: (alpha: Double, beta: Double)

    public init(a: MLP<Float>, b: MLP<Float>, calibration: (alpha: Double, beta: Double) = (0, 0)) {
        self.a = a
        self.b = b
        self.calibration = calibration
    }

    /// τ(N) = exp(α + β log N).
    public func temperature(_ n: Int) -> Double { exp(calibration.alpha + calibration.beta * log(Double(max(n, 1)))) }

    public var isCalibrated: Bool { calibration != (0, 0) }

    public static func == (x: LREstimator, y: LREstimator) -> Bool { x.a == y.a && x.b == y.b && x.calibration == y.calibration }
}

/// A trained PAIRS model: the frozen per-event embedder, the finetuned head and optionally the LR estimator,
/// with the metadata needed to apply them. Stored as one HDF5 file (schemas/model-bundle.md).
public struct ModelBundle: Sendable, Equatable {
    public static let formatName = "pairs-model-bundle"
    public static let formatVersion = 1
    /// How the head's outputs parameterise the posterior (see `Loss.gaussianNegativeLogLikelihood`).
    public static let headOutput = "gaussian_precision_cholesky"
    /// The LR estimator form this version reads.
    public static let lrForm = "exponential_family"

    public var metadata: ModelMetadata
    /// x (features) → t (E values).
    public var embedder: MLP<Float>
    /// [mean t (E values), log N] → Gaussian over standardised θ.
    public var head: MLP<Float>
    public var lrEstimator: LREstimator?

    /// Checks that the parts fit together and with the metadata.
    public init(metadata: ModelMetadata, embedder: MLP<Float>, head: MLP<Float>, lrEstimator: LREstimator? = nil) throws(ShapeError) {
        let e = embedder.outputSize, p = metadata.parameters.count
        func require(_ ok: Bool, _ why: @autoclosure () -> String) throws(ShapeError) { if !ok { throw ShapeError(why()) } }
        try require(!metadata.features.isEmpty && Set(metadata.features).count == metadata.features.count, "features must be a non-empty list of distinct names")
        try require(embedder.inputSize == metadata.features.count, "embedder takes \(embedder.inputSize) inputs for \(metadata.features.count) features")
        try require(p > 0 && Set(metadata.parameters.map(\.name)).count == p, "parameters must be a non-empty list of distinct names")
        try require(metadata.parameters.allSatisfy { $0.bounds.lowerBound < $0.bounds.upperBound && $0.bounds.lowerBound.isFinite && $0.bounds.upperBound.isFinite },
                    "every prior box needs finite bounds with low < high")
        try require(metadata.setSizeRange.lowerBound >= 1, "the set-size range starts at 1 or more")
        try require(head.inputSize == e + 1, "head takes \(head.inputSize) inputs, expected embedding size \(e) + 1 (log N)")
        try require(head.outputSize == Loss.gaussianOutputSize(parameters: p),
                    "head gives \(head.outputSize) outputs, a Gaussian over \(p) parameters needs \(Loss.gaussianOutputSize(parameters: p))")
        if let yield = metadata.yieldModel {
            try require(yield.coefficients.count == p, "yield model has \(yield.coefficients.count) coefficients for \(p) parameters")
        }
        if let lr = lrEstimator {
            try require(lr.a.inputSize == p && lr.a.outputSize == e, "lr_estimator/a maps \(lr.a.inputSize) → \(lr.a.outputSize), expected \(p) → \(e)")
            try require(lr.b.inputSize == p && lr.b.outputSize == 1, "lr_estimator/b maps \(lr.b.inputSize) → \(lr.b.outputSize), expected \(p) → 1")
        }
        self.metadata = metadata
        self.embedder = embedder
        self.head = head
        self.lrEstimator = lrEstimator
    }

    /// Embedding dimension E.
    public var embeddingSize: Int { embedder.outputSize }

    /// The networks with their dotted key prefixes, in canonical order.
    var networks: [(prefix: String, mlp: MLP<Float>)] {
        var list = [("embedder", embedder), ("head", head)]
        if let lr = lrEstimator { list += [("lr_estimator.a", lr.a), ("lr_estimator.b", lr.b)] }
        return list
    }

    /// `sha256:` + hex of the canonical serialisation of metadata and weights (schemas/model-bundle.md,
    /// *Digest*): identical for identical models however the file was written; provenance is excluded.
    public var digest: String {
        var hasher = SHA256()
        func line(_ text: String) { hasher.update(Array((text + "\n").utf8)) }
        func hex(_ values: [Double]) -> String { values.map { String($0.bitPattern, radix: 16) }.joined(separator: ",") }
        line("\(Self.formatName)/\(Self.formatVersion)")
        line("features=" + metadata.features.joined(separator: "\u{1F}"))
        line("parameters=" + metadata.parameters.map(\.name).joined(separator: "\u{1F}"))
        line("roles=" + metadata.parameters.map(\.role.rawValue).joined(separator: ","))
        line("bounds=" + hex(metadata.parameters.flatMap { [$0.bounds.lowerBound, $0.bounds.upperBound] }))
        line("set_size_range=\(metadata.setSizeRange.lowerBound),\(metadata.setSizeRange.upperBound)")
        line("yield=" + (metadata.yieldModel.map { hex([$0.intercept] + $0.coefficients) } ?? "none"))
        line("head_output=\(Self.headOutput)")
        line("lr_estimator=" + (lrEstimator == nil ? "none" : Self.lrForm))
        if let lr = lrEstimator, lr.isCalibrated { line("lr_calibration=" + hex([lr.calibration.alpha, lr.calibration.beta])) }
        func tensor(_ key: String, _ dims: [Int], _ values: [Float]) {
            line(key + " " + dims.map(String.init).joined(separator: "x"))
            values.withUnsafeBufferPointer { buffer in
                // Float32 little-endian, the in-memory order on every platform pairs runs on.
                hasher.update(UnsafeRawBufferPointer(buffer))
            }
        }
        for (prefix, mlp) in networks {
            tensor(prefix + ".input_mean", [mlp.inputSize], mlp.inputMean)
            tensor(prefix + ".input_std", [mlp.inputSize], mlp.inputStd)
            for (i, layer) in mlp.layers.enumerated() {
                line("\(prefix).layers.\(i).activation=\(layer.activation.name)" + (layer.activation.parameter.map { ":" + hex([$0]) } ?? ""))
                tensor("\(prefix).layers.\(i).weight", [layer.outputSize, layer.inputSize], layer.weight.values)
                tensor("\(prefix).layers.\(i).bias", [layer.outputSize], layer.bias)
            }
        }
        return "sha256:" + hasher.hexDigest()
    }
}

/// A model bundle that cannot be read or written, naming the file, the offending dataset or attribute,
/// and the reason.
public struct ModelBundleError: Error, CustomStringConvertible, Sendable {
    public let path: String
    /// The dataset, group or attribute (`/path@name`) at fault, when there is one.
    public let item: String?
    public let reason: String

    public var description: String {
        "model bundle '\(path)'" + (item.map { ", '\($0)'" } ?? "") + ": \(reason)"
    }
}

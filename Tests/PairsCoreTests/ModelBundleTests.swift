import Foundation
import Testing
import HDF5
import Numerics
@testable import PairsCore

let modelFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/models").path

/// A small complete bundle built in Swift.
func sampleBundle(seed: UInt64 = 1, provenance: String = "test") throws -> ModelBundle {
    var rng = SeededGenerator(seed: seed)
    let metadata = ModelMetadata(features: ["x", "y"],
                                 parameters: [Parameter(name: "mu", role: .poi, bounds: -3...3),
                                              Parameter(name: "nu", role: .nuisance, bounds: 0.8...1.2)],
                                 setSizeRange: 1...1000, yieldModel: YieldModel(intercept: 1, coefficients: [50, 1000]),
                                 provenance: provenance)
    var embedder = MLP<Float>(sizes: [2, 8, 4], hidden: .leakyReLU(slope: 0.1), using: &rng)
    embedder.inputMean = [0.5, -1]
    embedder.inputStd = [2, 3]
    return try ModelBundle(metadata: metadata, embedder: embedder,
                           head: MLP(sizes: [5, 8, 5], hidden: .gelu, using: &rng),
                           lrEstimator: LREstimator(a: MLP(sizes: [2, 6, 4], hidden: .tanh, using: &rng),
                                                    b: MLP(sizes: [2, 6, 1], hidden: .elu(alpha: 1), using: &rng)))
}

@Suite struct ModelBundleParity {
    struct Case: Decodable {
        let inputs: [Float]
        let outputs: [Double]
        let input_size: Int
    }

    /// The fixture was written by tools/export_torch.py from numpy weights; numpy's Float64 outputs on the
    /// stored Float32 weights are the reference. Float32 evaluation must agree to 1e-5 of each network's
    /// output scale (largest |output|), and to 1e-5 relative for every output above 1 % of that scale.
    @Test func swiftForwardMatchesNumpyForEveryNetwork() throws {
        let bundle = try ModelBundle.load(modelFixtures + "/parity.h5")
        let data = try Data(contentsOf: URL(fileURLWithPath: modelFixtures + "/parity.json"))
        let cases = try JSONDecoder().decode([String: Case].self, from: data)
        let networks: [String: MLP<Float>] = ["embedder": bundle.embedder, "head": bundle.head,
                                              "lr_estimator.a": bundle.lrEstimator!.a, "lr_estimator.b": bundle.lrEstimator!.b]
        #expect(Set(cases.keys) == Set(networks.keys))
        for (name, c) in cases {
            let mlp = try #require(networks[name])
            let rows = c.inputs.count / c.input_size
            var workspace = MLPWorkspace(for: mlp, capacity: rows)
            mlp.forward(Matrix(rows: rows, columns: c.input_size, values: c.inputs), workspace: &workspace)
            let got = workspace.output.values.map(Double.init)
            let scale = c.outputs.map(abs).max()!
            let worst = zip(got, c.outputs).map { abs($0 - $1) }.max()! / scale
            let worstLarge = zip(got, c.outputs).filter { abs($0.1) > 0.01 * scale }.map { abs($0 - $1) / abs($1) }.max()!
            #expect(worst < 1e-5 && worstLarge < 1e-5, "\(name): \(worst) of scale, \(worstLarge) relative")
        }
        #expect(bundle.metadata.features == ["pt", "eta", "phi"])
        #expect(bundle.metadata.yieldModel == YieldModel(intercept: 100, coefficients: [10, -5]))
        #expect(bundle.lrEstimator!.a.layers[0].activation == .elu(alpha: 1.5))
    }
}

@Suite struct ModelBundleFormat {
    @Test func roundTripKeepsEverythingAndTheDigest() throws {
        let bundle = try sampleBundle()
        let path = temporaryDirectory() + "/m.h5"
        try bundle.write(to: path)
        let loaded = try ModelBundle.load(path)
        #expect(loaded == bundle)
        #expect(loaded.digest == bundle.digest)
        #expect(bundle.digest.hasPrefix("sha256:") && bundle.digest.count == 71)
    }

    @Test func digestIgnoresProvenanceButNotWeights() throws {
        let a = try sampleBundle(provenance: "first export"), b = try sampleBundle(provenance: "re-exported")
        #expect(a.digest == b.digest)
        var c = a
        c.head.layers[0].bias[0] += 1e-6
        #expect(c.digest != a.digest)
        var d = a
        d.metadata.parameters[0] = Parameter(name: "mu", role: .poi, bounds: -3...3.0000001)
        #expect(d.digest != a.digest)
    }

    @Test func mismatchedPartsAreRejected() throws {
        let good = try sampleBundle()
        var rng = SeededGenerator(seed: 2)
        #expect(throws: ShapeError.self) {
            try ModelBundle(metadata: good.metadata, embedder: good.embedder, head: MLP(sizes: [4, 5], hidden: .relu, using: &rng))
        }
        var metadata = good.metadata
        metadata.features = ["x"]
        #expect(throws: ShapeError.self) { try ModelBundle(metadata: metadata, embedder: good.embedder, head: good.head) }
    }

    /// Writes the sample bundle, lets `edit` damage it, and returns the load error.
    func loadError(_ edit: (Group) throws -> Void) throws -> ModelBundleError {
        let path = temporaryDirectory() + "/m.h5"
        try sampleBundle().write(to: path)
        do {
            let root = try File.open(path, mode: .readWrite).root()
            try edit(root)
        }
        return try #require(throws: ModelBundleError.self) { try ModelBundle.load(path) }
    }

    @Test func errorsNameTheOffendingItem() throws {
        var error = try loadError { try $0.unlink("head/layers/1/bias") }
        #expect(error.item == "/head/layers/1/bias" && error.reason == "missing dataset")

        error = try loadError { root in
            try root.unlink("embedder/layers/1/weight")
            _ = try root.openGroup("embedder/layers/1").createDataset("weight", type: .standard(.float32), dimensions: [4, 5])
        }
        #expect(error.item == "/embedder/layers/1/weight" && error.reason == "has shape 4×5, expected *×8")

        error = try loadError { _ = try $0.createDataset("extra", type: .standard(.float32), dimensions: [1]) }
        #expect(error.item == "/extra" && error.reason == "unknown dataset")

        error = try loadError { try $0.openGroup("head/layers/0").writeAttribute("dropout", .doubles([0.1])) }
        #expect(error.item == "/head/layers/0@dropout" && error.reason == "unknown attribute")

        error = try loadError { try $0.openGroup("head/layers/0").writeAttribute("activation", .strings(["swish"])) }
        #expect(error.item == "/head/layers/0@activation" && error.reason.contains("unknown activation 'swish'"))

        error = try loadError { try $0.writeAttribute("format_version", .integers([2])) }
        #expect(error.reason.contains("newer than this pairs reads"))

        error = try loadError { try $0.writeAttribute("parameter_roles", .strings(["poi", "bystander"])) }
        #expect(error.reason.contains("'bystander' is not poi or nuisance"))

        error = try loadError { root in
            try root.openDataset("embedder/layers/1/bias").write([Float](repeating: .nan, count: 4))
        }
        #expect(error.item == "/embedder/layers/1/bias" && error.reason.contains("NaN"))

        error = try loadError { try $0.unlink("lr_estimator/b") }
        #expect(error.item == "/lr_estimator/b" && error.reason == "missing group")
    }

    @Test func aShardIsNotABundle() throws {
        let path = temporaryDirectory() + "/s.h5"
        try writeShard(path, layout: .matrix, columns: [.init("x")], events: 10)
        let error = try #require(throws: ModelBundleError.self) { try ModelBundle.load(path) }
        #expect(error.item == "/@format" && error.reason == "missing attribute")
    }
}

@Suite struct EmbedderTests {
    /// The exact-sum contract needs every event's embedding to be the same bits however a shard is cut into
    /// read batches and work items: here several batch sizes and item boundaries against one reference.
    @Test func embeddingsDoNotDependOnBatchesOrItemBoundaries() throws {
        let bundle = try ModelBundle.load(modelFixtures + "/parity.h5")
        let path = temporaryDirectory() + "/s.h5"
        try writeShard(path, layout: .matrix, columns: ["pt", "eta", "phi"].map { .init($0) }, events: 3_000)
        let shard = ShardFile(path: path, relativePath: "s.h5")
        func embed(batchSize: Int, items: [Int]) throws -> [UInt32] {
            let reader = try ShardReader(shard, options: ShardReadOptions(features: bundle.metadata.features, batchSize: batchSize))
            let embedder = Embedder(bundle.embedder)
            var all: [UInt32] = []
            for (start, end) in zip([0] + items, items + [3_000]) {
                try reader.forEachBatch(rows: start..<end) { batch in
                    embedder.embed(batch) { _, e in all += e.map(\.bitPattern) }
                }
            }
            return all
        }
        let reference = try embed(batchSize: 65_536, items: [])
        #expect(reference.count == 3_000 * 4)
        for (batchSize, items) in [(1, [1, 2, 5, 40]), (7, [17, 18, 300]), (256, [3, 700]), (1000, [99, 1024, 1025, 2999])] {
            let got = try embed(batchSize: batchSize, items: items)
            let differing = (0..<3_000).filter { row in got[row * 4..<row * 4 + 4] != reference[row * 4..<row * 4 + 4] }
            #expect(differing.isEmpty, "batch \(batchSize), items \(items): \(differing.count) rows differ, first \(differing.prefix(5))")
        }
    }
}

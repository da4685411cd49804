import Foundation
import Testing
import HDF5
@testable import PairsCore

struct LayoutCase: CustomTestStringConvertible, Sendable {
    let layout: ShardLayout
    let kinds: [ScalarKind]
    let storage: ShardWriter.Storage
    var testDescription: String { "\(layout) \(kinds.map(\.rawValue)) \(storage.chunkRows == nil ? "contiguous" : "chunked+gzip")" }
}

let layoutCases: [LayoutCase] = ShardLayout.allCases.flatMap { layout in
    let typeSets: [[ScalarKind]] = layout == .matrix
        ? [[.float32, .float32, .float32], [.float64, .float64, .float64], [.int32, .int32, .int32]]
        : [[.float32, .float64, .int32]]
    return typeSets.flatMap { kinds in
        [ShardWriter.Storage(chunkRows: 700, gzipLevel: 4, shuffle: true), .contiguous].map { LayoutCase(layout: layout, kinds: kinds, storage: $0) }
    }
}

@Suite struct ShardReaderRoundTrip {
    @Test(arguments: layoutCases)
    func batchesConcatenateToWhatWasWritten(_ c: LayoutCase) throws {
        let path = temporaryDirectory() + "/shard.h5"
        let columns = zip(["a", "b", "c"], c.kinds).map { ShardWriter.Column($0, $1) }
        let written = try writeShard(path, layout: c.layout, columns: columns, events: 10_007, storage: c.storage)
        let (reader, values, batches) = try readAll(path, options: ShardReadOptions(batchSize: 1_024))
        #expect(reader.layout == c.layout)
        #expect(reader.events == 10_007)
        #expect(reader.features == ["a", "b", "c"])
        #expect(reader.availableFeatures.map(\.dtype) == c.kinds.map(\.rawValue))
        #expect(batches == 10)
        #expect(values == written.map { Float($0) })
        #expect(reader.chunking == (c.storage.chunkRows == nil ? nil : c.layout == .matrix ? [700, 3] : [700]))
        #expect(reader.compression == (c.storage.chunkRows == nil ? [] : ["shuffle", "gzip(4)"]))
    }

    @Test(arguments: ShardLayout.allCases)
    func selectedFeaturesComeInRequestedOrder(_ layout: ShardLayout) throws {
        let path = temporaryDirectory() + "/shard.h5"
        let columns = ["w", "x", "y", "z"].map { ShardWriter.Column($0, .float64) }
        let written = try writeShard(path, layout: layout, columns: columns, events: 2_500)
        let (_, values, _) = try readAll(path, options: ShardReadOptions(features: ["z", "x"], batchSize: 999))
        var expected: [Float] = []
        for row in 0..<2_500 { expected += [Float(written[row * 4 + 3]), Float(written[row * 4 + 1])] }
        #expect(values == expected)
    }

    @Test func rowRangesReadOnlyTheirRows() throws {
        let path = temporaryDirectory() + "/shard.h5"
        let columns = [ShardWriter.Column("x", .float32)]
        let written = try writeShard(path, layout: .matrix, columns: columns, events: 5_000)
        let reader = try ShardReader(ShardFile(path: path, relativePath: "shard.h5"), options: ShardReadOptions(batchSize: 300))
        var got: [Float] = []
        try reader.forEachBatch(rows: 1_234..<2_000) { got += $0.values.values }
        #expect(got == written[1_234..<2_000].map { Float($0) })
    }

    @Test func float64BeyondFloat32RangeBecomesNonFiniteNotClamped() throws {
        let path = temporaryDirectory() + "/big.h5"
        let writer = try ShardWriter(path: path, layout: .matrix, columns: [.init("x", .float64)], events: 3)
        try writer.write(rows: 0..<3, values: [1, 1e39, -1e39])
        try writer.finish()
        let error = shardError { _ = try readAll(path, options: ShardReadOptions()) }
        #expect(error?.reason == .nonFinite(counts: ["x": 2], rows: 0..<3))
    }
}

@Suite struct NonFiniteValues {
    func shardWithNaNs() throws -> String {
        let path = temporaryDirectory() + "/nan.h5"
        let writer = try ShardWriter(path: path, layout: .columns, columns: [.init("x", .float64), .init("y", .float32)], events: 6)
        try writer.write(rows: 0..<6, values: [1, 2, .nan, 3, 4, .infinity, 5, 6, -.infinity, .nan, 7, 8])
        try writer.finish()
        return path
    }

    @Test func failPolicyNamesShardDatasetAndCounts() throws {
        let path = try shardWithNaNs()
        let error = try #require(shardError { _ = try readAll(path, options: ShardReadOptions(batchSize: 4)) })
        #expect(error.shard == "nan.h5")
        #expect(error.dataset == "/events")
        #expect(error.reason == .nonFinite(counts: ["x": 1, "y": 1], rows: 0..<4))
        #expect(error.description.contains("--non-finite skip"))
    }

    @Test func skipPolicyMasksAndCountsEvents() throws {
        let reader = try ShardReader(ShardFile(path: try shardWithNaNs(), relativePath: "nan.h5"),
                                     options: ShardReadOptions(batchSize: 4, nonFinite: .skip))
        var values: [Float] = [], skipped: [Int] = [], count = 0
        try reader.forEachBatch { batch in
            values += batch.values.values
            skipped += batch.skipped.map { batch.rows.lowerBound + $0 }
            count += batch.count
        }
        // Rows stay in place (a row's position is its shard row); skipped rows are zeroed.
        #expect(values == [1, 2, 0, 0, 0, 0, 5, 6, 0, 0, 7, 8])
        #expect(skipped == [1, 2, 4])
        #expect(count == 3)
        #expect(reader.skippedEvents == 3)
        #expect(reader.nonFiniteCounts == [2, 2])
    }
}

@Suite struct BadShards {
    @Test func missingFeatureListsWhatIsAvailable() throws {
        let path = temporaryDirectory() + "/s.h5"
        try writeShard(path, layout: .compound, columns: [.init("pt"), .init("eta")], events: 10)
        let error = try #require(shardError { _ = try ShardReader(ShardFile(path: path, relativePath: "s.h5"), options: ShardReadOptions(features: ["pt", "mass"])) })
        #expect(error.reason == .missingFeatures(missing: ["mass"], available: ["pt", "eta"]))
        #expect(error.description == "shard 's.h5': missing feature mass (available: pt, eta)")
    }

    @Test func unknownLayoutSaysWhatWasFound() throws {
        let path = temporaryDirectory() + "/s.h5"
        do {
            let file = try File.create(path)
            _ = try file.root().createDataset("images", type: .standard(.float32), dimensions: [4, 3, 2])
        }
        let error = try #require(shardError { _ = try ShardReader(ShardFile(path: path, relativePath: "s.h5")) })
        guard case .unknownLayout(let why) = error.reason else { Issue.record("got \(error)"); return }
        #expect(why.contains("/images (3-D float32)"))
    }

    @Test func matrixWithoutFeaturesAttributeIsExplained() throws {
        let path = temporaryDirectory() + "/s.h5"
        do {
            let file = try File.create(path)
            _ = try file.root().createDataset("events", type: .standard(.float32), dimensions: [4, 3])
        }
        let error = try #require(shardError { _ = try ShardReader(ShardFile(path: path, relativePath: "s.h5"), options: ShardReadOptions(dataset: "events")) })
        guard case .unknownLayout(let why) = error.reason else { Issue.record("got \(error)"); return }
        #expect(why.contains("no 'features' attribute"))
    }

    @Test func raggedColumnGroupGivesEachLength() throws {
        let path = temporaryDirectory() + "/s.h5"
        do {
            let group = try File.create(path).root().createGroup("events")
            try group.createDataset("x", type: .standard(.float32), dimensions: [10]).write([Float](repeating: 1, count: 10))
            try group.createDataset("y", type: .standard(.float32), dimensions: [9]).write([Float](repeating: 1, count: 9))
        }
        let error = try #require(shardError { _ = try ShardReader(ShardFile(path: path, relativePath: "s.h5")) })
        #expect(error.reason == .raggedColumns(lengths: ["x": 10, "y": 9]))
        #expect(error.dataset == "/events")
    }

    @Test(arguments: ShardLayout.allCases)
    func zeroRowShardIsAnError(_ layout: ShardLayout) throws {
        let path = temporaryDirectory() + "/empty.h5"
        try writeShard(path, layout: layout, columns: [.init("x")], events: 0)
        let error = try #require(shardError { _ = try ShardReader(ShardFile(path: path, relativePath: "empty.h5")) })
        #expect(error.reason == .noEvents)
    }

    @Test func truncatedShardIsUnreadableWithTheHDF5Reason() throws {
        let directory = temporaryDirectory()
        try writeShard(directory + "/whole.h5", layout: .matrix, columns: [.init("x"), .init("y")], events: 50_000)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: directory + "/whole.h5"))
        try bytes.prefix(bytes.count / 3).write(to: URL(fileURLWithPath: directory + "/cut.h5"))
        let error = try #require(shardError { _ = try readAll(directory + "/cut.h5", options: ShardReadOptions()) })
        guard case .unreadable(let why) = error.reason else { Issue.record("got \(error)"); return }
        #expect(why.contains("truncated file"))
    }

    @Test func ambiguousFileAsksForDataset() throws {
        let path = temporaryDirectory() + "/s.h5"
        do {
            let root = try File.create(path).root()
            for name in ["a", "b"] {
                let d = try root.createDataset(name, type: .standard(.float32), dimensions: [3, 1])
                try d.writeAttribute("features", .strings(["x"]))
            }
        }
        let error = try #require(shardError { _ = try ShardReader(ShardFile(path: path, relativePath: "s.h5")) })
        #expect(error.reason == .ambiguous(candidates: ["/a (matrix)", "/b (matrix)"]))
        // Naming the dataset resolves it.
        #expect(try ShardReader(ShardFile(path: path, relativePath: "s.h5"), options: ShardReadOptions(dataset: "/b")).datasetPath == "/b")
    }

    @Test func nonNumericFieldCannotBeSelected() throws {
        let path = fixtures + "/dumper_jets.h5"
        let error = try #require(shardError { _ = try ShardReader(ShardFile(path: path, relativePath: "dumper_jets.h5"), options: ShardReadOptions(features: ["pt", "is_central"])) })
        #expect(error.reason == .unsupportedType(feature: "is_central", dtype: "enum"))
    }

    @Test func lzfShardNamesTheFilterAndThePluginPath() throws {
        let error = try #require(shardError { _ = try ShardReader(ShardFile(path: fixtures + "/lzf.h5", relativePath: "lzf.h5")) })
        #expect(error.reason == .filterUnavailable(id: 32000, name: "lzf"))
        #expect(error.description.contains("HDF5_PLUGIN_PATH"))
    }
}

@Suite struct H5pyInterop {
    struct Expected: Decodable {
        let layout: String
        let dataset: String
        let features: [[String]]
        let numeric: [String]?
        let values: [Float]
    }

    @Test(arguments: ["matrix_vlen.h5", "matrix_fixed.h5", "dumper_jets.h5", "columns.h5"])
    func readerAgreesWithValuesRecordedByH5py(_ name: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: fixtures + "/values.json"))
        let expected = try #require(try JSONDecoder().decode([String: Expected].self, from: data)[name])
        let (reader, values, _) = try readAll(fixtures + "/" + name, options: ShardReadOptions(batchSize: 64))
        #expect(reader.layout.rawValue == expected.layout)
        #expect(reader.datasetPath == expected.dataset)
        #expect(reader.availableFeatures.map { [$0.name, $0.dtype] } == expected.features)
        #expect(reader.features == (expected.numeric ?? expected.features.map { $0[0] }))
        #expect(values == expected.values)
    }
}

import Foundation
import Testing

/// Runs the built `pairs` executable (next to the test bundle) and captures its output.
func pairs(_ arguments: String...) throws -> (status: Int32, stdout: String, stderr: String) {
    try pairs(arguments)
}

func pairs(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    let process = Process()
    process.executableURL = directory.appendingPathComponent("pairs")
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}

func temporaryDirectory() -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("pairs-cli-\(UUID().uuidString)").path
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

let lzfFixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/h5py/lzf.h5").path

@Suite struct ShardsCommandTests {
    /// One good shard, a truncated copy of it, and h5py's LZF-compressed file.
    func mixedDirectory() throws -> String {
        let directory = temporaryDirectory()
        let generated = directory + "/generated"
        #expect(try pairs("simulate", "--out", generated, "--events", "40000", "--shards", "1").status == 0)
        let mix = directory + "/mix"
        try FileManager.default.createDirectory(atPath: mix, withIntermediateDirectories: true)
        let good = try Data(contentsOf: URL(fileURLWithPath: generated + "/shard-0000.h5"))
        try good.write(to: URL(fileURLWithPath: mix + "/good.h5"))
        try good.prefix(good.count / 2).write(to: URL(fileURLWithPath: mix + "/truncated.h5"))
        try FileManager.default.copyItem(atPath: lzfFixture, toPath: mix + "/lzf.h5")
        return mix
    }

    @Test func badShardsGetOneClearLineEachAndExitStatusOne() throws {
        let result = try pairs("shards", try mixedDirectory())
        #expect(result.status == 1)
        #expect(result.stderr.isEmpty, "no HDF5 stack dump or crash output: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines[0].hasPrefix("ok   good.h5  matrix /events  40000 events  features x:float32"))
        #expect(lines[1].hasPrefix("BAD  lzf.h5  shard 'lzf.h5', dataset '/events': compression filter 'lzf' (id 32000) is not available"))
        #expect(lines[1].contains("HDF5_PLUGIN_PATH"))
        #expect(lines[2].hasPrefix("BAD  truncated.h5  shard 'truncated.h5': cannot open as HDF5"))
        #expect(lines[2].contains("truncated file"))
        #expect(lines[3].hasSuffix("1 ok (40000 events), 2 bad"))
    }

    @Test func jsonHasTheDocumentedKeysWithNullErrorForGoodShards() throws {
        let result = try pairs("shards", try mixedDirectory(), "--json")
        #expect(result.status == 1)
        let array = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        #expect(array.count == 3)
        let keys: Set = ["path", "size", "digest", "layout", "dataset", "events", "features", "chunks", "compression", "scan", "error"]
        #expect(array.allSatisfy { Set($0.keys) == keys })
        let good = array[0]
        #expect(good["path"] as? String == "good.h5")
        #expect(good["error"] is NSNull)
        #expect(good["events"] as? Int == 40000)
        #expect((good["features"] as? [[String: String]]) == [["name": "x", "dtype": "float32"]])
        #expect((good["digest"] as? String)?.hasPrefix("sha256:") == true)
        #expect(array[1]["error"] as? String != nil && array[2]["error"] as? String != nil)
    }

    @Test func scanReadsEveryEventAndFeaturesAreChecked() throws {
        let directory = temporaryDirectory()
        #expect(try pairs("simulate", "--out", directory, "--events", "30000", "--shards", "2", "--layout", "columns", "--dtype", "float64").status == 0)
        let scanned = try pairs("shards", directory, "--scan", "--features", "x", "--batch-size", "4096")
        #expect(scanned.status == 0)
        #expect(scanned.stdout.contains("columns /events  15000 events  features x:float64"))
        #expect(scanned.stdout.contains("scanned 15000 events"))
        let missing = try pairs("shards", directory, "--features", "x,y")
        #expect(missing.status == 1)
        #expect(missing.stdout.contains("missing feature y (available: x)"))
    }

    @Test func usageErrorsExitWith64() throws {
        #expect(try pairs("shards").status == 64)
        #expect(try pairs("shards", "a", "--batch-size", "many").stderr.contains("--batch-size many: not an integer"))
        #expect(try pairs("nonsense").status == 64)
        #expect(try pairs("simulate", "--out", temporaryDirectory(), "--set", "mu=9").status == 1)
        #expect(try pairs("shards", "--help").stdout.contains("--no-file-locking"))
    }

    @Test func nothingFoundIsAFailureNamingTheArgument() throws {
        let result = try pairs("shards", temporaryDirectory())
        #expect(result.status == 1)
        #expect(result.stderr.contains("no *.h5 or *.hdf5 files found"))
    }
}

let exampleModel = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("examples/models/gaussian-random.h5").path

@Suite struct ModelCommandTests {
    @Test func describesTheBundle() throws {
        let text = try pairs("model", exampleModel)
        #expect(text.status == 0)
        #expect(text.stdout.contains("embedder      1 → 32 relu → 32 relu → 8 identity  (1384 parameters)"))
        #expect(text.stdout.contains("mu (poi) in [-3, 3]; sigma (nuisance) in [0.5, 2]"))
        #expect(text.stdout.contains("UNTRAINED"))
        let json = try pairs("model", exampleModel, "--json")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect((object["digest"] as? String)?.hasPrefix("sha256:") == true)
        #expect(object["yield_model"] is NSNull)
        #expect(object["parameter_count"] as? Int == 6998)
        #expect((object["lr_estimator"] as? [String: Any])?.keys.sorted() == ["a", "b"])
    }

    @Test func aBadBundleIsOneClearError() throws {
        let directory = temporaryDirectory()
        #expect(try pairs("simulate", "--out", directory, "--events", "10", "--shards", "1").status == 0)
        let result = try pairs("model", directory + "/shard-0000.h5")
        #expect(result.status == 1)
        #expect(result.stderr.contains("'/@format': missing attribute"))
    }

    @Test func embedWritesOneEmbeddingPerEventAndAnIndex() throws {
        let directory = temporaryDirectory()
        #expect(try pairs("simulate", "--out", directory + "/s", "--events", "5000", "--shards", "2").status == 0)
        let out = directory + "/t.h5"
        let result = try pairs("model", "embed", exampleModel, directory + "/s", "--out", out, "--batch-size", "1000")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("wrote 5000 embeddings (E = 8) of 2 shards"))
        // The output is itself a readable shard of 8 features.
        let listing = try pairs("shards", out, "--scan")
        #expect(listing.status == 0)
        #expect(listing.stdout.contains("matrix /embeddings  5000 events  features t0:float32"))
        #expect(!FileManager.default.fileExists(atPath: out + ".partial"))
        let missing = try pairs("model", "embed", exampleModel, "--out", out)
        #expect(missing.status == 64)
    }
}

import Foundation
import Testing
import PairsCore

@Suite(.serialized) struct PipelineTests {
    /// The cache is a cluster job: with 1 or 3 workers (different item orders and workers) it must be the same bits.
    @Test func cacheIsBitwiseIdenticalWithOneAndThreeWorkers() throws {
        let d = temporaryDirectory()
        let trained = try pairs("train", "--simulator", "bump", "--out", d + "/m.h5", "--steps", "40", "--lr-steps", "20",
                                "--embedding-dim", "4", "--hidden", "8", "--batch", "32")
        #expect(trained.status == 0, "\(trained.stderr.suffix(400))")
        for workers in ["1", "3"] {
            let result = try pairs("cache", "--simulator", "bump", "--model", d + "/m.h5", "--sets", "40", "--n-min", "10",
                                   "--n-max", "20000", "--out", d + "/cache-\(workers).h5", "--workers", workers)
            #expect(result.status == 0, "\(result.stderr.suffix(400))")
            #expect(result.stdout.contains("wrote \(d)/cache-\(workers).h5: 40 sets"))
        }
        // Compared value by value, bit for bit (libhdf5 leaves a few uninitialised padding bytes in its metadata,
        // so the files' bytes are not a fair test).
        let one = try EmbeddingCache.load(d + "/cache-1.h5"), three = try EmbeddingCache.load(d + "/cache-3.h5")
        #expect(one.spec == three.spec && one.modelDigest == three.modelDigest && one.sets.count == 40)
        #expect(one.sets.map(\.count) == three.sets.map(\.count))
        #expect(one.sets.flatMap(\.theta).map(\.bitPattern) == three.sets.flatMap(\.theta).map(\.bitPattern))
        #expect(one.sets.flatMap(\.sum).map(\.bitPattern) == three.sets.flatMap(\.sum).map(\.bitPattern))
        // And the cache feeds finetuning, which records the N range it saw.
        let tuned = try pairs("finetune", "--model", d + "/m.h5", "--cache", d + "/cache-1.h5", "--out", d + "/t.h5",
                              "--steps", "50", "--lr-steps", "20", "--batch", "16")
        #expect(tuned.status == 0, "\(tuned.stderr.suffix(400))")
        #expect(try pairs("model", d + "/t.h5").stdout.contains("finetuned on N in "))
        // A cache built with another model is refused.
        #expect(try pairs("train", "--simulator", "bump", "--out", d + "/other.h5", "--steps", "10", "--lr-steps", "0", "--seed", "9",
                          "--embedding-dim", "4", "--hidden", "8", "--batch", "16").status == 0)
        let refused = try pairs("finetune", "--model", d + "/other.h5", "--cache", d + "/cache-1.h5", "--out", d + "/x.h5")
        #expect(refused.status == 64 && refused.stderr.contains("the cache was built with model"))
    }

    @Test func validateWritesJSONAndHTML() throws {
        let d = temporaryDirectory()
        #expect(try pairs("train", "--simulator", "onoff", "--out", d + "/m.h5", "--steps", "30", "--lr-steps", "20",
                          "--embedding-dim", "3", "--hidden", "8", "--batch", "32").status == 0)
        let result = try pairs("validate", "--model", d + "/m.h5", "--simulator", "onoff", "--n", "50,500", "--datasets", "8", "--out", d + "/v")
        #expect(result.status == 0, "\(result.stderr.suffix(400))")
        #expect(result.stdout.contains("| 500 | 8 |"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: d + "/v/validation.json"))) as? [String: Any])
        #expect((json["rows"] as? [[String: Any]])?.count == 2)
        let html = try String(contentsOfFile: d + "/v/validation.html", encoding: .utf8)
        #expect(html.contains("<svg") && html.contains("Coverage"))
    }
}

import Foundation
import Testing
import ExactSum
import Numerics
@testable import PairsCore
@testable import Report

let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func schema() throws -> SchemaValidator {
    SchemaValidator(root: try JSON(parsing: Data(contentsOf: repository.appendingPathComponent("schemas/report.schema.json"))))
}

/// A run outcome over the parity bundle (2 parameters, LR estimator, yield model) with pooled sums of real events.
func outcome(events: Int, failed: Bool = false) throws -> RunOutcome {
    let model = try ModelBundle.load(repository.appendingPathComponent("Tests/Fixtures/models/parity.h5").path)
    var rng = SeededGenerator(seed: 3)
    var pooled = PooledEmbedding(dimensions: model.embeddingSize)
    if events > 0 {
        let x = Matrix<Float>(rows: events, columns: 3, values: (0..<3 * events).map { _ in Float(rng.normal()) })
        var work = MLPWorkspace(for: model.embedder, capacity: events)
        model.embedder.forward(x, workspace: &work)
        for r in 0..<events { for c in 0..<model.embeddingSize { pooled.sums[c].add(work.output[r, c]) } }
        pooled.events = events
    }
    let shards = [ShardOutcome(path: "a.h5", digest: "sha256:" + String(repeating: "ab", count: 32), events: events, status: .ok, error: nil)]
        + (failed ? [ShardOutcome(path: "b.h5", digest: nil, events: 0, status: .failed, error: "shard 'b.h5': truncated")] : [])
    let run = RunInfo(started: "2026-12-04T00:00:00Z", finished: "2026-12-04T00:00:01Z", seconds: 1, coordinatorHost: "h", rowsPerItem: 256,
                      itemsTotal: 2, itemsMerged: 1, itemsFailed: failed ? 1 : 0, duplicatePartials: 0, releasedItems: 0, droppedMessages: 3,
                      refusedWorkers: 0, workers: [RunInfo.WorkerInfo(id: "w", host: "h", pid: 1, threads: 1, blasCore: "Zen")],
                      failedItems: failed ? [RunInfo.FailedItem(item: 1, shard: "b.h5", rows: 0..<10, attempts: 3, reason: "truncated")] : [])
    return RunOutcome(modelDigest: model.digest, features: model.metadata.features, pooled: pooled, skippedEvents: 2, nonFinite: ["pt": 2],
                      shards: shards, failures: failed ? [RunFailure(shard: "b.h5", reason: "truncated")] : [],
                      inference: events > 0 ? DatasetInference(model: model, pooled: pooled) : nil,
                      finetunedRange: model.metadata.setSizeRange, run: run)
}

@Suite struct ReportSchemaTests {
    @Test(arguments: [(500, false), (0, true), (7000, true)])
    func reportsValidateAgainstTheSchema(events: Int, failed: Bool) throws {
        let text = RunReport.json(try outcome(events: events, failed: failed)).rendered()
        let report = try JSON(parsing: Data(text.utf8))
        let errors = try schema().validate(report)
        #expect(errors.isEmpty, "\(errors.prefix(5))")
        #expect(report["posterior"].isNull == (events == 0))
        if events > 0 {
            #expect(report["likelihood"]["extended"] == .bool(true))
            #expect(report["likelihood"]["grid"]["q"].array.count == 81)
            #expect(report["posterior"]["n_outside_finetuned_range"] == .bool(events > 5000))
        }
    }

    /// A head whose posterior lies wholly outside the prior box (a random or mismatched model) still gives a
    /// valid report: the intervals collapse onto the nearest edge and `outside_prior` names the parameter.
    @Test func aPosteriorOutsideThePriorBoxIsClippedAndFlagged() throws {
        var o = try outcome(events: 500)
        let p = o.inference!.parameters[0]
        o.inference!.posterior.gaussian.mean[0] = p.bounds.upperBound + 100
        o.inference!.posterior.outsidePrior = [p.name]
        let report = try JSON(parsing: Data(RunReport.json(o).rendered().utf8))
        #expect(try schema().validate(report).isEmpty)
        let edge = JSON.double(p.bounds.upperBound)
        #expect(report["posterior"]["intervals"][p.name]["68"] == .array([edge, edge]))
        #expect(report["posterior"]["outside_prior"] == .array([.string(p.name)]))
    }

    @Test func theValidatorRejectsViolations() throws {
        let validator = try schema()
        guard case .object(var report) = try JSON(parsing: Data(RunReport.json(try outcome(events: 100)).rendered().utf8)) else { return }
        report["events_total"] = .string("many")
        report["extra"] = .int(1)
        report["shards"] = .array([.object(["path": .string("a.h5")])])
        let errors = validator.validate(.object(report))
        #expect(errors.contains { $0.contains("$.events_total: expected integer") })
        #expect(errors.contains { $0.contains("unexpected 'extra'") })
        #expect(errors.contains { $0.contains("$.shards[0]: missing 'digest'") })
    }
}

@Suite struct ReportViewTests {
    @Test func htmlAndSummaryCarryTheResults() throws {
        let report = RunReport.json(try outcome(events: 500, failed: true))
        let html = ReportViews.html(report)
        #expect(html.hasPrefix("<!doctype html>") && html.hasSuffix("</html>\n"))
        #expect(!html.contains("http://") || html.contains("xmlns=\"http://www.w3.org/2000/svg\""), "self-contained: no external resources")
        #expect(html.contains("partial result") && html.contains("Failures (1)") && html.contains("Profile likelihood"))
        #expect(html.components(separatedBy: "<svg").count - 1 == 4)  // two marginals, the joint plot, one profile
        let summary = ReportViews.summary(report)
        #expect(summary.contains("500 events from 2 shards (1 ok, 1 failed) — PARTIAL"))
        #expect(summary.contains("mu (poi)"))
        // Re-rendered from the saved text, the page is the same.
        let again = ReportViews.html(try JSON(parsing: Data(report.rendered().utf8)))
        if again != html {
            let a = Array(again), b = Array(html)
            let i = (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
            Issue.record("re-rendered page differs at \(i): …\(String(a[max(0, i - 80)..<min(a.count, i + 80)]))… vs …\(String(b[max(0, i - 80)..<min(b.count, i + 80)]))…")
        }
    }

    @Test func contoursOfAParaboloidAreCircles() {
        let axis = (0..<41).map { -2 + 0.1 * Double($0) }
        let q = axis.map { x in axis.map { y in x * x + y * y } }
        let segments = Plot.contour(x: axis, y: axis, q: q, level: 1)
        #expect(segments.count > 20)
        for (a, b) in segments { for p in [a, b] { #expect(abs((p.0 * p.0 + p.1 * p.1).squareRoot() - 1) < 0.01) } }
    }
}

@Suite struct JSONTests {
    @Test func renderedJSONParsesBackExactly() throws {
        var rng = SeededGenerator(seed: 8)
        var values: [JSON] = (0..<2000).map { _ in
            let d = Double(bitPattern: rng.next())
            return d.isFinite ? .double(d) : .double(rng.normal())
        }
        values += [.int(-7), .int(Int.max), .bool(true), .null, .string("tab\t \"quoted\" \\ é 🎯 \u{01}"), .double(0.1), .double(-0.0)]
        let document = JSON.object(["values": .array(values), "nested": .object(["empty": .array([]), "e": .object([:])])])
        let parsed = try JSON(parsing: Data(document.rendered().utf8))
        #expect(parsed["values"].array.count == values.count)
        for (a, b) in zip(parsed["values"].array, values) {
            if case .double(let x) = b { #expect(a.double?.bitPattern == x.bitPattern || (x == 0 && a.double == 0)) } else { #expect(a == b) }
        }
        #expect(try JSON(parsing: Data(#"{"s":"\ud83c\udfaf \u00e9"}"#.utf8))["s"].string == "🎯 é")
        #expect(throws: JSONTypeError.self) { try JSON(parsing: Data("{\"a\": [1, 2,]}".utf8)) }
        #expect(throws: JSONTypeError.self) { try JSON(parsing: Data("{\"a\": 1} x".utf8)) }
    }
}

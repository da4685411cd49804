import Foundation
import Testing
import ExactSum
@testable import Cluster

@Suite struct JournalTests {
    func journalPath() -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pairs-journal-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory + "/run.journal"
    }

    /// Runs items `0..<count` of a fresh 3-item harness on one worker, journaling to `path`.
    func merge(_ count: Int, journal path: String, failFirst: Bool = false) throws -> CoordinatorCoreTests.Harness {
        let h = try CoordinatorCoreTests.Harness(items: 3)
        try h.core.useJournal(at: path)
        _ = h.join(1)
        if failFirst {
            let a = CoordinatorCoreTests().assignments(h.send(.request(credits: 1), from: 1))[0]
            _ = h.send(.partial(Partial(item: a.item, failure: (.io, "disk hiccup"))), from: 1)
        }
        for _ in 0..<count {
            let a = CoordinatorCoreTests().assignments(h.send(.request(credits: 1), from: 1))[0]
            #expect(h.send(.partial(h.partial(for: a, value: Double(a.item + 1))), from: 1).first == .ack(item: a.item, duplicate: false))
        }
        return h
    }

    func kinds(_ records: [Journal.Record]) -> [String] {
        records.map {
            switch $0 {
            case .merged: "merged"
            case .attemptFailed: "failed"
            case .assigned: "assigned"
            }
        }
    }

    @Test func aWorkerOfTheCrashedCoordinatorDeliversItsPartialToTheResumedOne() throws {
        let path = journalPath()
        let first = try CoordinatorCoreTests.Harness(items: 2)
        try first.core.useJournal(at: path)
        _ = first.join(1)
        let held = CoordinatorCoreTests().assignments(first.send(.request(credits: 2), from: 1))
        #expect(held.map(\.item) == [0, 1])
        // The coordinator dies; worker 1 finishes item 0 and re-joins the resumed coordinator with it.
        let resumed = try CoordinatorCoreTests.Harness(items: 2)
        try resumed.core.useJournal(at: path)
        _ = resumed.join(1)
        #expect(resumed.send(.partial(resumed.partial(for: held[0], value: 1)), from: 1).first == .ack(item: 0, duplicate: false))
        // A worker that never held item 1 is still refused.
        _ = resumed.join(2)
        guard case .refuse? = resumed.send(.partial(resumed.partial(for: held[1], value: 9)), from: 2).first else { Issue.record("not refused"); return }
    }

    @Test func aResumedCoordinatorMergesOnlyWhatIsLeftAndEndsWithTheSameSums() throws {
        let path = journalPath()
        _ = try merge(2, journal: path, failFirst: true)  // then the coordinator "dies"
        let contents = try Journal.read(path)
        #expect(kinds(contents.records) == ["assigned", "failed", "assigned", "merged", "assigned", "merged"] && contents.tornBytes == 0)

        let resumed = try CoordinatorCoreTests.Harness(items: 3)
        #expect(try resumed.core.useJournal(at: path).replayed == 6)
        #expect(resumed.core.ledger.merged == 2 && resumed.core.ledger.attempts(of: 0) == 1)
        _ = resumed.join(2)
        let left = CoordinatorCoreTests().assignments(resumed.send(.request(credits: 5), from: 2))
        #expect(left.map(\.item) == [2], "only the item not yet merged is handed out")
        _ = resumed.send(.partial(resumed.partial(for: left[0], value: 3)), from: 2)
        #expect(resumed.core.isFinished)
        let outcome = resumed.core.outcome(now: resumed.now, host: "t", startedISO: "", finishedISO: "")
        #expect(outcome.pooled.sum == [6, -6] && outcome.pooled.events == 3 * 256 - 6 && outcome.complete)
        let merged = try Journal.read(path).records.compactMap { if case .merged(let p, _) = $0 { return p.item } else { return nil } }
        #expect(merged.sorted() == [0, 1, 2], "each item merged exactly once across both coordinators")
    }

    @Test func aTornLastRecordIsCutOffAndTheJournalGoesOn() throws {
        let path = journalPath()
        _ = try merge(1, journal: path)
        let whole = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let record = Journal.frame(Journal.encode(.attemptFailed(item: 2, worker: "w9", reason: "x")))
        try Data(whole + record.prefix(record.count - 3)).write(to: URL(fileURLWithPath: path))  // crash mid-write
        let contents = try Journal.read(path)
        #expect(kinds(contents.records) == ["assigned", "merged"] && contents.tornBytes == record.count - 3)
        let resumed = try CoordinatorCoreTests.Harness(items: 3)
        #expect(try resumed.core.useJournal(at: path).tornBytes == record.count - 3)
        _ = resumed.join(1)
        let a = CoordinatorCoreTests().assignments(resumed.send(.request(credits: 1), from: 1))[0]
        _ = resumed.send(.partial(resumed.partial(for: a, value: 2)), from: 1)
        let after = try Journal.read(path)
        #expect(kinds(after.records) == ["assigned", "merged", "assigned", "merged"] && after.tornBytes == 0,
                "the torn bytes were cut off before appending")
    }

    @Test func damageAndForeignJournalsAreRefusedByName() throws {
        let path = journalPath()
        _ = try merge(2, journal: path)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        // Flip a byte inside the first merged record (not the last one): corruption, not a torn write.
        let headerEnd = Journal.magic.count + 8 + Journal.encode(Journal.Header(modelDigest: try tinyModel().digest,
                                                                                 planDigest: "sha256:" + String(repeating: "0", count: 64))).count
        bytes[headerEnd + 20] ^= 0xFF
        let damaged = path + ".damaged"
        try Data(bytes).write(to: URL(fileURLWithPath: damaged))
        #expect(throws: JournalError.self) { try Journal.read(damaged) }
        do { _ = try Journal.read(damaged) } catch { #expect(error.reason.contains("record 1") && error.reason.contains("checksum")) }

        let otherPlan = try CoordinatorCoreTests.Harness(items: 5)
        do {
            try otherPlan.core.useJournal(at: path)
            Issue.record("a journal of another plan was accepted")
        } catch {
            #expect(error.reason.contains("other shards"))
        }
        try Data("not a journal".utf8).write(to: URL(fileURLWithPath: damaged))
        do { _ = try Journal.read(damaged) } catch { #expect(error.reason.contains("not a pairs journal")) }
    }
}

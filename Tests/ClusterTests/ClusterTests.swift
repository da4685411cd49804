import Foundation
import Testing
import ExactSum
import Numerics
@testable import Cluster
@testable import PairsCore

func exact(_ values: [Double]) -> [ExactSum] {
    values.map { v in var s = ExactSum(); s.add(v); return s }
}

/// A tiny model: 1 feature → E = 2, P = 1.
func tinyModel() throws -> ModelBundle {
    var rng = SeededGenerator(seed: 1)
    return try ModelBundle(metadata: ModelMetadata(features: ["x"], parameters: [Parameter(name: "mu", role: .poi, bounds: -1...1)],
                                                   setSizeRange: 1...10, provenance: "test"),
                           embedder: MLP(sizes: [1, 2], hidden: .relu, using: &rng), head: MLP(sizes: [3, 2], hidden: .relu, using: &rng))
}

@Suite struct WireTests {
    @Test func everyMessageRoundTrips() throws {
        var partial = Partial(item: 7, shardDigest: "sha256:ab", shardSize: 10, shardModified: -5, events: 3, skippedEvents: 1,
                              nonFinite: [0, 2], sums: exact([1.5, -2e-300]), bytesRead: 99, readSeconds: 0.25, embedSeconds: 1, accumulateSeconds: 0.5,
                              totalSeconds: 2)
        partial.extraSums = ["lr": exact([3])]
        let failed = Partial(item: 8, failure: (.shard, "shard 'a.h5': truncated"))
        let workerMessages: [WorkerMessage] = [
            .ready(.init(workerID: "w1", host: "node7", pid: 42, threads: 4, modelDigest: "", blasCore: "Haswell",
                         localShards: [AnnouncedShard(path: "/scratch/a.h5", relativePath: "a.h5", events: 100)])),
            .request(credits: 3), .partial(partial), .partial(failed), .heartbeat, .bye,
        ]
        for m in workerMessages { #expect(try WorkerMessage.decode(m.frames()) == m) }
        let coordinatorMessages: [CoordinatorMessage] = [
            .welcome(.init(runID: "r", modelDigest: "sha256:cd", model: [1, 2, 3], dataset: "/jets", batchSize: 1024, nonFinite: .skip,
                           heartbeatMilliseconds: 250, liveness: 4, fileLocking: false)),
            .assign(.init(item: 5, path: "/data/s.h5", relativePath: "s.h5", rows: 256..<512, computeDigest: false)),
            .ack(item: 5, duplicate: true), .refuse(reason: "no"), .heartbeat, .shutdown,
        ]
        for m in coordinatorMessages { #expect(try CoordinatorMessage.decode(m.frames()) == m) }
    }

    @Test func defectsAreNamed() {
        func reason(_ frames: [[UInt8]]) -> String {
            do { _ = try WorkerMessage.decode(frames); return "accepted" } catch { return error.reason }
        }
        let heartbeat = WorkerMessage.heartbeat.frames()
        #expect(reason([heartbeat[0]]) == "1 frames, expected 2 (header, body)")
        #expect(reason([Array("PAIX".utf8) + [1, 0, 4, 0], []]) == "header does not start with 'PAIR'")
        #expect(reason([Array("PAIR".utf8) + [2, 0, 4, 0], []]) == "protocol version 2, this pairs speaks 1")
        #expect(reason([heartbeat[0], [1]]) == "1 unexpected trailing bytes after heartbeat body")
        #expect(reason([Array("PAIR".utf8) + [1, 0, 0x12, 0], []]) == "message type assign is not one a worker sends")
        var bad = WorkerMessage.request(credits: 2).frames()
        bad[1] = [0, 0]
        #expect(reason(bad) == "a request for 0 items")
    }

    @Test func tenThousandMutatedFramesNeverCrashTheDecoders() {
        var rng = SeededGenerator(seed: 4)
        let seeds = [WorkerMessage.partial(Partial(item: 1, events: 2, nonFinite: [0], sums: exact([1, 2]))).frames(),
                     WorkerMessage.ready(.init(workerID: "w", host: "h", pid: 1, threads: 1, modelDigest: "", blasCore: "")).frames(),
                     CoordinatorMessage.assign(.init(item: 1, path: "/p", relativePath: "p", rows: 0..<9, computeDigest: true)).frames()]
        var accepted = 0
        for i in 0..<10_000 {
            var frames = seeds[i % seeds.count]
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let f = Int(rng.next() % UInt64(frames.count))
                switch rng.next() % 4 {
                case 0 where !frames[f].isEmpty: frames[f][Int(rng.next() % UInt64(frames[f].count))] = UInt8(truncatingIfNeeded: rng.next())
                case 1 where !frames[f].isEmpty: frames[f].removeLast(Int(rng.next() % UInt64(frames[f].count)))
                case 2: frames[f] += (0..<Int(rng.next() % 16)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                default: frames = (0..<Int(rng.next() % 4)).map { _ in (0..<Int(rng.next() % 20)).map { _ in UInt8(truncatingIfNeeded: rng.next()) } }
                }
                if frames.isEmpty { frames = [[]] }
            }
            if (try? WorkerMessage.decode(frames)) != nil { accepted += 1 }
            _ = try? CoordinatorMessage.decode(frames)
        }
        #expect(accepted < 10_000)
    }
}

@Suite struct LedgerTests {
    func ledger(items: Int, attempts: Int = 3) -> Ledger {
        var plan = RunPlan(rowsPerItem: 256)
        plan.add(PlannedShard(file: ShardFile(path: "/a.h5", relativePath: "a.h5"), events: 256 * items))
        var l = Ledger(maxAttempts: attempts)
        l.apply(.added(items: plan.items, location: nil))
        return l
    }

    @Test func eachItemIsMergedOnceAndReleasedWorkComesBackFirst() {
        var l = ledger(items: 3)
        #expect(l.next(for: "a", location: nil, lastShard: nil, otherWorkers: ["other"]) == 0)
        l.apply(.assigned(item: 0, worker: "a"))
        l.apply(.assigned(item: 1, worker: "a"))
        l.apply(.released(item: 0, inProgress: true))  // worker a lost
        #expect(l.state(of: 0) == .pending && l.released == 1)
        #expect(l.next(for: "b", location: nil, lastShard: nil, otherWorkers: ["other"]) == 0)
        l.apply(.assigned(item: 0, worker: "b"))
        l.apply(.merged(item: 0))
        l.apply(.merged(item: 1))  // a's late partial still counts once
        #expect(l.merged == 2 && !l.isComplete)
        l.apply(.assigned(item: 2, worker: "b"))
        l.apply(.merged(item: 2))
        #expect(l.isComplete && l.next(for: "b", location: nil, lastShard: nil, otherWorkers: []) == nil)
    }

    @Test func anItemWhoseWorkersKeepGettingLostFailsInsteadOfKillingEveryWorker() {
        var l = ledger(items: 2)
        for worker in ["a", "b", "c"] {
            l.apply(.assigned(item: 0, worker: worker))
            l.apply(.assigned(item: 1, worker: worker))
            l.apply(.released(item: 0, inProgress: true))  // the worker died on it…
            l.apply(.released(item: 1, inProgress: false))  // …while item 1 waited its turn: not charged
        }
        guard case .failed(let why)? = l.state(of: 0) else { Issue.record("item 0 is \(String(describing: l.state(of: 0)))"); return }
        #expect(why.contains("3 workers were lost"))
        #expect(l.failed == 1 && l.state(of: 1) == .pending && l.next(for: "d", location: nil, lastShard: nil, otherWorkers: []) == 1)
    }

    @Test func failedItemsRetryElsewhereThenFail() {
        var l = ledger(items: 2, attempts: 2)
        l.apply(.assigned(item: 0, worker: "a"))
        l.apply(.attemptFailed(item: 0, worker: "a", reason: "bad chunk"))
        #expect(l.state(of: 0) == .pending)
        // Worker a is passed over while worker b has not tried the item…
        #expect(l.next(for: "a", location: nil, lastShard: 0, otherWorkers: ["b"]) == 1)
        #expect(l.next(for: "b", location: nil, lastShard: nil, otherWorkers: ["a"]) == 0)
        // …and may take it when it is alone, or when every other worker failed it too.
        #expect(l.next(for: "a", location: nil, lastShard: 0, otherWorkers: []) == 0)
        var three = l
        three.apply(.assigned(item: 0, worker: "b"))
        three.apply(.attemptFailed(item: 0, worker: "b", reason: "bad chunk"))
        #expect(three.state(of: 0) == .failed(reason: "bad chunk") && three.failed == 1)
    }

    @Test func localItemsGoOnlyToTheirLocation() {
        var l = Ledger(maxAttempts: 1)
        var plan = RunPlan(rowsPerItem: 256)
        l.apply(.added(items: plan.add(PlannedShard(file: ShardFile(path: "/s/a.h5", relativePath: "n1:a.h5"), events: 10, location: "n1")), location: "n1"))
        #expect(l.next(for: "w2", location: "n2", lastShard: nil, otherWorkers: ["other"]) == nil)
        #expect(l.next(for: "w1", location: "n1", lastShard: nil, otherWorkers: ["other"]) == 0)
    }
}

@Suite struct CoordinatorCoreTests {
    final class Harness {
        let core: CoordinatorCore
        var now = 1000.0
        var logs: [String] = []
        init(items: Int, maxAttempts: Int = 3) throws {
            var plan = RunPlan(rowsPerItem: 256)
            plan.add(PlannedShard(file: ShardFile(path: "/d/a.h5", relativePath: "a.h5"), events: 256 * items - 6))
            let model = try tinyModel()
            var logs: [String] = []
            core = CoordinatorCore(plan: plan, model: model, modelBytes: [9, 9],
                                   configuration: .init(runID: "r", heartbeatMilliseconds: 100, liveness: 3, maxAttempts: maxAttempts),
                                   now: now, log: { logs.append($0) })
            _ = logs
        }
        func send(_ m: WorkerMessage, from peer: UInt8) -> [CoordinatorMessage] {
            core.receive(m.frames(), from: [peer], now: now).filter { $0.peer == [peer] }.map(\.message)
        }
        func join(_ peer: UInt8, digest: String = "") -> [CoordinatorMessage] {
            send(.ready(.init(workerID: "w\(peer)", host: "h", pid: Int(peer), threads: 1, modelDigest: digest, blasCore: "x")), from: peer)
        }
        func partial(for a: CoordinatorMessage.Assignment, value: Double) -> Partial {
            Partial(item: a.item, shardDigest: a.computeDigest ? "sha256:00" : nil, shardSize: 1, shardModified: 2,
                    events: UInt64(a.rows.count), nonFinite: [0], sums: exact([value, -value]))
        }
    }

    func assignments(_ messages: [CoordinatorMessage]) -> [CoordinatorMessage.Assignment] {
        messages.compactMap { if case .assign(let a) = $0 { return a } else { return nil } }
    }

    @Test func lostWorkersWorkIsRedoneAndLatePartialsCountOnce() throws {
        let h = try Harness(items: 3)
        guard case .welcome(let w) = h.join(1).first else { Issue.record("no welcome"); return }
        #expect(w.model == [9, 9])
        let a1 = assignments(h.send(.request(credits: 2), from: 1))
        #expect(a1.map(\.item) == [0, 1] && a1[0].computeDigest && !a1[1].computeDigest)
        _ = h.join(2)
        let a2 = assignments(h.send(.request(credits: 5), from: 2))
        #expect(a2.map(\.item) == [2])
        #expect(h.send(.partial(h.partial(for: a1[0], value: 1)), from: 1) == [.ack(item: 0, duplicate: false)])
        // Worker 1 falls silent: after liveness × interval its item 1 goes to worker 2.
        h.now += 0.2
        _ = h.send(.heartbeat, from: 2)
        h.now += 0.2
        let later = h.core.tick(now: h.now)
        #expect(h.core.ledger.released == 1)
        #expect(assignments(later.filter { $0.peer == [2] }.map(\.message)).map(\.item) == [1])
        _ = h.send(.partial(h.partial(for: a2[0], value: 4)), from: 2)
        _ = h.send(.partial(h.partial(for: a1[1], value: 2)), from: 2)
        // Worker 1 comes back with its stale partial for item 1: a duplicate, not merged again.
        _ = h.join(1)
        #expect(h.send(.partial(h.partial(for: a1[1], value: 2)), from: 1).first == .shutdown)
        #expect(h.core.isFinished)
        let outcome = h.core.outcome(now: h.now, host: "test", startedISO: "s", finishedISO: "f")
        #expect(outcome.pooled.events == 3 * 256 - 6)
        #expect(outcome.pooled.sum == [7, -7])
        #expect(outcome.shards == [ShardOutcome(path: "a.h5", digest: "sha256:00", events: 3 * 256 - 6, status: .ok, error: nil)])
        #expect(outcome.complete)
    }

    @Test func wrongModelDigestAndForeignVersionsAreRefused() throws {
        let h = try Harness(items: 1)
        guard case .refuse(let why)? = h.join(1, digest: "sha256:other").first else { Issue.record("not refused"); return }
        #expect(why.contains("model digest mismatch"))
        var ready = WorkerMessage.ready(.init(workerID: "w", host: "h", pid: 1, threads: 1, modelDigest: "", blasCore: "")).frames()
        ready[0][4] = 9
        guard case .refuse(let why2)? = h.core.receive(ready, from: [3], now: h.now).first?.message else { Issue.record("not refused"); return }
        #expect(why2.contains("protocol version 9"))
    }

    @Test func failingItemIsRetriedThenRecordedAndInvalidPartialsAreNotMerged() throws {
        let h = try Harness(items: 2, maxAttempts: 2)
        _ = h.join(1); _ = h.join(2)
        let a = assignments(h.send(.request(credits: 1), from: 1))[0]
        _ = h.send(.partial(Partial(item: a.item, failure: (.shard, "corrupt chunk"))), from: 1)
        let b = assignments(h.send(.request(credits: 2), from: 2))
        #expect(b.map(\.item) == [0, 1])
        _ = h.send(.partial(Partial(item: 0, failure: (.shard, "corrupt chunk"))), from: 2)
        var wrong = h.partial(for: b[1], value: 1)
        wrong.sums = exact([1])  // wrong dimension: an invalid partial is a failed attempt
        _ = h.send(.partial(wrong), from: 2)
        #expect(h.core.ledger.state(of: 1) == .pending)
        let again = assignments(h.send(.request(credits: 1), from: 1))
        _ = h.send(.partial(h.partial(for: again[0], value: 1)), from: 1)
        #expect(h.core.isFinished)
        let outcome = h.core.outcome(now: h.now, host: "t", startedISO: "", finishedISO: "")
        #expect(!outcome.complete)
        #expect(outcome.failures == [RunFailure(shard: "a.h5", reason: "corrupt chunk")])
        #expect(outcome.pooled.events == 250)
        #expect(outcome.run.failedItems.map(\.attempts) == [2])
    }

    @Test func partialsForItemsNeverAssignedToTheSenderAreRefusedAndNotMerged() throws {
        let h = try Harness(items: 2)
        _ = h.join(1); _ = h.join(2)
        let a = assignments(h.send(.request(credits: 1), from: 1))[0]
        // Worker 2 holds nothing, yet sends a partial for worker 1's item and one for a still-pending item.
        guard case .refuse(let why)? = h.send(.partial(h.partial(for: a, value: 100)), from: 2).first else {
            Issue.record("not refused"); return
        }
        #expect(why.contains("never assigned"))
        #expect(h.core.ledger.state(of: a.item) == .assigned(worker: "w1"))
        _ = h.join(3)
        let pending = CoordinatorMessage.Assignment(item: 1, path: a.path, relativePath: a.relativePath, rows: 256..<506, computeDigest: false)
        guard case .refuse? = h.send(.partial(h.partial(for: pending, value: 100)), from: 3).first else { Issue.record("not refused"); return }
        #expect(h.core.ledger.state(of: 1) == .pending)
        _ = h.send(.partial(h.partial(for: a, value: 1)), from: 1)
        let b = assignments(h.send(.request(credits: 1), from: 1))[0]
        _ = h.send(.partial(h.partial(for: b, value: 2)), from: 1)
        #expect(h.core.isFinished)
        let outcome = h.core.outcome(now: h.now, host: "t", startedISO: "", finishedISO: "")
        #expect(outcome.pooled.sum == [3, -3], "only worker 1's partials are merged")
        #expect(outcome.run.refusedWorkers == 2)
    }

    @Test func garbageIsDroppedAndTheRunStillCompletes() throws {
        let h = try Harness(items: 1)
        var rng = SeededGenerator(seed: 7)
        for _ in 0..<1_000 {
            let frames = (0..<Int(rng.next() % 4)).map { _ in (0..<Int(rng.next() % 40)).map { _ in UInt8(truncatingIfNeeded: rng.next()) } }
            _ = h.core.receive(frames, from: [UInt8(truncatingIfNeeded: rng.next())], now: h.now)
        }
        _ = h.join(1)
        let a = assignments(h.send(.request(credits: 1), from: 1))[0]
        _ = h.send(.partial(h.partial(for: a, value: 3)), from: 1)
        let outcome = h.core.outcome(now: h.now, host: "t", startedISO: "", finishedISO: "")
        #expect(h.core.isFinished && outcome.complete && outcome.run.droppedMessages >= 1_000)
    }
}

@Suite struct WorkerCoreTests {
    func ready() -> WorkerMessage.Ready { .init(workerID: "w", host: "h", pid: 1, threads: 2, modelDigest: "", blasCore: "x") }
    let welcome = CoordinatorMessage.welcome(.init(runID: "r", modelDigest: "sha256:m", model: [], dataset: nil, batchSize: 10,
                                                   nonFinite: .fail, heartbeatMilliseconds: 100, liveness: 3, fileLocking: true))

    @Test func joinsWorksAndResendsUnacknowledgedPartialsAfterReconnecting() {
        let core = WorkerCore(ready: ready(), idleTimeout: 60, now: 0)
        #expect(core.connected(now: 0) == [.send(.ready(ready()))])
        let (started, _) = core.received(welcome.frames(), now: 0.01)
        #expect(started.count == 2 && started[1] == .send(.request(credits: 3)))
        let assignment = CoordinatorMessage.Assignment(item: 4, path: "/p", relativePath: "p", rows: 0..<10, computeDigest: true)
        #expect(core.received(CoordinatorMessage.assign(assignment).frames(), now: 0.02).actions == [.process(.shard(assignment))])
        let done = Partial(item: 4, events: 10)
        #expect(core.finished(done, now: 0.05) == [.send(.partial(done)), .send(.request(credits: 1))])
        // Silence beyond liveness × interval: back off, then reconnect and re-join.
        #expect(core.tick(now: 0.06).isEmpty)
        #expect(core.tick(now: 0.16) == [.send(.heartbeat)])
        #expect(core.tick(now: 0.5).isEmpty)
        #expect(core.tick(now: 1.6) == [.reconnect])
        _ = core.connected(now: 1.6)
        let (rejoined, _) = core.received(welcome.frames(), now: 1.7)
        #expect(rejoined.contains(.send(.partial(done))))
        _ = core.received(CoordinatorMessage.ack(item: 4, duplicate: false).frames(), now: 1.8)
        #expect(core.unacknowledged.isEmpty)
    }

    @Test func refusalAndShutdownEndTheWorker() {
        let core = WorkerCore(ready: ready(), idleTimeout: 60, now: 0)
        #expect(core.received(CoordinatorMessage.refuse(reason: "model digest mismatch").frames(), now: 0).actions
                == [.exit(status: 1, reason: "refused by the coordinator: model digest mismatch")])
        let other = WorkerCore(ready: ready(), idleTimeout: 60, now: 0)
        #expect(other.received(CoordinatorMessage.shutdown.frames(), now: 0).actions.last == .exit(status: 0, reason: "the coordinator finished the run"))
        let lonely = WorkerCore(ready: ready(), idleTimeout: 2, now: 0)
        _ = lonely.connected(now: 0)
        #expect(lonely.tick(now: 3) == [.send(.heartbeat)])
        #expect(lonely.tick(now: 6).first == .exit(status: 1, reason: "no coordinator answered within 2 s"))
    }
}

@Suite struct WorkerDrainTests {
    let welcome = CoordinatorMessage.welcome(.init(runID: "r", modelDigest: "sha256:m", model: [], dataset: nil, batchSize: 10,
                                                   nonFinite: .fail, heartbeatMilliseconds: 100, liveness: 3, fileLocking: true))

    @Test func drainingFinishesWhatIsHeldThenLeaves() {
        let core = WorkerCore(ready: .init(workerID: "w", host: "h", pid: 1, threads: 1, modelDigest: "", blasCore: ""), idleTimeout: 60, now: 0)
        _ = core.connected(now: 0)
        _ = core.received(welcome.frames(), now: 0)
        let a = CoordinatorMessage.Assignment(item: 3, path: "/p", relativePath: "p", rows: 0..<10, computeDigest: false)
        _ = core.received(CoordinatorMessage.assign(a).frames(), now: 0.01)
        #expect(core.drain(reason: "walltime", now: 0.02).isEmpty)  // still holds item 3
        let done = Partial(item: 3, events: 10)
        #expect(core.finished(done, now: 0.03) == [.send(.partial(done))])  // no new REQUEST while draining
        #expect(core.received(CoordinatorMessage.ack(item: 3, duplicate: false).frames(), now: 0.04).actions
                == [.send(.bye), .exit(status: 0, reason: "left the run: drained")])
    }

    @Test func anUndeliverableDrainGivesUp() {
        let core = WorkerCore(ready: .init(workerID: "w", host: "h", pid: 1, threads: 1, modelDigest: "", blasCore: ""), idleTimeout: 600, now: 0)
        _ = core.connected(now: 0)
        _ = core.received(welcome.frames(), now: 0)
        _ = core.received(CoordinatorMessage.assign(.init(item: 1, path: "/p", relativePath: "p", rows: 0..<5, computeDigest: false)).frames(), now: 0)
        _ = core.drain(reason: "SIGTERM", now: 1)
        #expect(core.tick(now: 1 + WorkerCore.drainTimeout + 1).first == .exit(status: 0, reason: "left without delivering 1 items after 60 s of draining; the coordinator redoes them"))
    }
}

import Foundation
import PairsCore

/// Turns one assignment into a partial on a compute thread: stat the shard (identity), hash it if asked,
/// then read → embed → pool its rows exactly. Every failure becomes a failed partial with its reason.
/// Not shared: each compute thread is handed its own processor and is its only user from then on.
public final class ItemProcessor: @unchecked Sendable {
    private let pooler: ShardPooler
    private let simulation: (spec: CacheSpec, simulator: any Simulator)?
    private let features: Int

    public init(model: ModelBundle, welcome: CoordinatorMessage.Welcome) throws(SimulatorError) {
        pooler = ShardPooler(model: model, options: ShardReadOptions(
            dataset: welcome.dataset, batchSize: welcome.batchSize, nonFinite: welcome.nonFinite,
            locking: welcome.fileLocking ? .libraryDefault : .disabled))
        features = model.metadata.features.count
        if let spec = welcome.simulation {
            let simulator = try Simulators.named(spec.simulator, luminosity: spec.luminosity)
            guard simulator.features == model.metadata.features else {
                throw SimulatorError("simulator '\(spec.simulator)' produces features \(simulator.features), the model takes \(model.metadata.features)")
            }
            simulation = (spec, simulator)
        } else {
            simulation = nil
        }
    }

    public func process(_ work: Work) -> Partial {
        switch work {
        case .shard(let assignment): return process(assignment)
        case .simulatedSet(let item, let index): return simulate(item: item, set: index)
        }
    }

    /// A cache item: regenerate set `index` from the spec, embed it, pool it exactly.
    private func simulate(item: UInt64, set index: Int) -> Partial {
        let start = Date()
        var partial = Partial(item: item, nonFinite: [UInt64](repeating: 0, count: features))
        defer { partial.totalSeconds = Date().timeIntervalSince(start) }
        guard let (spec, simulator) = simulation else {
            partial.failure = (.io, "set \(index): this run has no simulation spec")
            return partial
        }
        do {
            let (_, pooled) = try spec.pool(index, simulator: simulator, embedder: pooler.embedder)
            partial.events = UInt64(pooled.events)
            partial.sums = pooled.sums
            partial.embedSeconds = Date().timeIntervalSince(start)
        } catch {
            partial.failure = (.embedding, error.description)
        }
        return partial
    }

    func process(_ assignment: CoordinatorMessage.Assignment) -> Partial {
        let start = Date()
        var partial = Partial(item: assignment.item)
        defer { partial.totalSeconds = Date().timeIntervalSince(start) }
        let shard = ShardFile(path: assignment.path, relativePath: assignment.relativePath)
        var info = stat()
        guard stat(assignment.path, &info) == 0 else {
            partial.failure = (.io, "shard '\(assignment.relativePath)': cannot stat '\(assignment.path)': \(String(cString: strerror(errno)))")
            return partial
        }
        partial.shardSize = UInt64(info.st_size)
        partial.shardModified = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        if assignment.computeDigest {
            do {
                partial.shardDigest = try ShardIdentity.compute(shard).digest
            } catch {
                partial.failure = (.io, error.description)
                return partial
            }
        }
        do {
            let result = try pooler.pool(shard, rows: assignment.rows)
            partial.events = UInt64(result.pooled.events)
            partial.sums = result.pooled.sums
            partial.skippedEvents = UInt64(result.skippedEvents)
            partial.nonFinite = result.nonFiniteCounts.map { UInt64($0) }
            partial.bytesRead = UInt64(result.bytesRead)
            partial.readSeconds = result.readSeconds
            partial.embedSeconds = result.embedSeconds
            partial.accumulateSeconds = result.accumulateSeconds
        } catch {
            switch error {
            case .shard(let e): partial.failure = (.shard, e.description)
            case .nonFiniteEmbedding: partial.failure = (.embedding, error.description)
            }
        }
        return partial
    }
}

import Foundation
import PairsCore

/// Turns one assignment into a partial on a compute thread: stat the shard (identity), hash it if asked,
/// then read → embed → pool its rows exactly. Every failure becomes a failed partial with its reason.
public final class ItemProcessor {
    private let pooler: ShardPooler

    public init(model: ModelBundle, welcome: CoordinatorMessage.Welcome) {
        pooler = ShardPooler(model: model, options: ShardReadOptions(
            dataset: welcome.dataset, batchSize: welcome.batchSize, nonFinite: welcome.nonFinite,
            locking: welcome.fileLocking ? .libraryDefault : .disabled))
    }

    public func process(_ assignment: CoordinatorMessage.Assignment) -> Partial {
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

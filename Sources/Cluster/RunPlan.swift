import Foundation
import PairsCore

/// A shard in the run: its file, event count, and where it can be read.
public struct PlannedShard: Sendable, Equatable {
    public let file: ShardFile
    public let events: Int
    /// nil: on storage every worker sees (the coordinator's shards); otherwise the announcing worker's
    /// location (`host:dir`), and only workers announcing that location can process it.
    public let location: String?

    public init(file: ShardFile, events: Int, location: String? = nil) {
        self.file = file
        self.events = events
        self.location = location
    }
}

/// The shards of a run cut into work items of at most `rowsPerItem` rows.
public struct RunPlan: Sendable {
    public private(set) var shards: [PlannedShard] = []
    public private(set) var items: [WorkItem] = []
    public let rowsPerItem: Int
    /// For cache jobs: the simulated sets, one item per set (shard k of the plan is set k).
    public private(set) var simulation: CacheSpec?

    /// `rowsPerItem` is rounded up to whole embedding blocks (256 rows) so that items never split a block.
    public init(rowsPerItem: Int) {
        precondition(rowsPerItem > 0, "rows per item must be positive")
        let block = Embedder.blockRows
        self.rowsPerItem = (rowsPerItem + block - 1) / block * block
    }

    /// A cache job: one item per simulated set of `spec`, holding the set's events.
    public init(simulation spec: CacheSpec, simulator: any Simulator) {
        self.init(rowsPerItem: spec.maximumSize)
        simulation = spec
        for index in 0..<spec.sets {
            let count = spec.set(index, of: simulator).count
            shards.append(PlannedShard(file: ShardFile(path: "", relativePath: String(format: "set-%07d", index)), events: count))
            items.append(WorkItem(id: UInt64(index), shard: index, rows: 0..<count))
        }
    }

    /// Adds a shard and its items; returns the new items.
    @discardableResult
    public mutating func add(_ shard: PlannedShard) -> [WorkItem] {
        let index = shards.count
        shards.append(shard)
        var added: [WorkItem] = []
        var start = 0
        while start < shard.events {
            let end = min(start + rowsPerItem, shard.events)
            added.append(WorkItem(id: UInt64(items.count + added.count), shard: index, rows: start..<end))
            start = end
        }
        items += added
        return added
    }
}

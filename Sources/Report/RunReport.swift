import PairsCore

/// The report of a run as JSON (`report.json`). Minimal for now: model, events, shards, failures and the
/// pooled embedding; everything that varies between runs of the same data is under `run`, so two reports
/// of the same data compare equal byte for byte once `run` is removed.
public enum RunReport {
    public static let formatName = "pairs-report"
    public static let formatVersion = 1

    public static func json(_ outcome: RunOutcome) -> JSON {
        let pooled = outcome.pooled
        return .object([
            "format": .string(formatName),
            "format_version": .int(formatVersion),
            "complete": .bool(outcome.complete),
            "model": .object(["digest": .string(outcome.modelDigest), "features": .array(outcome.features.map(JSON.string))]),
            "events_total": .int(pooled.events),
            "shards": .array(outcome.shards.map { shard in
                .object(["path": .string(shard.path), "digest": shard.digest.map(JSON.string) ?? .null, "events": .int(shard.events),
                         "status": .string(shard.status.rawValue), "error": shard.error.map(JSON.string) ?? .null])
            }),
            "failures": .array(outcome.failures.map { .object(["shard": .string($0.shard), "reason": .string($0.reason)]) }),
            "non_finite": .object(["skipped_events": .int(outcome.skippedEvents),
                                   "values_by_feature": .object(outcome.nonFinite.mapValues(JSON.int))]),
            "embedding": .object(["dimensions": .int(pooled.dimensions), "sum": .array(pooled.sum.map(JSON.double)),
                                  "mean": .array(pooled.mean.map(JSON.double))]),
            "run": run(outcome.run),
        ])
    }

    static func run(_ info: RunInfo) -> JSON {
        .object([
            "started": .string(info.started), "finished": .string(info.finished), "seconds": .double(info.seconds),
            "coordinator_host": .string(info.coordinatorHost), "rows_per_item": .int(info.rowsPerItem),
            "items": .object(["total": .int(info.itemsTotal), "merged": .int(info.itemsMerged), "failed": .int(info.itemsFailed),
                              "duplicate_partials": .int(info.duplicatePartials), "released": .int(info.releasedItems)]),
            "dropped_messages": .int(info.droppedMessages), "refused_workers": .int(info.refusedWorkers),
            "worker_count": .int(info.workers.count),
            "workers": .array(info.workers.map { w in
                .object(["id": .string(w.id), "host": .string(w.host), "pid": .int(w.pid), "threads": .int(w.threads),
                         "blas_core": .string(w.blasCore), "items": .int(w.items), "events": .int(w.events), "bytes_read": .int(w.bytesRead),
                         "seconds": .object(["read": .double(w.readSeconds), "embed": .double(w.embedSeconds),
                                             "accumulate": .double(w.accumulateSeconds)])])
            }),
            "failed_items": .array(info.failedItems.map { f in
                .object(["item": .int(f.item), "shard": .string(f.shard), "rows": .array([.int(f.rows.lowerBound), .int(f.rows.upperBound)]),
                         "attempts": .int(f.attempts), "reason": .string(f.reason)])
            }),
        ])
    }
}

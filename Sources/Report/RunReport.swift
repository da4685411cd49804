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
            "posterior": outcome.inference.map { posterior($0, finetuned: outcome.finetunedRange) } ?? .null,
            "likelihood": outcome.inference?.likelihood.map { likelihood($0, parameters: outcome.inference!.parameters, scan: outcome.scan) } ?? .null,
            "run": run(outcome.run),
        ])
    }

    static func pair(_ r: ClosedRange<Double>) -> JSON { .array([.double(r.lowerBound), .double(r.upperBound)]) }

    static func posterior(_ inference: DatasetInference, finetuned: ClosedRange<Int>) -> JSON {
        let g = inference.posterior.gaussian, names = inference.parameters.map(\.name)
        var intervals: [String: JSON] = [:]
        for (k, p) in inference.parameters.enumerated() {
            // Central intervals of the Gaussian marginal, clipped to the prior box (an interval wholly outside
            // collapses onto the nearest edge; `outside_prior` says so).
            func clipped(_ r: ClosedRange<Double>) -> JSON { pair(r.clamped(to: p.bounds)) }
            intervals[p.name] = .object(["68": clipped(g.interval(k, level: 0.68)), "95": clipped(g.interval(k, level: 0.95))])
        }
        return .object([
            "parameters": .array(names.map(JSON.string)),
            "poi": .array(inference.parameters.filter { $0.role == .poi }.map { .string($0.name) }),
            "mean": .array(g.mean.map(JSON.double)), "std": .array(g.std.map(JSON.double)),
            "covariance": .array(g.covariance.map { .array($0.map(JSON.double)) }),
            "correlation": .array(g.correlation.map { .array($0.map(JSON.double)) }),
            "intervals": .object(intervals),
            "outside_prior": .array(inference.posterior.outsidePrior.map(JSON.string)),
            "n_outside_finetuned_range": .bool(inference.posterior.extrapolatedN),
            "finetuned_n_range": .array([.int(finetuned.lowerBound), .int(finetuned.upperBound)]),
        ])
    }

    static func likelihood(_ l: DatasetInference.Likelihood, parameters: [Parameter], scan: ScanOptions) -> JSON {
        var mle: [String: JSON] = [:], profile: [String: JSON] = [:], resolution: [String: JSON] = [:]
        for (d, p) in parameters.enumerated() {
            mle[p.name] = .double(l.mle[d])
            resolution[p.name] = .int(l.axes[d].count)
            if let pr = l.profiles[d] {
                profile[p.name] = .object(["values": .array(l.axes[d].map(JSON.double)), "q": .array(pr.q.map(JSON.double)),
                                           "intervals": .object(["68": pair(pr.interval68), "95": pair(pr.interval95)]),
                                           "at_grid_edge": .bool(pr.atGridEdge)])
            }
        }
        // The 2-D grid of −2Δ log R for a (poi, nuisance) pair, for contour plots.
        var grid: JSON = .null
        if parameters.count == 2 {
            let top = l.logRatio.filter(\.isFinite).max() ?? 0, n = l.axes[1].count
            grid = .object(["axes": .object([parameters[0].name: .array(l.axes[0].map(JSON.double)), parameters[1].name: .array(l.axes[1].map(JSON.double))]),
                            "q": .array(l.axes[0].indices.map { i in .array((0..<n).map { j in .double(-2 * (l.logRatio[i * n + j] - top)) }) })])
        }
        return .object(["parameters": .array(parameters.map { .string($0.name) }), "mle": .object(mle), "profile": .object(profile),
                        "extended": .bool(l.extended), "grid_resolution": .object(resolution), "zoom": .bool(scan.zoom),
                        "luminosity_scale": .double(scan.luminosityScale), "grid": grid])
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

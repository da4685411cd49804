import Foundation
import HDF5
import PairsCore

/// `pairs model embed`: writes every event's embedding t(x) to an HDF5 file, for debugging a model.
enum ModelEmbedCommand: Command {
    static let spec = CommandSpec(
        name: "model embed",
        summary: "Write per-event embeddings t(x) of shards to an HDF5 file (bounded memory).",
        positionals: [("BUNDLE", "The model bundle."), ("SHARDS", "Directories, globs or list files of shards.")],
        options: [
            .value("out", "FILE", "Output HDF5 file (required): /embeddings (events × E, features t0…), /index (first row, count per shard)."),
            .value("dataset", "PATH", "Dataset or group holding the events (default: search each file)."),
            .value("batch-size", "N", "Events per read (default 65536)."),
            .value("non-finite", "POLICY", "fail (default) or skip events with NaN/Inf features, counting them."),
            .flag("no-file-locking", "Open shards without HDF5 file locking (needed on NFS and similar)."),
        ],
        repeatsLast: true)

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        guard let out: String = try arguments.optional("out") else { throw UsageError("--out FILE is required") }
        let bundle = try ModelBundle.load(arguments.positionals[0])
        let options = ShardReadOptions(
            dataset: try arguments.optional("dataset"), features: bundle.metadata.features,
            batchSize: try arguments.value("batch-size", default: ShardReadOptions.defaultBatchSize),
            nonFinite: try arguments.value("non-finite", default: .fail),
            locking: arguments.flag("no-file-locking") ? .disabled : .libraryDefault)
        let shards = try arguments.positionals.dropFirst().flatMap { spec in try ShardDiscovery.find(spec).shards }

        // Write next to the destination and rename at the end, so a failed run leaves no partial file behind.
        let partial = out + ".partial"
        defer { try? FileManager.default.removeItem(atPath: partial) }
        let (written, skipped) = try write(bundle, shards: shards, options: options, to: partial)
        guard rename(partial, out) == 0 else { throw UsageError("cannot move \(partial) to \(out): \(String(cString: strerror(errno)))") }
        emit("wrote \(written) embeddings (E = \(bundle.embeddingSize)) of \(shards.count) shards to \(out)"
             + (skipped > 0 ? "; skipped \(skipped) events with non-finite features" : ""))
        return ExitStatus.success
    }

    /// Writes the embeddings file; every HDF5 handle is closed when this returns.
    private static func write(_ bundle: ModelBundle, shards: [ShardFile], options: ShardReadOptions,
                              to path: String) throws -> (written: Int, skipped: Int) {
        let e = bundle.embeddingSize
        let root = try File.create(path, overwrite: true).root()
        let output = try root.createDataset("embeddings", type: .standard(.float32), dimensions: [0, e], maxDimensions: [nil, e],
                                            storage: .chunked(chunk: [4096, e], filters: []))
        try output.writeAttribute("features", .strings((0..<e).map { "t\($0)" }))
        try root.writeAttribute("model_digest", .strings([bundle.digest]))
        try root.writeAttribute("shards", .strings(shards.map(\.path)))
        let embedder = Embedder(bundle.embedder)
        var written = 0, skipped = 0
        var index: [Int64] = []
        var block: [Float] = []
        for shard in shards {
            let reader = try ShardReader(shard, options: options)
            let first = written
            try reader.forEachBatch { batch in
                block.removeAll(keepingCapacity: true)
                var skipped = batch.skipped[...]
                embedder.embed(batch) { rows, embeddings in
                    for row in rows {
                        if skipped.first == row { skipped.removeFirst(); continue }
                        block.append(contentsOf: embeddings[(row - rows.lowerBound) * e..<(row - rows.lowerBound + 1) * e])
                    }
                }
                try output.setExtent([written + batch.count, e])
                try output.write(block, rows: written..<written + batch.count)
                written += batch.count
            }
            skipped += reader.skippedEvents
            index += [Int64(first), Int64(written - first)]
        }
        try root.createDataset("index", type: .standard(.int64), dimensions: [shards.count, 2]).write(index)
        return (written, skipped)
    }
}

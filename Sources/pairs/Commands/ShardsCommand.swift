import Foundation
import HDF5
import PairsCore

/// `pairs shards`: lists the shards an argument names, with layout, events, features, storage and digest,
/// and one line per bad shard with its error. Exits 1 if any shard is bad.
enum ShardsCommand: Command {
    static let spec = CommandSpec(
        name: "shards",
        summary: "List and check HDF5 event shards (layout, events, features, compression, digest).",
        positionals: [("DIR|GLOB|LIST", "A directory (searched recursively), a glob (** crosses directories) or a list file.")],
        options: [
            .value("features", "A,B,…", "Features that must be present (default: every numeric feature)."),
            .value("dataset", "PATH", "Dataset or group holding the events (default: search the file)."),
            .flag("scan", "Also read every event: finds corrupt chunks and counts NaN/Inf values."),
            .value("non-finite", "POLICY", "With --scan: fail (default) or skip events with NaN/Inf, counting them."),
            .value("batch-size", "N", "Events per read with --scan (default 65536)."),
            .flag("no-file-locking", "Open files without HDF5 file locking (needed on NFS and similar)."),
            .flag("json", "Print a JSON array instead of text."),
        ])

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let options = ShardReadOptions(
            dataset: try arguments.optional("dataset"),
            features: try arguments.optional("features", as: [String].self),
            batchSize: try arguments.value("batch-size", default: ShardReadOptions.defaultBatchSize),
            nonFinite: try arguments.value("non-finite", default: .fail),
            locking: arguments.flag("no-file-locking") ? .disabled : .libraryDefault)
        guard options.batchSize > 0 else { throw UsageError("--batch-size must be positive") }
        let set = try ShardDiscovery.find(arguments.positionals[0])
        let json = arguments.flag("json")
        var listings: [ShardListing] = []
        for shard in set.shards {
            let listing = ShardListing.inspect(shard, options: options, scan: arguments.flag("scan"))
            if !json { emit(listing.line) }
            listings.append(listing)
        }
        let bad = listings.filter { $0.error != nil }.count
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            emit(String(decoding: try encoder.encode(listings), as: UTF8.self))
        } else {
            let events = listings.compactMap(\.events).reduce(0, +)
            emit("\(listings.count) shard\(listings.count == 1 ? "" : "s") under \(set.root): \(listings.count - bad) ok (\(events) events), \(bad) bad")
        }
        return bad == 0 ? ExitStatus.success : ExitStatus.failure
    }
}

/// What `pairs shards` reports for one shard; the JSON keys are documented in schemas/shards.md.
struct ShardListing: Encodable {
    struct Feature: Encodable {
        let name: String
        let dtype: String
    }

    struct Scan: Encodable {
        let events: Int
        let skipped: Int
        let nonfinite: [String: Int]
    }

    let path: String
    var size: Int?
    var digest: String?
    var layout: String?
    var dataset: String?
    var events: Int?
    var features: [Feature]?
    var chunks: [Int]?
    var compression: [String]?
    var scan: Scan?
    var error: String?

    /// Inspects one shard; never throws: every problem ends up in `error`.
    static func inspect(_ shard: ShardFile, options: ShardReadOptions, scan: Bool) -> ShardListing {
        var listing = ShardListing(path: shard.relativePath)
        do {
            let identity = try ShardIdentity.compute(shard)
            listing.size = identity.size
            listing.digest = identity.digest
            let reader = try ShardReader(shard, options: options)
            listing.layout = reader.layout.rawValue
            listing.dataset = reader.datasetPath
            listing.events = reader.events
            listing.features = reader.availableFeatures.map { Feature(name: $0.name, dtype: $0.dtype) }
            listing.chunks = reader.chunking
            listing.compression = reader.compression
            if scan {
                var read = 0
                try reader.forEachBatch { read += $0.count }
                listing.scan = Scan(events: read, skipped: reader.skippedEvents,
                                    nonfinite: Dictionary(uniqueKeysWithValues: zip(reader.features, reader.nonFiniteCounts).filter { $0.1 > 0 }))
            }
        } catch {
            listing.error = "\(error)"
        }
        return listing
    }

    /// One line of text output.
    var line: String {
        if let error { return "BAD  \(path)  \(error)" }
        var parts = ["ok   \(path)", "\(layout!) \(dataset!)", "\(events!) events"]
        parts.append("features " + features!.map { "\($0.name):\($0.dtype)" }.joined(separator: " "))
        parts.append(chunks.map { "chunks " + $0.map(String.init).joined(separator: "x") } ?? "contiguous")
        parts.append(compression!.isEmpty ? "uncompressed" : compression!.joined(separator: "+"))
        if let scan {
            let nonfinite = scan.nonfinite.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: " ")
            parts.append("scanned \(scan.events) events" + (scan.skipped > 0 ? ", skipped \(scan.skipped) (non-finite \(nonfinite))" : ""))
        }
        parts.append(ByteCountFormatter.string(fromByteCount: Int64(size!), countStyle: .binary))
        parts.append(digest!)
        return parts.joined(separator: "  ")
    }

    func encode(to encoder: Encoder) throws {
        enum Key: String, CodingKey { case path, size, digest, layout, dataset, events, features, chunks, compression, scan, error }
        var container = encoder.container(keyedBy: Key.self)
        // Every key is always present (null when unknown), so consumers need not test for absence.
        try container.encode(path, forKey: .path)
        try container.encode(size, forKey: .size)
        try container.encode(digest, forKey: .digest)
        try container.encode(layout, forKey: .layout)
        try container.encode(dataset, forKey: .dataset)
        try container.encode(events, forKey: .events)
        try container.encode(features, forKey: .features)
        try container.encode(chunks, forKey: .chunks)
        try container.encode(compression, forKey: .compression)
        try container.encode(scan, forKey: .scan)
        try container.encode(error, forKey: .error)
    }
}

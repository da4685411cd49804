import HDF5

/// Why a shard cannot be used, naming the shard, the dataset inside it (when known) and the reason.
public struct ShardError: Error, CustomStringConvertible, Sendable {
    /// The shard's path relative to its shard root (or as given).
    public let shard: String
    /// The dataset or group inside the file, when the problem is tied to one.
    public let dataset: String?
    public let reason: Reason

    public enum Reason: Error, Sendable, Equatable {
        /// libhdf5 cannot open the file: truncated, corrupt, not HDF5, or unreadable.
        case unreadable(String)
        /// No object in the file has one of the accepted layouts.
        case unknownLayout(String)
        /// More than one object could hold the events; `--dataset` must choose.
        case ambiguous(candidates: [String])
        /// Requested features that the layout does not have, with those it does have.
        case missingFeatures(missing: [String], available: [String])
        /// A feature whose type cannot be converted to Float32 (strings, enums, arrays…).
        case unsupportedType(feature: String, dtype: String)
        /// The 1-D datasets of a column group do not all have the same length.
        case raggedColumns(lengths: [String: Int])
        /// The shard holds zero events.
        case noEvents
        /// A compression filter this libhdf5 cannot decode.
        case filterUnavailable(id: Int, name: String)
        /// NaN or ±Inf values found, counted per feature, in rows `rows` (policy `fail`).
        case nonFinite(counts: [String: Int], rows: Range<Int>)
        /// Reading data failed after the shard was opened (corrupt chunk, value out of Float32 range, I/O).
        case readFailed(String)
    }

    public init(shard: String, dataset: String?, reason: Reason) {
        self.shard = shard
        self.dataset = dataset
        self.reason = reason
    }

    public var description: String {
        let place = dataset.map { "shard '\(shard)', dataset '\($0)'" } ?? "shard '\(shard)'"
        return "\(place): \(reasonText)"
    }

    /// The reason in words, without the shard and dataset.
    public var reasonText: String {
        switch reason {
        case .unreadable(let why):
            return "cannot open as HDF5 (truncated, corrupt or not an HDF5 file): \(why)"
        case .unknownLayout(let why):
            return "unknown layout: \(why)"
        case .ambiguous(let candidates):
            return "several objects could hold the events (\(candidates.joined(separator: ", "))): choose one with --dataset"
        case .missingFeatures(let missing, let available):
            return "missing feature\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", ")) (available: \(available.joined(separator: ", ")))"
        case .unsupportedType(let feature, let dtype):
            return "feature '\(feature)' has type \(dtype), which cannot be read as a number (use an integer or float type)"
        case .raggedColumns(let lengths):
            let listed = lengths.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
            return "ragged column group: the 1-D datasets have different lengths (\(listed))"
        case .noEvents:
            return "the shard holds no events"
        case .filterUnavailable(let id, let name):
            let hint = id == 32000
                ? "h5py's LZF is not built into libhdf5: rewrite the shard with gzip, or install an LZF plugin (e.g. `pip install hdf5plugin`) and point HDF5_PLUGIN_PATH at its plugin directory"
                : "install the plugin and point HDF5_PLUGIN_PATH at its directory"
            return "compression filter '\(name)' (id \(id)) is not available in this libhdf5: \(hint)"
        case .nonFinite(let counts, let rows):
            let listed = counts.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
            return "non-finite values (NaN/Inf) in rows \(rows.lowerBound)..<\(rows.upperBound) (\(listed)); use --non-finite skip to drop and count those events"
        case .readFailed(let why):
            return "reading failed: \(why)"
        }
    }
}

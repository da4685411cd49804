import HDF5

/// The three ways pairs accepts events in a shard (see schemas/shards.md).
public enum ShardLayout: String, Sendable, CaseIterable {
    /// (a) A 2-D numeric dataset, events × features, with a `features` attribute naming the columns.
    case matrix
    /// (b) A 1-D compound dataset whose numeric fields are the features (ATLAS training-dataset-dumper, PyTables).
    case compound
    /// (c) A group of equal-length 1-D numeric datasets, one per feature (ROOT-branch style converters).
    case columns
}

/// A feature offered by a shard: its name and its stored type (numpy-style, e.g. `float32`).
public struct FeatureColumn: Sendable, Equatable, Hashable {
    public let name: String
    public let dtype: String
    /// Whether the stored type converts to a number (integer or float of any width).
    public let isNumeric: Bool

    public init(name: String, dtype: String, isNumeric: Bool = true) {
        self.name = name
        self.dtype = dtype
        self.isNumeric = isNumeric
    }
}

/// An object in a shard that holds events in one of the accepted layouts.
struct LayoutCandidate {
    let path: String
    let layout: ShardLayout
    let features: [FeatureColumn]
    /// Number of events (rows); for a ragged column group, the largest length.
    let events: Int
    /// For a column group whose datasets differ in length: each dataset's length.
    let raggedLengths: [String: Int]?

    func has(_ names: [String]) -> Bool {
        let offered = Set(features.map(\.name))
        return names.allSatisfy(offered.contains)
    }

    var summary: String { "\(path) (\(layout.rawValue))" }
}

/// Finds where the events are in an open shard.
enum LayoutDetector {
    /// How deep the default search descends into groups.
    static let searchDepth = 6

    /// The candidate at an explicit path, or why the object there is not in an accepted layout.
    static func candidate(at path: String, in root: Group) throws(HDF5Error) -> Result<LayoutCandidate, ShardError.Reason> {
        switch try root.kind(of: path) {
        case nil:
            return .failure(.unknownLayout("no object '\(path)' in the file (top level: \(try root.memberNames().joined(separator: ", ")))"))
        case .group?:
            let group = try root.openGroup(path)
            if let found = try columnGroup(group) { return .success(found) }
            return .failure(.unknownLayout("group '\(group.path)' holds no 1-D numeric datasets"))
        case .dataset?:
            let dataset = try root.openDataset(path)
            return try datasetCandidate(dataset)
        case let other?:
            return .failure(.unknownLayout("'\(path)' is a \(other), not a dataset or group"))
        }
    }

    /// Every candidate in the file, searched from the root group.
    static func search(_ root: Group) throws(HDF5Error) -> (candidates: [LayoutCandidate], seen: [String]) {
        var candidates: [LayoutCandidate] = [], seen: [String] = []
        func visit(_ group: Group, depth: Int) throws(HDF5Error) {
            if let found = try columnGroup(group) { candidates.append(found) }
            for name in try group.memberNames() {
                switch try group.kind(of: name) {
                case .group? where depth < searchDepth:
                    try visit(try group.openGroup(name), depth: depth + 1)
                case .dataset?:
                    let dataset = try group.openDataset(name)
                    switch try datasetCandidate(dataset) {
                    case .success(let found): candidates.append(found)
                    case .failure: seen.append(try describe(dataset))
                    }
                default: break
                }
            }
        }
        try visit(root, depth: 0)
        return (candidates, seen)
    }

    /// A dataset as a matrix or compound candidate.
    static func datasetCandidate(_ dataset: Dataset) throws(HDF5Error) -> Result<LayoutCandidate, ShardError.Reason> {
        let dims = try dataset.dimensions()
        let type = try dataset.datatype()
        if dims.count == 1 && type.typeClass == .compound {
            let features = try type.fields().map { FeatureColumn(name: $0.name, dtype: $0.type.name, isNumeric: $0.type.isNumeric) }
            return .success(LayoutCandidate(path: dataset.path, layout: .compound, features: features, events: dims[0], raggedLengths: nil))
        }
        if dims.count == 2 && type.isNumeric {
            guard try dataset.hasAttribute("features") else {
                return .failure(.unknownLayout("2-D dataset \(try describe(dataset)) has no 'features' attribute naming its columns"))
            }
            let names: [String]
            switch try dataset.readAttribute("features") {
            case .strings(let list) where list.count == 1 && dims[1] > 1:
                names = list[0].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            case .strings(let list): names = list
            default: return .failure(.unknownLayout("the 'features' attribute of \(dataset.path) is not a list of strings"))
            }
            guard names.count == dims[1] else {
                return .failure(.unknownLayout("the 'features' attribute of \(dataset.path) names \(names.count) columns, the dataset has \(dims[1])"))
            }
            guard Set(names).count == names.count else {
                return .failure(.unknownLayout("the 'features' attribute of \(dataset.path) repeats a name"))
            }
            return .success(LayoutCandidate(path: dataset.path, layout: .matrix,
                                            features: names.map { FeatureColumn(name: $0, dtype: type.name) },
                                            events: dims[0], raggedLengths: nil))
        }
        return .failure(.unknownLayout("\(try describe(dataset)) is neither a 2-D numeric dataset nor a 1-D compound dataset"))
    }

    /// A group whose direct 1-D numeric datasets are the features, or nil if it has none.
    static func columnGroup(_ group: Group) throws(HDF5Error) -> LayoutCandidate? {
        var features: [FeatureColumn] = [], lengths: [String: Int] = [:]
        for name in try group.memberNames() where try group.kind(of: name) == .dataset {
            let dataset = try group.openDataset(name)
            let dims = try dataset.dimensions(), type = try dataset.datatype()
            guard dims.count == 1, type.isNumeric else { continue }
            features.append(FeatureColumn(name: name, dtype: type.name))
            lengths[name] = dims[0]
        }
        guard !features.isEmpty else { return nil }
        let distinct = Set(lengths.values)
        return LayoutCandidate(path: group.path, layout: .columns, features: features, events: distinct.max() ?? 0,
                               raggedLengths: distinct.count > 1 ? lengths : nil)
    }

    /// Picks the one candidate holding all `requested` features, or says why there is none.
    static func choose(_ candidates: [LayoutCandidate], requested: [String]?, seen: [String]) -> Result<LayoutCandidate, ShardError.Reason> {
        guard !candidates.isEmpty else {
            let objects = seen.isEmpty ? "the file has no datasets" : "found \(seen.joined(separator: ", "))"
            return .failure(.unknownLayout("no 2-D dataset with a 'features' attribute, 1-D compound dataset or group of 1-D numeric datasets (\(objects))"))
        }
        let matching = requested.map { names in candidates.filter { $0.has(names) } } ?? candidates
        switch matching.count {
        case 1:
            return .success(matching[0])
        case 0 where candidates.count == 1:
            let only = candidates[0]
            return .failure(.missingFeatures(missing: requested!.filter { !only.has([$0]) }, available: only.features.map(\.name)))
        case 0:
            return .failure(.missingFeatures(missing: requested!, available: candidates.map { "\($0.path): " + $0.features.map(\.name).joined(separator: " ") }))
        default:
            return .failure(.ambiguous(candidates: matching.map(\.summary)))
        }
    }

    static func describe(_ dataset: Dataset) throws(HDF5Error) -> String {
        "\(dataset.path) (\(try dataset.dimensions().count)-D \(try dataset.datatype().name))"
    }
}

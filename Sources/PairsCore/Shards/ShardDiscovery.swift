import Foundation

/// One shard file found by discovery.
public struct ShardFile: Sendable, Hashable {
    /// Absolute path of the file.
    public let path: String
    /// Path relative to the shard root: the shard's name in reports, ledgers and work items.
    public let relativePath: String

    public init(path: String, relativePath: String) {
        self.path = path
        self.relativePath = relativePath
    }
}

/// The shards named by one user argument: the root they are named relative to and the files, sorted
/// by relative path so every process sees the same order.
public struct ShardSet: Sendable {
    public let root: String
    public let shards: [ShardFile]
}

/// Why discovery found nothing usable.
public struct ShardDiscoveryError: Error, CustomStringConvertible, Sendable {
    public let spec: String
    public let reason: String
    public var description: String { "shards '\(spec)': \(reason)" }
}

/// Finds HDF5 shards from a directory (searched recursively), a glob (`*`, `?`, `[…]` within a path
/// component, `**` across directories) or a list file (one directory, glob or shard per line, `#` comments,
/// relative entries resolved against the list file's directory).
///
/// Only files named `*.h5` or `*.hdf5` (any case) are shards; directory walks skip hidden entries (names
/// starting with `.`, e.g. half-copied rsync temporaries) and follow symbolic links without looping.
public enum ShardDiscovery {
    public static func find(_ spec: String) throws(ShardDiscoveryError) -> ShardSet {
        try Finder(spec: spec).run()
    }

    /// One discovery run; every failure names the user's argument.
    private struct Finder {
        let spec: String

        func fail(_ reason: String) -> ShardDiscoveryError { ShardDiscoveryError(spec: spec, reason: reason) }

        func run() throws(ShardDiscoveryError) -> ShardSet {
            let absolute = absolutePath(spec)
            var files: [String]
            var root: String
            if isGlob(spec) {
                (root, files) = try glob(absolute)
            } else {
                switch fileKind(absolute) {
                case .directory:
                    root = absolute
                    files = try walk(absolute)
                case .file where isShardName(absolute):
                    root = parent(of: absolute)
                    files = [absolute]
                case .file:
                    files = try listFile(absolute)
                    root = commonDirectory(of: files) ?? parent(of: absolute)
                case .missing:
                    throw fail("no such file or directory")
                }
            }
            files = Array(Set(files))
            guard !files.isEmpty else { throw fail("no *.h5 or *.hdf5 files found") }
            let shards = files.map { ShardFile(path: $0, relativePath: relative($0, to: root)) }
            return ShardSet(root: root, shards: shards.sorted { $0.relativePath < $1.relativePath })
        }

        private func listFile(_ path: String) throws(ShardDiscoveryError) -> [String] {
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw fail("cannot read the list file (unreadable, or not UTF-8 text)")
            }
            let base = parent(of: path)
            var files: [String] = []
            for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let line = rawLine.trimmingCharacters(in: .whitespaces)
                if line.isEmpty || line.hasPrefix("#") { continue }
                let entry = standardized(line.hasPrefix("/") ? line : base + "/" + line)
                if isGlob(line) {
                    files += try glob(entry).files
                    continue
                }
                switch fileKind(entry) {
                case .directory: files += try walk(entry)
                case .file where isShardName(entry): files.append(entry)
                case .file: throw fail("line \(number + 1): '\(line)' is not an .h5/.hdf5 file (list files do not nest)")
                case .missing: throw fail("line \(number + 1): '\(line)' does not exist")
                }
            }
            return files
        }

        /// All shard files under `directory`, recursively.
        func walk(_ directory: String) throws(ShardDiscoveryError) -> [String] {
            var visited = Set<DirectoryID>()
            var found: [String] = []
            func visit(_ dir: String) throws(ShardDiscoveryError) {
                guard let id = DirectoryID(dir), visited.insert(id).inserted else { return }
                for name in try entries(dir) where !name.hasPrefix(".") {
                    let path = dir + "/" + name
                    switch fileKind(path) {
                    case .directory: try visit(path)
                    case .file where isShardName(name): found.append(path)
                    default: break
                    }
                }
            }
            try visit(directory)
            return found
        }

        /// Files matching an absolute glob pattern; the root is the longest literal directory prefix.
        func glob(_ pattern: String) throws(ShardDiscoveryError) -> (root: String, files: [String]) {
            let components = pattern.split(separator: "/").map(String.init)
            let literal = components.prefix { !isGlob($0) }
            let rootComponents = literal.count == components.count ? literal.dropLast() : literal
            let root = "/" + rootComponents.joined(separator: "/")
            var found: [String] = []
            func match(_ dir: String, _ rest: ArraySlice<String>) throws(ShardDiscoveryError) {
                guard let head = rest.first else { return }
                if head == "**" {
                    try match(dir, rest.dropFirst())  // zero directories
                    for name in try entries(dir) where !name.hasPrefix(".") && fileKind(dir + "/" + name) == .directory {
                        try match(dir + "/" + name, rest)
                    }
                    return
                }
                for name in try entries(dir) where fnmatch(head, name, FNM_PERIOD) == 0 {
                    let path = dir + "/" + name
                    let kind = fileKind(path)
                    if rest.count == 1 {
                        if kind == .file && isShardName(name) { found.append(path) }
                        if kind == .directory { found += try walk(path) }
                    } else if kind == .directory {
                        try match(path, rest.dropFirst())
                    }
                }
            }
            guard fileKind(root) == .directory else { throw fail("directory '\(root)' does not exist") }
            try match(root == "/" ? "" : root, components.dropFirst(rootComponents.count))
            return (root, found)
        }

        /// The sorted entries of a directory; an unreadable directory is an error, never silently skipped.
        private func entries(_ dir: String) throws(ShardDiscoveryError) -> [String] {
            do {
                return try FileManager.default.contentsOfDirectory(atPath: dir.isEmpty ? "/" : dir).sorted()
            } catch {
                throw fail("cannot list directory '\(dir.isEmpty ? "/" : dir)': \(error.localizedDescription)")
            }
        }
    }

    // MARK: path helpers

    static func isGlob<S: StringProtocol>(_ text: S) -> Bool { text.contains { "*?[".contains($0) } }

    static func isShardName(_ path: String) -> Bool {
        let lower = path.lowercased()
        return lower.hasSuffix(".h5") || lower.hasSuffix(".hdf5")
    }

    enum Kind { case file, directory, missing }

    /// The kind of `path`, following symbolic links.
    static func fileKind(_ path: String) -> Kind {
        var info = stat()
        guard stat(path, &info) == 0 else { return .missing }
        switch info.st_mode & S_IFMT {
        case S_IFDIR: return .directory
        case S_IFREG: return .file
        default: return .missing
        }
    }

    private struct DirectoryID: Hashable {
        let device: UInt64, inode: UInt64
        init?(_ path: String) {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
        }
    }

    static func absolutePath(_ path: String) -> String {
        standardized(path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path)
    }

    /// Removes `.` and `..` components and repeated slashes, without resolving symbolic links.
    static func standardized(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }

    static func relative(_ path: String, to root: String) -> String {
        let prefix = root.hasSuffix("/") ? root : root + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }

    /// The deepest directory containing every path.
    static func commonDirectory(of paths: [String]) -> String? {
        guard var common = paths.first.map(parent(of:)) else { return nil }
        for path in paths.dropFirst() {
            while common != "/" && !path.hasPrefix(common + "/") { common = parent(of: common) }
        }
        return common
    }
}

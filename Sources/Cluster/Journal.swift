import Digest
import Foundation

/// The coordinator's crash-safe record of a run: a header naming the run (protocol version, model digest, plan
/// digest), then one record per assignment, merged partial and failed attempt, each written and fsync'd before
/// the assignment is sent or the partial acknowledged. Replaying it after a crash rebuilds the ledger and the exact sums, so a restarted
/// coordinator never merges an item twice and loses nothing that was acknowledged (schemas/wire.md, *Journal*).
///
/// On disk: the 8 bytes `PAIRSJNL`, then records of [u32 payload length][first 4 bytes of SHA-256(payload)]
/// [payload], little-endian. A record cut short or failing its checksum can only be the last one (a crash
/// mid-write); it is dropped and counted, and anything after a bad record is refused as corruption.
public enum Journal {
    static let magic = Array("PAIRSJNL".utf8)
    static let maxRecord = 64 << 20

    /// What a journal belongs to; a journal is only replayed into the run it was written for.
    public struct Header: Sendable, Equatable {
        public var protocolVersion: UInt16
        public var modelDigest: String
        /// `Journal.planDigest(_:)` of the shards and item split.
        public var planDigest: String

        public init(protocolVersion: UInt16 = Wire.protocolVersion, modelDigest: String, planDigest: String) {
            self.protocolVersion = protocolVersion
            self.modelDigest = modelDigest
            self.planDigest = planDigest
        }
    }

    /// One accounting event of the run.
    public enum Record: Sendable, Equatable {
        /// A partial that was validated and merged, by the worker that sent it.
        case merged(Partial, worker: String)
        /// A failed attempt at an item (the ledger decides whether it is retried or failed for good).
        case attemptFailed(item: UInt64, worker: String, reason: String)
        /// An item handed to a worker: after a restart, that worker's partial for it is still accepted.
        case assigned(item: UInt64, worker: String)
    }

    /// SHA-256 over the item size and every planned shard (relative path, events), in plan order.
    public static func planDigest(_ plan: RunPlan) -> String {
        var w = WireWriter()
        w.u64(UInt64(plan.rowsPerItem))
        w.u32(UInt32(plan.shards.count))
        for shard in plan.shards {
            w.string(shard.file.relativePath)
            w.u64(UInt64(shard.events))
        }
        return "sha256:" + SHA256.hex(of: w.bytes)
    }

    static func encode(_ header: Header) -> [UInt8] {
        var w = WireWriter()
        w.u8(0)
        w.u16(header.protocolVersion)
        w.string(header.modelDigest)
        w.string(header.planDigest)
        return w.bytes
    }

    static func encode(_ record: Record) -> [UInt8] {
        var w = WireWriter()
        switch record {
        case .merged(let partial, let worker):
            w.u8(1)
            w.string(worker)
            partial.encode(into: &w)
        case .attemptFailed(let item, let worker, let reason):
            w.u8(2)
            w.u64(item)
            w.string(worker)
            w.string(reason)
        case .assigned(let item, let worker):
            w.u8(3)
            w.u64(item)
            w.string(worker)
        }
        return w.bytes
    }

    static func checksum(_ payload: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(payload)
        return Array(hasher.finalize().prefix(4))
    }

    static func frame(_ payload: [UInt8]) -> [UInt8] {
        var w = WireWriter()
        w.u32(UInt32(payload.count))
        return w.bytes + checksum(payload) + payload
    }

    /// A journal's contents: its header, its records in order, and the bytes of a torn last record dropped.
    public struct Contents: Sendable {
        public var header: Header
        public var records: [Record]
        public var tornBytes: Int
    }

    /// Reads a whole journal; any defect other than a torn last record is a `JournalError` naming it.
    public static func read(_ path: String) throws(JournalError) -> Contents {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw JournalError(path: path, reason: "cannot be read")
        }
        return try parse([UInt8](data), path: path)
    }

    /// Parses journal bytes (`path` only names them in errors).
    public static func parse(_ bytes: [UInt8], path: String) throws(JournalError) -> Contents {
        func fail(_ why: String) -> JournalError { JournalError(path: path, reason: why) }
        guard bytes.count >= magic.count, Array(bytes.prefix(magic.count)) == magic else {
            throw fail("not a pairs journal (it does not start with PAIRSJNL)")
        }
        var offset = magic.count
        var payloads: [[UInt8]] = []
        var torn = 0
        while offset < bytes.count {
            let left = bytes.count - offset
            guard left >= 8 else { torn = left; break }
            let length = Int(bytes[offset]) | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2]) << 16 | Int(bytes[offset + 3]) << 24
            guard length <= maxRecord else { throw fail("record \(payloads.count) claims \(length) bytes (corrupt length)") }
            guard left >= 8 + length else { torn = left; break }
            let payload = Array(bytes[offset + 8..<offset + 8 + length])
            guard checksum(payload) == Array(bytes[offset + 4..<offset + 8]) else {
                // A checksum failure on the very last record is a torn write; anywhere else the file is damaged.
                if offset + 8 + length == bytes.count { torn = left; break }
                throw fail("record \(payloads.count) at byte \(offset) fails its checksum")
            }
            payloads.append(payload)
            offset += 8 + length
        }
        guard let first = payloads.first else { throw fail("has no header record") }
        var r = WireReader(first)
        let header: Header
        do throws(WireError) {
            guard try r.u8("record kind") == 0 else { throw WireError("the first record is not a header") }
            header = Header(protocolVersion: try r.u16("protocol version"), modelDigest: try r.string("model digest", limit: 256),
                            planDigest: try r.string("plan digest", limit: 256))
            try r.finish("header")
        } catch {
            throw fail("header: \(error.reason)")
        }
        var records: [Record] = []
        for (i, payload) in payloads.dropFirst().enumerated() {
            var r = WireReader(payload)
            do throws(WireError) {
                switch try r.u8("record kind") {
                case 1:
                    let worker = try r.string("worker", limit: 256)
                    records.append(.merged(try Partial.decode(&r), worker: worker))
                case 2:
                    records.append(.attemptFailed(item: try r.u64("item"), worker: try r.string("worker", limit: 256),
                                                  reason: try r.string("reason")))
                case 3:
                    records.append(.assigned(item: try r.u64("item"), worker: try r.string("worker", limit: 256)))
                case let kind:
                    throw WireError("unknown record kind \(kind)")
                }
                try r.finish("record")
            } catch {
                throw fail("record \(i + 1): \(error.reason)")
            }
        }
        return Contents(header: header, records: records, tornBytes: torn)
    }

    /// Appends records to a journal file, each one on disk (fsync) before `append` returns.
    public final class Writer {
        public let path: String
        private let fd: Int32

        /// Creates a new journal holding `header` (the file must not exist).
        public init(path: String, header: Header) throws(JournalError) {
            self.path = path
            fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw JournalError(path: path, reason: "cannot be created: \(String(cString: strerror(errno)))") }
            try write(Journal.magic + Journal.frame(Journal.encode(header)))
        }

        /// Reopens an existing journal for appending, first cutting off a torn last record of `tornBytes`.
        public init(appendingTo path: String, tornBytes: Int) throws(JournalError) {
            self.path = path
            fd = open(path, O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { throw JournalError(path: path, reason: "cannot be opened: \(String(cString: strerror(errno)))") }
            let end = lseek(fd, 0, SEEK_END)
            guard end >= 0, ftruncate(fd, end - off_t(tornBytes)) == 0, lseek(fd, 0, SEEK_END) >= 0 else {
                throw JournalError(path: path, reason: "cannot cut off the torn last record: \(String(cString: strerror(errno)))")
            }
        }

        deinit { close(fd) }

        /// Writes one record and waits until it is on disk.
        public func append(_ record: Record) throws(JournalError) {
            try write(Journal.frame(Journal.encode(record)))
        }

        private func write(_ bytes: [UInt8]) throws(JournalError) {
            var done = 0
            while done < bytes.count {
                let n = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress! + done, bytes.count - done) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw JournalError(path: path, reason: "write failed: \(String(cString: strerror(errno)))")
                }
                done += n
            }
            guard fsync(fd) == 0 else { throw JournalError(path: path, reason: "fsync failed: \(String(cString: strerror(errno)))") }
        }
    }
}

/// A journal that cannot be used: which file and why.
public struct JournalError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let reason: String
    public var description: String { "journal '\(path)': \(reason)" }
}

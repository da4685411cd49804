import Foundation
import Digest

/// A shard's stable identity: where it sits under the shard root, its size, and the SHA-256 of its bytes.
/// Two files with the same digest hold the same events, wherever they were copied to.
public struct ShardIdentity: Sendable, Hashable, Codable {
    public let relativePath: String
    public let size: Int
    /// `sha256:` followed by 64 hex digits.
    public let digest: String

    /// Streams the whole file once through SHA-256 in 1 MiB reads.
    public static func compute(_ shard: ShardFile) throws(ShardError) -> ShardIdentity {
        let fail = { (why: String) in ShardError(shard: shard.relativePath, dataset: nil, reason: .unreadable(why)) }
        let fd = open(shard.path, O_RDONLY)
        guard fd >= 0 else { throw fail("cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var hasher = SHA256()
        var size = 0
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        while true {
            let got = read(fd, buffer.baseAddress, buffer.count)
            if got < 0 {
                if errno == EINTR { continue }
                throw fail("read failed after \(size) bytes: \(String(cString: strerror(errno)))")
            }
            if got == 0 { break }
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<got]))
            size += got
        }
        return ShardIdentity(relativePath: shard.relativePath, size: size, digest: "sha256:" + hasher.hexDigest())
    }
}

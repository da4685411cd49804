import Foundation
import Testing
@testable import PairsCore
import Digest

@Suite struct DiscoveryTests {
    /// root/{a.h5, b.HDF5, notes.txt, .hidden.h5, run2/c.h5, run2/deep/d.h5, .tmp/e.h5}
    func tree() throws -> String {
        let root = temporaryDirectory()
        let fm = FileManager.default
        for dir in ["run2/deep", ".tmp"] { try fm.createDirectory(atPath: root + "/" + dir, withIntermediateDirectories: true) }
        for file in ["a.h5", "b.HDF5", "notes.txt", ".hidden.h5", "run2/c.h5", "run2/deep/d.h5", ".tmp/e.h5"] {
            fm.createFile(atPath: root + "/" + file, contents: Data([1]))
        }
        return root
    }

    @Test func directoryIsSearchedRecursivelySkippingHiddenEntries() throws {
        let root = try tree()
        let set = try ShardDiscovery.find(root)
        #expect(set.root == root)
        #expect(set.shards.map(\.relativePath) == ["a.h5", "b.HDF5", "run2/c.h5", "run2/deep/d.h5"])
    }

    @Test func globsMatchComponentsAndDoubleStarCrossesDirectories() throws {
        let root = try tree()
        #expect(try ShardDiscovery.find(root + "/*.h5").shards.map(\.relativePath) == ["a.h5"])
        let deep = try ShardDiscovery.find(root + "/**/*.h5")
        #expect(deep.root == root)
        #expect(deep.shards.map(\.relativePath) == ["a.h5", "run2/c.h5", "run2/deep/d.h5"])
        #expect(try ShardDiscovery.find(root + "/run?").shards.map(\.relativePath) == ["run2/c.h5", "run2/deep/d.h5"])
    }

    @Test func listFileResolvesRelativeEntriesAndUsesTheCommonRoot() throws {
        let root = try tree()
        try "# shards for run 2\nrun2/deep/d.h5\n\n\(root)/run2/c.h5\nrun2/c.h5\n".write(toFile: root + "/list.txt", atomically: true, encoding: .utf8)
        let set = try ShardDiscovery.find(root + "/list.txt")
        #expect(set.root == root + "/run2")
        #expect(set.shards.map(\.relativePath) == ["c.h5", "deep/d.h5"])
    }

    @Test func problemsNameTheArgument() throws {
        let root = try tree()
        let missing = #expect(throws: ShardDiscoveryError.self) { try ShardDiscovery.find(root + "/nope") }
        #expect(missing?.description.contains("no such file or directory") == true)
        try "a.h5\nnotes.txt\n".write(toFile: root + "/bad.list", atomically: true, encoding: .utf8)
        let bad = #expect(throws: ShardDiscoveryError.self) { try ShardDiscovery.find(root + "/bad.list") }
        #expect(bad?.reason.contains("line 2") == true)
        let empty = temporaryDirectory()
        #expect(throws: ShardDiscoveryError.self) { try ShardDiscovery.find(empty) }
    }

    @Test func symlinkLoopsDoNotHang() throws {
        let root = try tree()
        try FileManager.default.createSymbolicLink(atPath: root + "/run2/loop", withDestinationPath: root)
        let set = try ShardDiscovery.find(root)
        #expect(set.shards.count == 4)
    }
}

@Suite struct ShardIdentityTests {
    @Test func shardIdentityIsSizeAndDigestOfTheBytes() throws {
        let path = temporaryDirectory() + "/x.h5"
        let bytes = Array("the same events".utf8)
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        let identity = try ShardIdentity.compute(ShardFile(path: path, relativePath: "x.h5"))
        #expect(identity.size == bytes.count)
        #expect(identity.digest == "sha256:" + SHA256.hex(of: bytes))
    }
}

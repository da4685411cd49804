import Foundation
import Testing
import Digest

@Suite struct SHA256Tests {
    @Test func sha256KnownAnswers() {
        #expect(SHA256.hex(of: []) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(of: Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(of: Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hex(of: [UInt8](repeating: 0x61, count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func incrementalUpdatesMatchOneShot() {
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<10_000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        var hasher = SHA256()
        var offset = 0
        for size in [1, 63, 64, 65, 127, 1000, 3] + Array(repeating: 500, count: 20) where offset < bytes.count {
            let end = min(offset + size, bytes.count)
            hasher.update(bytes[offset..<end])
            offset = end
        }
        hasher.update(bytes[offset...])
        #expect(hasher.hexDigest() == SHA256.hex(of: bytes))
    }

    @Test func copiesHashIndependently() {
        var a = SHA256()
        a.update(Array("ab".utf8))
        var b = a
        b.update(Array("c".utf8))
        #expect(a.hexDigest() == SHA256.hex(of: Array("ab".utf8)))
        #expect(b.hexDigest() == SHA256.hex(of: Array("abc".utf8)))
        a.update(Array("c".utf8))
        #expect(a.hexDigest() == b.hexDigest())
    }

    @Test func finalizingDoesNotEndTheStream() {
        var hasher = SHA256()
        hasher.update(Array("abc".utf8))
        _ = hasher.finalize()
        hasher.update(Array("def".utf8))
        #expect(hasher.hexDigest() == SHA256.hex(of: Array("abcdef".utf8)))
    }
}

import Foundation
import Testing
@testable import ExactSum

/// A reproducible generator (SplitMix64) so property tests are the same on every run.
struct TestRandom: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Floats of every kind: wide magnitudes, subnormals, zeros, exact cancellations.
func adversarialFloats(_ count: Int, _ rng: inout TestRandom) -> [Float] {
    (0..<count).map { i in
        switch i % 7 {
        case 0: return Float.random(in: -1...1, using: &rng)
        case 1: return Float(sign: Bool.random(using: &rng) ? .minus : .plus, exponent: Int.random(in: -149...127, using: &rng),
                             significand: Float.random(in: 1..<2, using: &rng))
        case 2: return Float(bitPattern: UInt32.random(in: 1..<0x0080_0000, using: &rng))  // subnormal
        case 3: return 0
        case 4: return Float.random(in: -1e30...1e30, using: &rng)
        case 5: return -Float.random(in: 1e-30...1e-20, using: &rng)
        default: return Float.random(in: -1e-3...1e-3, using: &rng)
        }
    }
}

func sum(_ values: [Float]) -> ExactSum {
    var s = ExactSum()
    for v in values { s.add(v) }
    return s
}

@Suite struct ExactSumProperties {
    @Test func permutationsAndSplitsGiveIdenticalState() {
        var rng = TestRandom(state: 1)
        let values = adversarialFloats(3_000, &rng) + adversarialFloats(50, &rng).flatMap { [$0, -$0] }
        let reference = sum(values)
        for _ in 0..<25 {
            let shuffled = values.shuffled(using: &rng)
            let parts = Int.random(in: 1...9, using: &rng)
            var accumulators = [ExactSum](repeating: ExactSum(), count: parts)
            for v in shuffled { accumulators[Int.random(in: 0..<parts, using: &rng)].add(v) }
            var merged = ExactSum()
            for a in accumulators.shuffled(using: &rng) { merged.merge(a) }
            #expect(merged == reference)
            #expect(merged.doubleValue.bitPattern == reference.doubleValue.bitPattern)
            #expect(merged.encoded() == reference.encoded())
        }
    }

    @Test func blockPathEqualsValueByValueWithExclusions() {
        var rng = TestRandom(state: 2)
        let columns = 13, rows = 700
        let block = adversarialFloats(rows * columns, &rng)
        let excluded = (0..<rows).filter { _ in Int.random(in: 0..<10, using: &rng) == 0 }
        var fast = [ExactSum](repeating: ExactSum(), count: columns)
        var adder = ExactBlockSum(columns: columns)
        let ok = block.withUnsafeBufferPointer { adder.add($0, rows: 3..<rows, excluding: excluded[...], into: &fast) }
        #expect(ok)
        var slow = [ExactSum](repeating: ExactSum(), count: columns)
        for r in 3..<rows where !excluded.contains(r) {
            for c in 0..<columns { slow[c].add(block[r * columns + c]) }
        }
        #expect(fast == slow)
        // A strided column goes through the same window path.
        var column = ExactSum()
        block.withUnsafeBufferPointer { column.add(contentsOf: UnsafeBufferPointer(rebasing: $0[5...]), stride: columns) }
        #expect(column == sum(stride(from: 5, to: block.count, by: columns).map { block[$0] }))
    }

    @Test func nonFiniteBlockAddsNothing() {
        var sums = [ExactSum](repeating: ExactSum(), count: 2)
        var adder = ExactBlockSum(columns: 2)
        let block: [Float] = [1, 2, .nan, 3, 4, 5]
        #expect(!block.withUnsafeBufferPointer { adder.add($0, rows: 0..<3, into: &sums) })
        #expect(sums.allSatisfy { $0.isZero })
        // Excluding the bad row makes the block acceptable.
        #expect(block.withUnsafeBufferPointer { adder.add($0, rows: 0..<3, excluding: [1], into: &sums) })
        #expect(sums.map(\.doubleValue) == [5, 7])
    }

    @Test func adversarialSumsAreExact() {
        var s = ExactSum()
        s.add(Float(1e30)); s.add(Float(1)); s.add(Float(-1e30))
        #expect(s.doubleValue == 1)
        var tiny = ExactSum()
        for _ in 0..<1_000_000 { tiny.add(Double.leastNonzeroMagnitude) }
        #expect(tiny.doubleValue == 1_000_000 * Double.leastNonzeroMagnitude)
        var huge = ExactSum()
        for _ in 0..<1024 { huge.add(Double.greatestFiniteMagnitude) }
        #expect(huge.doubleValue == .infinity)
        #expect(huge.floatValue == .infinity)
        for _ in 0..<1023 { huge.add(-Double.greatestFiniteMagnitude) }
        #expect(huge.doubleValue == .greatestFiniteMagnitude)
        huge.add(-Double.greatestFiniteMagnitude)
        huge.add(-1.5)
        #expect(huge.doubleValue == -1.5 && huge.isNegative)
    }

    @Test func roundingIsToNearestEvenFromTheExactValue() {
        var s = ExactSum()
        s.add(1.0); s.add(0x1p-53)  // exactly halfway between 1 and 1 + 2^-52: ties to even (1)
        #expect(s.doubleValue == 1)
        s.add(0x1p-1074)  // now just above halfway
        #expect(s.doubleValue == 1 + 0x1p-52)
        var f = ExactSum()
        f.add(Float(16_777_216)); f.add(Float(1))  // 2^24 + 1: tie between 2^24 and 2^24 + 2 → even
        #expect(f.floatValue == 16_777_216)
        f.add(0x1p-100)  // above the tie: a Double would round first to 2^24 + 1 and lose this
        #expect(f.floatValue == 16_777_218)
        var sub = ExactSum()
        sub.add(Float.leastNonzeroMagnitude); sub.add(Double(Float.leastNonzeroMagnitude) / 2)  // 1.5 quanta → 2 quanta
        #expect(sub.floatValue == 2 * Float.leastNonzeroMagnitude)
    }
}

@Suite struct ExactSumReferenceVectors {
    struct Vector: Decodable {
        let name: String, kind: String, values: [String], double: String, float: String
    }

    /// Vectors whose exact sums Python computed with fractions.Fraction (and math.fsum).
    @Test func valuesMatchPythonsExactReference() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/exactsum/vectors.json")
        let vectors = try JSONDecoder().decode([Vector].self, from: Data(contentsOf: url))
        #expect(vectors.count == 9)
        for v in vectors {
            var s = ExactSum()
            if v.kind == "float32" {
                let floats = v.values.map { Float(bitPattern: UInt32($0, radix: 16)!) }
                floats.withUnsafeBufferPointer { s.add(contentsOf: $0) }
            } else {
                s.add(contentsOf: v.values.map { Double(bitPattern: UInt64($0, radix: 16)!) })
            }
            #expect(s.doubleValue.bitPattern == UInt64(v.double, radix: 16)!, "\(v.name) double")
            #expect(s.floatValue.bitPattern == UInt32(v.float, radix: 16)!, "\(v.name) float")
        }
    }
}

@Suite struct ExactSumEncoding {
    @Test func roundTripsAndIsCompact() throws {
        var rng = TestRandom(state: 3)
        var cases: [ExactSum] = [ExactSum()]
        var minusOne = ExactSum(); minusOne.add(-0x1p-1074); cases.append(minusOne)
        var minusBig = ExactSum(); minusBig.add(-0x1p-1010); cases.append(minusBig)  // −2^64 units
        var plusBig = ExactSum(); plusBig.add(0x1p-1011); cases.append(plusBig)     // 2^63 units: needs a sign limb
        for _ in 0..<200 { cases.append(sum(adversarialFloats(Int.random(in: 1...40, using: &rng), &rng))) }
        for s in cases {
            let bytes = s.encoded()
            #expect(try ExactSum(encoded: bytes) == s)
        }
        #expect(ExactSum().encoded() == [1, 0, 0])
        var one = ExactSum(); one.add(1.0)
        #expect(one.encoded().count == 11)  // one limb
    }

    @Test func malformedBytesAreRejectedNotCrashed() {
        var one = ExactSum(); one.add(-3.25)
        let good = one.encoded()
        #expect(throws: ExactSumDecodingError.self) { try ExactSum(encoded: [UInt8]()) }
        #expect(throws: ExactSumDecodingError.self) { try ExactSum(encoded: [2] + good.dropFirst()) }
        #expect(throws: ExactSumDecodingError.self) { try ExactSum(encoded: [1, 30, 5] + [UInt8](repeating: 1, count: 40)) }
        #expect(throws: ExactSumDecodingError.self) { try ExactSum(encoded: good.dropLast()) }
        #expect(throws: ExactSumDecodingError.self) { try ExactSum(encoded: [1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]) }  // zero limb
        #expect(throws: ExactSumDecodingError.self) { try ExactSum(encoded: [1, 0, 2, 5, 0, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 8)) }
        var rng = TestRandom(state: 4)
        for _ in 0..<5_000 {
            var bytes = good
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                case 1: if !bytes.isEmpty { bytes.removeLast() }
                default: bytes.append(UInt8.random(in: 0...255, using: &rng))
                }
                if bytes.isEmpty { bytes = [0] }
            }
            if let decoded = try? ExactSum(encoded: bytes) {
                #expect(decoded.encoded() == bytes, "accepted bytes must be canonical")
            }
        }
    }
}

/// A seeded, reproducible random number generator (xoshiro256**, seeded through SplitMix64), so
/// simulations and initialisations give the same numbers on every machine for the same seed.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s0, s1, s2, s3: UInt64

    /// A generator for `seed`; `stream` selects an independent sequence (e.g. one per shard).
    public init(seed: UInt64, stream: UInt64 = 0) {
        var splitmix = seed ^ (stream &* 0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03
        func next() -> UInt64 {
            splitmix &+= 0x9E37_79B9_7F4A_7C15
            var z = splitmix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = next(); s1 = next(); s2 = next(); s3 = next()
    }

    public mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    /// A uniform double in [0, 1) with 53 random bits.
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// A uniform double in `range`.
    public mutating func uniform(in range: ClosedRange<Double>) -> Double {
        range.lowerBound + (range.upperBound - range.lowerBound) * uniform()
    }

    /// A standard normal variate (Marsaglia's polar method; deterministic for a given state).
    public mutating func normal() -> Double {
        while true {
            let u = 2 * uniform() - 1, v = 2 * uniform() - 1
            let s = u * u + v * v
            if s > 0 && s < 1 { return u * (-2 * log(s) / s).squareRoot() }
        }
    }

    /// A Poisson variate with mean `mean` (inversion for small means, a normal approximation with continuity
    /// correction above 10⁶ where the relative error is far below the Poisson spread).
    public mutating func poisson(_ mean: Double) -> Int {
        precondition(mean >= 0 && mean.isFinite, "Poisson mean must be finite and non-negative")
        if mean == 0 { return 0 }
        if mean > 1e6 { return max(0, Int((mean + mean.squareRoot() * normal()).rounded())) }
        if mean < 30 {
            // Inversion by sequential search.
            var k = 0, p = exp(-mean), cumulative = p
            let u = uniform()
            while u > cumulative && k < 1000 {
                k += 1
                p *= mean / Double(k)
                cumulative += p
            }
            return k
        }
        // PTRS (Hörmann 1993): transformed rejection with squeeze, exact for every mean.
        let slam = mean.squareRoot(), loglam = log(mean)
        let b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b, invalpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2)
        while true {
            let u = uniform() - 0.5, v = uniform(), us = 0.5 - abs(u)
            let k = (2 * a / us + b) * u + mean + 0.43
            if us >= 0.07 && v <= vr { return Int(k) }
            if k < 0 || (us < 0.013 && v > us) { continue }
            let kf = k.rounded(.down)
            if log(v) + log(invalpha) - log(a / (us * us) + b) <= -mean + kf * loglam - lgamma(kf + 1) { return Int(kf) }
        }
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

import Foundation
import Numerics

/// A log-likelihood (or log-ratio) evaluated on a grid over the parameters, with the profile of each
/// parameter of interest over the others, the MLE and Wilks intervals. The grid zooms in: a coarse grid over
/// the prior box locates the maximum, then finer grids zoom in on the region within 12.5 log-units of it
/// (beyond 5σ) until it stops shrinking, so narrow likelihoods of large data sets are resolved.
public struct LikelihoodScan: Sendable {
    /// Grid values per parameter (the fine grid).
    public let axes: [[Double]]
    /// log L at every grid point, row-major over `axes`.
    public let values: [Double]
    public let bounds: [ClosedRange<Double>]

    /// One parameter's profile: the maximum of log L over the others at each of its grid values.
    public struct Profile: Sendable, Equatable {
        public var values: [Double]
        /// −2 (profile − max): Wilks' q.
        public var q: [Double]
        public var mle: Double
        public var interval68: ClosedRange<Double>
        public var interval95: ClosedRange<Double>
        /// An interval reached the edge of the prior box before q crossed its level.
        public var atGridEdge: Bool
    }

    /// Scans `logL` (evaluated in batches of θ points) over `bounds` with `resolution` points per axis.
    /// Zoom stages use a grid about half as fine; the last stage uses `resolution`. Without `zoom`, one regular
    /// grid over `bounds`.
    public init(bounds: [ClosedRange<Double>], resolution: [Int], zoom: Bool = true, logL: ([[Double]]) -> [Double]) {
        precondition(bounds.count == resolution.count && resolution.allSatisfy { $0 >= 3 })
        self.bounds = bounds
        let coarse = resolution.map { max(11, $0 / 2 + 1) }
        var window = bounds
        var axes = zip(window, coarse).map { Self.axis($0, $1) }
        var values = zoom ? logL(Self.points(axes)) : []
        // Zoom until the window stops shrinking (at most 8 times): each time to the box holding every point
        // within 12.5 of the maximum plus one step, so the final grid spans about ±5σ.
        for _ in 0..<(zoom ? 8 : 0) {
            guard let best = values.indices.filter({ values[$0].isFinite }).max(by: { values[$0] < values[$1] }) else { break }
            let top = values[best]
            var next = bounds
            for d in axes.indices {
                let marginal = Self.profile(values, axes: axes, along: d)
                let inside = marginal.indices.filter { marginal[$0] >= top - 12.5 }
                let step = axes[d][1] - axes[d][0]
                let lo = max(bounds[d].lowerBound, axes[d][inside.first!] - step), hi = min(bounds[d].upperBound, axes[d][inside.last!] + step)
                next[d] = lo < hi ? lo...hi : window[d]
            }
            let narrower = zip(next, window).contains { n, w in (n.upperBound - n.lowerBound) < 0.6 * (w.upperBound - w.lowerBound) }
            guard narrower else { break }
            window = next
            axes = zip(window, coarse).map { Self.axis($0, $1) }
            values = logL(Self.points(axes))
        }
        axes = zip(window, resolution).map { Self.axis($0, $1) }
        self.axes = axes
        self.values = logL(Self.points(axes))
    }

    static func axis(_ range: ClosedRange<Double>, _ n: Int) -> [Double] {
        (0..<n).map { range.lowerBound + (range.upperBound - range.lowerBound) * Double($0) / Double(n - 1) }
    }

    /// Every grid point, row-major (last axis fastest).
    static func points(_ axes: [[Double]]) -> [[Double]] {
        var result: [[Double]] = [[]]
        for axis in axes { result = result.flatMap { prefix in axis.map { prefix + [$0] } } }
        return result
    }

    /// Maximum of `values` over every axis but `d`, at each grid value of axis d (no refinement).
    static func profile(_ values: [Double], axes: [[Double]], along d: Int) -> [Double] {
        let strides = axes.indices.map { i in axes[(i + 1)...].reduce(1) { $0 * $1.count } }
        var out = [Double](repeating: -.infinity, count: axes[d].count)
        for (index, v) in values.enumerated() {
            let k = (index / strides[d]) % axes[d].count
            if v > out[k] { out[k] = v }
        }
        return out
    }

    /// The profile of parameter `d`: per grid value the maximum over the others, refined by a parabola through
    /// the best nuisance point and its neighbours (2-parameter grids); MLE and intervals from the profile.
    public func profile(_ d: Int) -> Profile {
        var prof = Self.profile(values, axes: axes, along: d)
        if axes.count == 2 {
            let other = 1 - d
            let n = axes[other].count
            for k in axes[d].indices {
                let row = (0..<n).map { j in d == 0 ? values[k * n + j] : values[j * axes[1].count + k] }
                if let j = row.indices.max(by: { row[$0] < row[$1] }), j > 0, j < n - 1 {
                    prof[k] = max(prof[k], Self.parabolaPeak(row[j - 1], row[j], row[j + 1]).value)
                }
            }
        }
        let axis = axes[d]
        guard let best = prof.indices.filter({ prof[$0].isFinite }).max(by: { prof[$0] < prof[$1] }) else {
            return Profile(values: prof, q: prof.map { _ in .infinity }, mle: axis[axis.count / 2], interval68: bounds[d], interval95: bounds[d], atGridEdge: true)
        }
        var mle = axis[best], top = prof[best]
        if best > 0 && best < axis.count - 1 {
            let peak = Self.parabolaPeak(prof[best - 1], prof[best], prof[best + 1])
            mle = axis[best] + peak.offset * (axis[1] - axis[0])
            top = max(top, peak.value)
        }
        let q = prof.map { -2 * ($0 - top) }
        func crossing(_ level: Double) -> (ClosedRange<Double>, Bool) {
            var edge = false
            var lo = axis.first!, hi = axis.last!
            if let i = (0..<best).reversed().first(where: { q[$0] >= level }) {
                lo = axis[i] + (level - q[i]) / (q[i + 1] - q[i]) * (axis[i + 1] - axis[i])
            } else if axis.first! <= bounds[d].lowerBound { edge = true } else { lo = axis.first! }
            if let i = ((best + 1)..<axis.count).first(where: { q[$0] >= level }) {
                hi = axis[i - 1] + (level - q[i - 1]) / (q[i] - q[i - 1]) * (axis[i] - axis[i - 1])
            } else if axis.last! >= bounds[d].upperBound { edge = true } else { hi = axis.last! }
            return (min(lo, mle)...max(hi, mle), edge)
        }
        let (i68, e68) = crossing(1), (i95, e95) = crossing(3.841458820694124)
        return Profile(values: prof, q: q, mle: mle, interval68: i68, interval95: i95, atGridEdge: e68 || e95)
    }

    /// Vertex of the parabola through (−1, a), (0, b), (1, c): offset in steps and value.
    static func parabolaPeak(_ a: Double, _ b: Double, _ c: Double) -> (offset: Double, value: Double) {
        let curvature = a - 2 * b + c
        guard curvature < 0 else { return (0, b) }
        let offset = max(-1, min(1, 0.5 * (a - c) / curvature))
        return (offset, b - 0.25 * (a - c) * offset)
    }

    /// Mean and standard deviation of parameter `d` under the posterior ∝ exp(log L) with a uniform prior,
    /// integrated over the grid (the fine grid holds every point within 12.5 log-units of the maximum).
    public func marginalMoments(_ d: Int) -> (mean: Double, std: Double) {
        let top = values.filter(\.isFinite).max() ?? 0
        let strides = axes.indices.map { i in axes[(i + 1)...].reduce(1) { $0 * $1.count } }
        var weight = 0.0, first = 0.0, second = 0.0
        for (index, v) in values.enumerated() where v.isFinite {
            let x = axes[d][(index / strides[d]) % axes[d].count]
            let w = exp(v - top)
            weight += w
            first += w * x
            second += w * x * x
        }
        let mean = first / weight
        return (mean, max(0, second / weight - mean * mean).squareRoot())
    }
}

extension LREstimator {
    /// log R(θ) for a batch of θ points from the pooled sum Σ t and N: τ(N)·(a(u)·Σ t + N·b(u)) (u the
    /// standardised θ, τ the set-size calibration, 1 unless fitted), plus N log ν(θ) − ν(θ) when `yield` is given
    /// (the extended term, exact and not calibrated).
    public func logRatio(_ thetas: [[Double]], sum: [Double], count: Int, parameters: [Parameter], yield: YieldModel?) -> [Double] {
        guard !thetas.isEmpty else { return [] }
        let p = parameters.count, e = sum.count
        let u = Matrix<Float>(rows: thetas.count, columns: p, values: thetas.flatMap { th in zip(parameters, th).map { Float($0.standardise($1)) } })
        var aWork = MLPWorkspace(for: a, capacity: thetas.count), bWork = MLPWorkspace(for: b, capacity: thetas.count)
        a.forward(u, workspace: &aWork)
        b.forward(u, workspace: &bWork)
        let n = Double(count), tau = temperature(count)
        return thetas.indices.map { g in
            var value = n * Double(bWork.output[g, 0])
            for c in 0..<e { value += Double(aWork.output[g, c]) * sum[c] }
            value *= tau
            if let yield {
                let nu = yield.expected(thetas[g])
                value += nu > 0 ? n * log(nu) - nu : (count == 0 ? 0 : -.infinity)
            }
            return value
        }
    }
}

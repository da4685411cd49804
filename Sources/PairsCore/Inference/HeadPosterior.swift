import Foundation
import Numerics

/// The Gaussian posterior the head gives for a data set summarised by its pooled embedding, in θ units.
public struct GaussianPosterior: Sendable, Equatable {
    public var mean: [Double]
    public var covariance: [[Double]]

    public var std: [Double] { covariance.indices.map { covariance[$0][$0].squareRoot() } }

    /// The central interval of parameter `k` with probability `level` (0.68 or 0.95): mean ± z·std.
    public func interval(_ k: Int, level: Double) -> ClosedRange<Double> {
        let z = GaussianPosterior.z(level)
        return (mean[k] - z * std[k])...(mean[k] + z * std[k])
    }

    /// Two-sided standard-normal quantile for the usual levels (68.27 % → 1, 95 % → 1.96).
    public static func z(_ level: Double) -> Double {
        switch level {
        case 0.68, 0.6827: return 1
        case 0.95: return 1.959963984540054
        default: return (2.0).squareRoot() * inverseErf(level)
        }
    }

    static func inverseErf(_ y: Double) -> Double {
        var x = 0.0  // Newton on erf(x) − y
        for _ in 0..<50 { x -= (erf(x) - y) / (2 / Double.pi.squareRoot() * exp(-x * x)) }
        return x
    }

    /// Applies `head` to (Σ t, N): μ and the packed Cholesky factor L of the precision in standardised units
    /// u, Λᵤ = N·L Lᵀ, then back to θ = centre + halfWidth·u (schemas/model-bundle.md, *Head*).
    public static func from(head: MLP<Float>, sum: [Double], count: Int, parameters: [Parameter]) -> GaussianPosterior {
        precondition(count > 0, "a posterior needs at least one event")
        let e = sum.count, p = parameters.count
        let input = Matrix<Float>(rows: 1, columns: e + 1, values: sum.map { Float($0 / Double(count)) } + [Float(log(Double(count)))])
        var work = MLPWorkspace(for: head, capacity: 1)
        head.forward(input, workspace: &work)
        let out = work.output.values.map(Double.init)
        var lower = [[Double]](repeating: [Double](repeating: 0, count: p), count: p)
        var k = p
        for i in 0..<p {
            for j in 0...i {
                lower[i][j] = i == j ? (out[k] > 20 ? out[k] : log1p(exp(out[k]))) + 1e-6 : out[k]
                k += 1
            }
        }
        // Σᵤ = (N L Lᵀ)⁻¹ = L⁻ᵀ L⁻¹ / N, with L⁻¹ by forward substitution.
        var inverse = [[Double]](repeating: [Double](repeating: 0, count: p), count: p)
        for col in 0..<p {
            for i in 0..<p {
                var s = i == col ? 1.0 : 0.0
                for j in 0..<i { s -= lower[i][j] * inverse[j][col] }
                inverse[i][col] = s / lower[i][i]
            }
        }
        var cov = [[Double]](repeating: [Double](repeating: 0, count: p), count: p)
        for i in 0..<p {
            for j in 0..<p {
                var s = 0.0
                for m in 0..<p { s += inverse[m][i] * inverse[m][j] }
                cov[i][j] = s / Double(count) * parameters[i].halfWidth * parameters[j].halfWidth
            }
        }
        let mean = (0..<p).map { parameters[$0].unstandardise(out[$0]) }
        return GaussianPosterior(mean: mean, covariance: cov)
    }
}

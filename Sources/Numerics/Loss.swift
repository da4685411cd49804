/// Training losses. Each returns the mean loss over the batch (in Float64) and writes dLoss/dprediction.
public enum Loss {
    /// Mean squared error over every element (PyTorch `MSELoss()`).
    @inlinable
    public static func meanSquaredError<T: BLASScalar>(_ prediction: Matrix<T>, _ target: Matrix<T>,
                                                      gradient: inout Matrix<T>) -> Double {
        precondition(prediction.rows == target.rows && prediction.columns == target.columns, "prediction and target shapes differ")
        gradient.resize(rows: prediction.rows)
        let count = prediction.values.count
        guard count > 0 else { return 0 }
        var total = 0.0
        prediction.withUnsafeBufferPointer { p in
            target.withUnsafeBufferPointer { t in
                gradient.withUnsafeMutableBufferPointer { g in
                    let scale = T(2) / T(count)
                    for i in 0..<count {
                        let r = p[i] - t[i]
                        total += Double(r) * Double(r)
                        g[i] = scale * r
                    }
                }
            }
        }
        return total / Double(count)
    }

    /// Binary cross-entropy on logits against 0/1 targets, averaged over every element
    /// (PyTorch `BCEWithLogitsLoss()`), computed stably as max(z,0) − z·t + log(1 + e^{−|z|}).
    @inlinable
    public static func binaryCrossEntropyWithLogits<T: BLASScalar>(_ logits: Matrix<T>, _ target: Matrix<T>,
                                                                  gradient: inout Matrix<T>) -> Double {
        precondition(logits.rows == target.rows && logits.columns == target.columns, "logit and target shapes differ")
        gradient.resize(rows: logits.rows)
        let count = logits.values.count
        guard count > 0 else { return 0 }
        var total = 0.0
        logits.withUnsafeBufferPointer { z in
            target.withUnsafeBufferPointer { t in
                gradient.withUnsafeMutableBufferPointer { g in
                    for i in 0..<count {
                        let zi = Double(z[i]), ti = Double(t[i])
                        total += max(zi, 0) - zi * ti + Double.log1p(Double.exp(-abs(zi)))
                        g[i] = (Activation.logistic(z[i]) - t[i]) / T(count)
                    }
                }
            }
        }
        return total / Double(count)
    }

    /// Number of network outputs for a `parameters`-dimensional Gaussian: the mean, then the packed lower
    /// triangle of the precision's Cholesky factor.
    public static func gaussianOutputSize(parameters p: Int) -> Int { p + p * (p + 1) / 2 }

    /// Gaussian negative log-likelihood of `target` (rows × P) under the distributions the network outputs.
    ///
    /// Row layout of `output` (P + P(P+1)/2 values): the mean μ (P values), then the lower-triangular L packed
    /// row by row — (0,0), (1,0), (1,1), (2,0), … — where diagonal entries pass through softplus(·) + 1e-6 and
    /// off-diagonal entries are used as they are. The precision is Λ = N · L Lᵀ, with N the row's `setSize`
    /// (default 1): the covariance Σ = (L Lᵀ)⁻¹ / N shrinks as 1/N, so the network only learns the
    /// per-event information. NLL = ½ N |Lᵀ(θ − μ)|² − Σ log L_ii − (P/2) log N + (P/2) log 2π, averaged over rows.
    @inlinable
    public static func gaussianNegativeLogLikelihood<T: BLASScalar>(_ output: Matrix<T>, target: Matrix<T>, setSize: [T]? = nil,
                                                                   gradient: inout Matrix<T>) -> Double {
        let p = target.columns, n = target.rows
        precondition(output.columns == gaussianOutputSize(parameters: p) && output.rows == n, "output is not a \(p)-parameter Gaussian")
        precondition(setSize == nil || setSize!.count == n, "one set size per row")
        gradient.resize(rows: n)
        guard n > 0 else { return 0 }
        var total = 0.0
        let logTwoPi = 1.8378770664093453
        var lower = [Double](repeating: 0, count: p * p), r = [Double](repeating: 0, count: p), y = [Double](repeating: 0, count: p)
        let width = output.columns
        output.withUnsafeBufferPointer { out in
            target.withUnsafeBufferPointer { theta in
                gradient.withUnsafeMutableBufferPointer { g in
                    for row in 0..<n {
                        let base = row * width
                        let setN = Double(setSize?[row] ?? 1)
                        // Unpack L and the residual r = θ − μ.
                        var k = p
                        for i in 0..<p {
                            for j in 0...i {
                                let raw = Double(out[base + k])
                                lower[i * p + j] = i == j ? softplus(raw) + 1e-6 : raw
                                k += 1
                            }
                            r[i] = Double(theta[row * p + i]) - Double(out[base + i])
                        }
                        // y = Lᵀ r
                        for j in 0..<p {
                            var s = 0.0
                            for i in j..<p { s += lower[i * p + j] * r[i] }
                            y[j] = s
                        }
                        var quadratic = 0.0, logDet = 0.0
                        for j in 0..<p {
                            quadratic += y[j] * y[j]
                            logDet += Double.log(lower[j * p + j])
                        }
                        total += 0.5 * setN * quadratic - logDet - 0.5 * Double(p) * Double.log(setN) + 0.5 * Double(p) * logTwoPi
                        // dμ_i = −N (L y)_i ;  dL_ij = N r_i y_j − δ_ij / L_ii ;  diagonal through softplus' = σ.
                        let scale = 1 / Double(n)
                        for i in 0..<p {
                            var s = 0.0
                            for j in 0...i { s += lower[i * p + j] * y[j] }
                            g[base + i] = T(-setN * s * scale)
                        }
                        k = p
                        for i in 0..<p {
                            for j in 0...i {
                                var d = setN * r[i] * y[j]
                                if i == j { d = (d - 1 / lower[i * p + i]) * logistic(Double(out[base + k])) }
                                g[base + k] = T(d * scale)
                                k += 1
                            }
                        }
                    }
                }
            }
        }
        return total / Double(n)
    }

    @inlinable @inline(__always) static func softplus(_ x: Double) -> Double { x > 20 ? x : Double.log1p(Double.exp(x)) }
    @inlinable @inline(__always) static func logistic(_ x: Double) -> Double { Activation.logistic(x) }
}

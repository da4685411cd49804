import COpenBLAS

/// Whether a GEMM operand is used as stored or transposed.
public enum Transpose: Sendable {
    case none, transposed
}

/// OpenBLAS set-up shared by every caller: one BLAS thread per calling thread, because pairs gets
/// its parallelism from worker threads and processes, and OpenBLAS' own threads would oversubscribe.
public enum BLAS {
    private static let singleThreaded: Void = { openblas_set_num_threads(1) }()

    /// Makes sure OpenBLAS runs on the caller's thread only (idempotent and cheap).
    public static func configure() { _ = singleThreaded }

    /// The CPU kernel OpenBLAS picked at run time (e.g. `Cooperlake`, `Haswell`).
    public static var coreName: String { String(cString: openblas_get_corename()) }
}

/// `c ← alpha · op(a) · op(b) + beta · c` through BLAS GEMM, with shape preconditions.
@inlinable
public func gemm<T: BLASScalar>(_ a: Matrix<T>, _ b: Matrix<T>, into c: inout Matrix<T>,
                                transposeA: Transpose = .none, transposeB: Transpose = .none,
                                alpha: T = 1, beta: T = 0) {
    let (m, k) = transposeA == .none ? (a.rows, a.columns) : (a.columns, a.rows)
    let (kb, n) = transposeB == .none ? (b.rows, b.columns) : (b.columns, b.rows)
    precondition(k == kb, "gemm: inner dimensions differ (\(m)×\(k) · \(kb)×\(n))")
    precondition(c.rows == m && c.columns == n, "gemm: result is \(c.rows)×\(c.columns), expected \(m)×\(n)")
    guard m > 0, n > 0 else { return }
    if k == 0 {
        if beta == 0 { c.fill(0) } else { c.withUnsafeMutableBufferPointer { for i in $0.indices { $0[i] *= beta } } }
        return
    }
    BLAS.configure()
    let lda = max(a.columns, 1), ldb = max(b.columns, 1), ldc = max(c.columns, 1)
    a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            c.withUnsafeMutableBufferPointer { pc in
                T.gemm(transposeA: transposeA == .transposed, transposeB: transposeB == .transposed, m: m, n: n, k: k,
                       alpha: alpha, a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb,
                       beta: beta, c: pc.baseAddress!, ldc: ldc)
            }
        }
    }
}

import COpenBLAS

/// Whether a GEMM operand is used as stored or transposed.
public enum Transpose: Sendable {
    case none, transposed

    var cblas: CBLAS_TRANSPOSE { self == .none ? CblasNoTrans : CblasTrans }
}

/// OpenBLAS set-up shared by every caller: one BLAS thread per calling thread, because pairs gets
/// its parallelism from worker threads and processes, and OpenBLAS' own threads would oversubscribe.
public enum BLAS {
    private static let singleThreaded: Void = { openblas_set_num_threads(1) }()

    /// Makes sure OpenBLAS runs on the caller's thread only (idempotent and cheap).
    @inline(__always)
    public static func configure() { _ = singleThreaded }

    /// The CPU kernel OpenBLAS picked at run time (e.g. `Cooperlake`, `Haswell`).
    public static var coreName: String { String(cString: openblas_get_corename()) }
}

/// `c ← alpha · op(a) · op(b) + beta · c` through `cblas_sgemm`, with shape preconditions.
public func gemm(_ a: Matrix, _ b: Matrix, into c: inout Matrix, transposeA: Transpose = .none, transposeB: Transpose = .none,
                 alpha: Float = 1, beta: Float = 0) {
    let (m, k) = transposeA == .none ? (a.rows, a.columns) : (a.columns, a.rows)
    let (kb, n) = transposeB == .none ? (b.rows, b.columns) : (b.columns, b.rows)
    precondition(k == kb, "gemm: inner dimensions differ (\(m)×\(k) · \(kb)×\(n))")
    precondition(c.rows == m && c.columns == n, "gemm: result is \(c.rows)×\(c.columns), expected \(m)×\(n)")
    guard m > 0, n > 0 else { return }
    BLAS.configure()
    let lda = Int32(max(a.columns, 1)), ldb = Int32(max(b.columns, 1)), ldc = Int32(max(c.columns, 1))
    a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            c.withUnsafeMutableBufferPointer { pc in
                cblas_sgemm(CblasRowMajor, transposeA.cblas, transposeB.cblas, Int32(m), Int32(n), Int32(k),
                            alpha, pa.baseAddress, lda, pb.baseAddress, ldb, beta, pc.baseAddress, ldc)
            }
        }
    }
}

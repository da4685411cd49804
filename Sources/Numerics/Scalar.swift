import COpenBLAS
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A floating-point type the networks compute in: Float32 for the product, Float64 for gradient checks.
/// It supplies the elementary functions and the BLAS routine of its precision.
public protocol BLASScalar: BinaryFloatingPoint, Sendable where RawSignificand: FixedWidthInteger {
    static func exp(_ x: Self) -> Self
    static func log(_ x: Self) -> Self
    static func log1p(_ x: Self) -> Self
    static func tanh(_ x: Self) -> Self
    static func erf(_ x: Self) -> Self
    /// `values[i] = max(values[i], 0)` for `count` values. Concrete per type, compiled in this module: as an
    /// inlined generic inside the forward pass LLVM did not vectorise it.
    static func rectify(_ values: UnsafeMutablePointer<Self>, count: Int)
    /// Row-major GEMM `c ← alpha·op(a)·op(b) + beta·c` (sgemm or dgemm).
    static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Self,
                     a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
                     beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
}

extension Float: BLASScalar {
    /// The embedder's hot loop. Written for Float itself: the same loop in generic form (even specialised)
    /// compiled to a branch per element instead of vector max instructions.
    public static func rectify(_ values: UnsafeMutablePointer<Float>, count: Int) { rectifyFloats(values, count) }
    @inlinable public static func exp(_ x: Float) -> Float { expf(x) }
    @inlinable public static func log(_ x: Float) -> Float { logf(x) }
    @inlinable public static func log1p(_ x: Float) -> Float { log1pf(x) }
    @inlinable public static func tanh(_ x: Float) -> Float { tanhf(x) }
    @inlinable public static func erf(_ x: Float) -> Float { erff(x) }
    @inlinable
    public static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}

extension Double: BLASScalar {
    /// Float64 is for gradient checks, not speed: a plain loop.
    public static func rectify(_ values: UnsafeMutablePointer<Double>, count: Int) {
        for i in 0..<count where values[i] < 0 { values[i] = 0 }
    }
    @inlinable public static func exp(_ x: Double) -> Double { Glibc.exp(x) }
    @inlinable public static func log(_ x: Double) -> Double { Glibc.log(x) }
    @inlinable public static func log1p(_ x: Double) -> Double { Glibc.log1p(x) }
    @inlinable public static func tanh(_ x: Double) -> Double { Glibc.tanh(x) }
    @inlinable public static func erf(_ x: Double) -> Double { Glibc.erf(x) }
    @inlinable
    public static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Double,
                            a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                            beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int) {
        cblas_dgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}

// The Float kernel as a separate non-inlined function: the form in which LLVM vectorises it.
@inline(never)
private func rectifyFloats(_ values: UnsafeMutablePointer<Float>, _ count: Int) {
    for i in 0..<count { values[i] = values[i] > 0 ? values[i] : 0 }
}

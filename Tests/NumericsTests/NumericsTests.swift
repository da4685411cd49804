import Testing
@testable import Numerics

/// Reference product computed in Double with explicit loops.
func naiveProduct(_ a: Matrix<Float>, _ ta: Transpose, _ b: Matrix<Float>, _ tb: Transpose) -> [Double] {
    let m = ta == .none ? a.rows : a.columns, k = ta == .none ? a.columns : a.rows
    let n = tb == .none ? b.columns : b.rows
    var out = [Double](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n {
            var sum = 0.0
            for p in 0..<k {
                let x = ta == .none ? a[i, p] : a[p, i]
                let y = tb == .none ? b[p, j] : b[j, p]
                sum += Double(x) * Double(y)
            }
            out[i * n + j] = sum
        }
    }
    return out
}

func randomMatrix(_ rows: Int, _ columns: Int, _ rng: inout SeededGenerator) -> Matrix<Float> {
    Matrix(rows: rows, columns: columns, values: (0..<rows * columns).map { _ in Float(rng.normal()) })
}

@Suite struct GEMMTests {
    @Test(arguments: [(Transpose.none, Transpose.none), (.transposed, .none), (.none, .transposed), (.transposed, .transposed)])
    func matchesNaiveProductForEveryTransposeCombination(ta: Transpose, tb: Transpose) {
        var rng = SeededGenerator(seed: 1)
        let (m, k, n) = (37, 19, 23)
        let a = ta == .none ? randomMatrix(m, k, &rng) : randomMatrix(k, m, &rng)
        let b = tb == .none ? randomMatrix(k, n, &rng) : randomMatrix(n, k, &rng)
        var c = Matrix<Float>(rows: m, columns: n, repeating: 1)
        gemm(a, b, into: &c, transposeA: ta, transposeB: tb, alpha: 2, beta: 0.5)
        let reference = naiveProduct(a, ta, b, tb)
        for (got, want) in zip(c.values, reference) {
            #expect(abs(Double(got) - (2 * want + 0.5)) <= 1e-4 * max(1, abs(want)))
        }
    }

    @Test func emptyBatchIsANoOp() {
        var c = Matrix<Float>(rows: 0, columns: 4)
        gemm(Matrix<Float>(rows: 0, columns: 3), Matrix<Float>(rows: 3, columns: 4), into: &c)
        #expect(c.rows == 0)
        #expect(!BLAS.coreName.isEmpty)
    }
}

@Suite struct MatrixTests {
    @Test func resizeKeepsStorageAndZeroFillsNewRows() {
        var m = Matrix<Float>(rows: 4, columns: 2, repeating: 7, rowCapacity: 8)
        m.resize(rows: 1)
        #expect(m.values == [7, 7])
        m.resize(rows: 3)
        #expect(m.values == [7, 7, 0, 0, 0, 0])
        m[2, 1] = 5
        #expect(m.row(2) == [0, 5])
    }
}

@Suite struct RandomTests {
    @Test func sameSeedAndStreamGiveSameNumbersAndStreamsDiffer() {
        var a = SeededGenerator(seed: 42, stream: 3), b = SeededGenerator(seed: 42, stream: 3)
        var c = SeededGenerator(seed: 42, stream: 4)
        let xa = (0..<100).map { _ in a.next() }
        #expect(xa == (0..<100).map { _ in b.next() })
        #expect(xa != (0..<100).map { _ in c.next() })
    }

    @Test func normalHasUnitMomentsAndUniformStaysInRange() {
        var rng = SeededGenerator(seed: 9)
        let n = 200_000
        let xs = (0..<n).map { _ in rng.normal() }
        let mean = xs.reduce(0, +) / Double(n)
        let variance = xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n - 1)
        #expect(abs(mean) < 5 / Double(n).squareRoot())
        #expect(abs(variance - 1) < 0.02)
        #expect((0..<10_000).allSatisfy { _ in (2.0...3.0).contains(rng.uniform(in: 2...3)) })
    }
}

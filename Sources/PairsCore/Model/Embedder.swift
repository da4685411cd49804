import Numerics

/// The workers' hot loop: applies the frozen embedder t(x) to batches of events through preallocated
/// buffers (no allocation per batch).
///
/// Every event's embedding is bitwise independent of how events were batched, split into work items or
/// spread over workers: OpenBLAS rounds a GEMM row differently depending on its position in the GEMM, so
/// every GEMM here has exactly `blockRows` rows and shard row r always sits at position r mod `blockRows`
/// (partial blocks are padded with zero rows).
public final class Embedder {
    public let network: MLP<Float>
    /// Rows of every GEMM. Part of the reproducibility contract: changing it changes last bits of embeddings.
    public static let blockRows = 256
    private var workspace: MLPWorkspace<Float>

    public init(_ network: MLP<Float>) {
        self.network = network
        workspace = MLPWorkspace(for: network, capacity: Self.blockRows)
    }

    /// Embedding dimension E.
    public var outputSize: Int { network.outputSize }

    /// Embeds every row of `batch` and hands `body` each aligned block: the batch rows covered and their
    /// embeddings (rows.count × E, row-major). Rows listed in `batch.skipped` are embedded (as zeros) but
    /// are not events; consumers leave them out. The buffer is reused; copy what must outlive the call.
    public func embed(_ batch: EventBatch, _ body: (_ rows: Range<Int>, _ embeddings: UnsafeBufferPointer<Float>) throws -> Void) rethrows {
        let s = Self.blockRows, e = network.outputSize
        var i = 0
        while i < batch.values.rows {
            let offset = (batch.rows.lowerBound + i) % s
            let take = min(s - offset, batch.values.rows - i)
            network.forward(batch.values, rows: i..<i + take, placement: (offset, s), workspace: &workspace)
            try workspace.output.withUnsafeBufferPointer {
                try body(i..<i + take, UnsafeBufferPointer(rebasing: $0[offset * e..<(offset + take) * e]))
            }
            i += take
        }
    }
}

import Foundation
import HDF5
@testable import PairsCore

/// A fresh temporary directory for one test.
func temporaryDirectory() -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("pairs-core-\(UUID().uuidString)").path
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// The committed h5py-written shards.
let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/h5py").path

/// Deterministic test values that survive every column type: small integers plus a half, or plain
/// integers for integer columns, so Float64 → type → Float32 is exact.
func testValues(rows: Int, columns: [ShardWriter.Column], offset: Int = 0) -> [Double] {
    var values: [Double] = []
    for row in rows.indices(offset: offset) {
        for (j, column) in columns.enumerated() {
            let base = Double((row * 7 + j * 13) % 2001 - 1000)
            switch column.kind {
            case .float32, .float64: values.append(base + 0.5)
            default: values.append(base)
            }
        }
    }
    return values
}

extension Int {
    func indices(offset: Int) -> Range<Int> { offset..<offset + self }
}

/// Writes `events` rows with `ShardWriter` in blocks of 1,000 and returns the values written.
@discardableResult
func writeShard(_ path: String, layout: ShardLayout, columns: [ShardWriter.Column], events: Int,
                storage: ShardWriter.Storage = .init(), datasetPath: String = "events") throws -> [Double] {
    let writer = try ShardWriter(path: path, layout: layout, columns: columns, events: events, datasetPath: datasetPath, storage: storage)
    var all: [Double] = []
    var start = 0
    while start < events {
        let end = min(start + 1000, events)
        let block = testValues(rows: end - start, columns: columns, offset: start)
        try writer.write(rows: start..<end, values: block)
        all += block
        start = end
    }
    try writer.finish()
    return all
}

/// Reads every batch of a shard and concatenates the values.
func readAll(_ path: String, options: ShardReadOptions) throws -> (reader: ShardReader, values: [Float], batches: Int) {
    let reader = try ShardReader(ShardFile(path: path, relativePath: (path as NSString).lastPathComponent), options: options)
    var values: [Float] = [], batches = 0, nextRow = 0
    try reader.forEachBatch { batch in
        precondition(batch.rows.lowerBound == nextRow, "batches must be consecutive")
        nextRow = batch.rows.upperBound
        values += batch.values.values
        batches += 1
    }
    return (reader, values, batches)
}

/// The error a throwing expression raised, as a ShardError.
func shardError(_ body: () throws -> Void) -> ShardError? {
    do { try body() } catch let error as ShardError { return error } catch { return nil }
    return nil
}

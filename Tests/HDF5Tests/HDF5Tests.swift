import Foundation
import Testing
@testable import HDF5

/// A fresh path in a per-test temporary directory.
func temporaryPath(_ name: String) -> String {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pairs-hdf5-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory.appendingPathComponent(name).path
}

@Suite struct HDF5RoundTrip {
    @Test(arguments: [DatasetStorage.contiguous,
                      .chunked(chunk: [7, 3], filters: [.shuffle, .deflate(level: 4)]),
                      .chunked(chunk: [64, 3], filters: [.fletcher32])])
    func rowRangesOfA2DDatasetReadBackExactly(storage: DatasetStorage) throws {
        let path = temporaryPath("matrix.h5")
        let values = (0..<300).map { Double($0) * 0.25 - 11 }
        do {
            let file = try File.create(path)
            let data = try file.root().createDataset("data", type: .standard(.float64), dimensions: [100, 3], storage: storage)
            try data.write(Array(values[0..<150]), rows: 0..<50)
            try data.write(Array(values[150...]), rows: 50..<100)
        }
        let data = try File.open(path).root().openDataset("data")
        #expect(try data.dimensions() == [100, 3])
        #expect(try data.readAll(as: Double.self) == values)

        // Rows 10..<37 of all columns, converted to Float32 into a larger preallocated buffer.
        let file = try data.dataspace()
        try file.selectRows(10..<37)
        var buffer = [Float](repeating: -1, count: 27 * 3 + 5)
        try data.read(into: &buffer, memorySpace: try Dataspace(dimensions: [27 * 3]), fileSpace: file)
        #expect(Array(buffer[0..<81]) == values[30..<111].map(Float.init))
        #expect(buffer[81...].allSatisfy { $0 == -1 })

        let info = try data.storage()
        switch storage {
        case .contiguous: #expect(info.layout == .contiguous && info.filters.isEmpty)
        case .chunked(let chunk, let filters):
            #expect(info.layout == .chunked && info.chunkDimensions == chunk)
            #expect(info.filters.count == filters.count && info.filters.allSatisfy(\.isAvailable))
        }
    }

    @Test func oneColumnIntoAStridedMemoryHyperslab() throws {
        let path = temporaryPath("column.h5")
        let file = try File.create(path)
        let column = try file.root().createDataset("x", type: .standard(.int32), dimensions: [10])
        try column.write((0..<10).map { Int32($0 * 3) })
        // Place rows 2..<6 into column 1 of a 4 × 2 row-major Float buffer.
        let fileSpace = try column.dataspace()
        try fileSpace.selectHyperslab(start: [2], count: [4])
        let memory = try Dataspace(dimensions: [8])
        try memory.selectHyperslab(start: [1], count: [4], stride: [2])
        var buffer = [Float](repeating: 0, count: 8)
        try column.read(into: &buffer, memorySpace: memory, fileSpace: fileSpace)
        #expect(buffer == [0, 6, 0, 9, 0, 12, 0, 15])
    }

    @Test func compoundFieldsAreSelectedByNameAndConverted() throws {
        let path = temporaryPath("compound.h5")
        let fileType = try Datatype.compound(size: 16, fields: [
            ("pt", 0, try .standard(.float64)), ("eta", 8, try .standard(.float32)), ("n", 12, try .standard(.int32)),
        ])
        var records: [UInt8] = []
        for row in 0..<5 {
            withUnsafeBytes(of: Double(row) + 0.5) { records += $0 }
            withUnsafeBytes(of: Float(-row)) { records += $0 }
            withUnsafeBytes(of: Int32(row * 10)) { records += $0 }
        }
        let file = try File.create(path)
        let jets = try file.root().createDataset("jets", type: fileType, dimensions: [5])
        try jets.write(records, memoryType: fileType)

        let stored = try jets.datatype()
        #expect(stored.typeClass == .compound)
        #expect(try stored.fields().map(\.name) == ["pt", "eta", "n"])
        #expect(try stored.fields().map(\.type.name) == ["float64", "float32", "int32"])

        // Read n and pt (in that order) as Float32.
        let memoryType = try Datatype.compound(size: 8, fields: [("n", 0, try .native(.float32)), ("pt", 4, try .native(.float32))])
        var buffer = [Float](repeating: 0, count: 10)
        try jets.read(into: &buffer, memoryType: memoryType)
        #expect(buffer == [0, 0.5, 10, 1.5, 20, 2.5, 30, 3.5, 40, 4.5])
    }

    @Test func attributesOfEveryKind() throws {
        let file = try File.create(temporaryPath("attrs.h5"))
        let root = try file.root()
        try root.writeAttribute("features", .strings(["pt", "η", "mass"]))
        try root.writeAttribute("version", .integers([3]))
        try root.writeAttribute("bounds", .doubles([-3, 3]))
        #expect(try root.attributeNames() == ["bounds", "features", "version"])
        #expect(try root.readAttribute("features") == .strings(["pt", "η", "mass"]))
        #expect(try root.readAttribute("version") == .integers([3]))
        #expect(try root.readAttribute("bounds") == .doubles([-3, 3]))
        try root.writeAttribute("version", .integers([4]))
        #expect(try root.readAttribute("version") == .integers([4]))
        #expect(try !root.hasAttribute("missing"))
    }

    @Test func groupsListMembersAndKinds() throws {
        let file = try File.create(temporaryPath("groups.h5"))
        let root = try file.root()
        let events = try root.createGroup("events")
        _ = try events.createDataset("x", type: .standard(.float32), dimensions: [3])
        #expect(try root.memberNames() == ["events"])
        #expect(try root.kind(of: "events") == .group)
        #expect(try root.kind(of: "events/x") == .dataset)
        #expect(try root.kind(of: "nothing") == nil)
        #expect(try root.kind(of: "nothing/deeper") == nil)
        #expect(try root.openGroup("events").openDataset("x").path == "/events/x")
    }

    @Test func extendibleChunkedDatasetGrows() throws {
        let file = try File.create(temporaryPath("grow.h5"))
        let data = try file.root().createDataset("x", type: .standard(.float32), dimensions: [0], maxDimensions: [nil],
                                                 storage: .chunked(chunk: [4], filters: [.deflate(level: 1)]))
        try data.setExtent([6])
        try data.write([Float](repeating: 2, count: 6), rows: 0..<6)
        #expect(try data.readAll(as: Float.self) == [Float](repeating: 2, count: 6))
    }
}

@Suite struct HDF5Errors {
    @Test func missingFileCarriesTheErrorStack() throws {
        let path = temporaryPath("absent.h5")
        let error = try #require(throws: HDF5Error.self) { try File.open(path) }
        #expect(error.call == "H5Fopen")
        #expect(error.subject == path)
        #expect(!error.stack.isEmpty)
        #expect(error.description.contains("unable to open file"))
    }

    @Test func truncatedFileIsReportedNotPrinted() throws {
        let path = temporaryPath("whole.h5")
        do {
            let file = try File.create(path)
            _ = try file.root().createDataset("x", type: .standard(.float64), dimensions: [10_000]).write([Double](repeating: 1, count: 10_000))
        }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let cut = temporaryPath("cut.h5")
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: cut))
        let error = try #require(throws: HDF5Error.self) { try File.open(cut) }
        #expect(error.mentions("truncated"))
    }

    @Test func bufferTooSmallIsCaughtBeforeHDF5Writes() throws {
        let file = try File.create(temporaryPath("small.h5"))
        let data = try file.root().createDataset("x", type: .standard(.float32), dimensions: [10])
        var buffer = [Float](repeating: 0, count: 9)
        let error = try #require(throws: HDF5Error.self) { try data.read(into: &buffer) }
        #expect(error.reason.contains("needs 40"))
    }

    @Test func scopedOpenHandsTheFileToTheBody() throws {
        let path = temporaryPath("scoped.h5")
        _ = try File.create(path).root().createGroup("g")
        let names = try File.withOpen(path) { file throws(HDF5Error) in try file.root().memberNames() }
        #expect(names == ["g"])
    }

    @Test func fileLockingCanBeTurnedOff() throws {
        let path = temporaryPath("locks.h5")
        _ = try File.create(path, locking: .disabled)
        #expect(try File.open(path, locking: .disabled).path == path)
        #expect(try File.open(path, locking: .enabled).path == path)
    }
}

import ExactSum
import Foundation
import HDF5
import Numerics

/// Which simulated sets an embedding cache holds: set k has θ from the prior and N log-uniform in
/// [minimumSize, maximumSize], both drawn from stream k of `seed`, and its events drawn chunk by chunk
/// (65,536 events per chunk, each chunk from its own stream), so that any worker regenerates any set exactly.
/// Sets are drawn given their size: for extended simulators this is the shape-only (conditional on N) model.
public struct CacheSpec: Sendable, Equatable {
    public var simulator: String
    public var luminosity: Double
    public var sets: Int
    public var minimumSize: Int
    public var maximumSize: Int
    public var seed: UInt64

    public init(simulator: String, luminosity: Double = 1, sets: Int, minimumSize: Int, maximumSize: Int, seed: UInt64) {
        self.simulator = simulator
        self.luminosity = luminosity
        self.sets = sets
        self.minimumSize = minimumSize
        self.maximumSize = maximumSize
        self.seed = seed
    }

    public static let chunkEvents = 65_536

    /// θ and N of set `index`.
    public func set(_ index: Int, of simulator: any Simulator) -> (theta: [Double], count: Int) {
        var rng = SeededGenerator(seed: seed, stream: 0x5E7_0000_0000 + UInt64(index))
        let theta = simulator.drawTheta(using: &rng)
        let logN = rng.uniform(in: log(Double(minimumSize))...log(Double(maximumSize)))
        let count = min(maximumSize, max(minimumSize, Int(exp(logN).rounded())))
        return (theta, count)
    }

    /// Simulates set `index`, embeds it and pools it exactly.
    public func pool(_ index: Int, simulator: any Simulator, embedder: Embedder) throws(PoolingError) -> (theta: [Double], pooled: PooledEmbedding) {
        let (theta, count) = set(index, of: simulator)
        let f = simulator.features.count
        var pooled = PooledEmbedding(dimensions: embedder.outputSize)
        var adder = ExactBlockSum(columns: embedder.outputSize)
        var events: [Double] = []
        var start = 0
        while start < count {
            let n = min(Self.chunkEvents, count - start)
            var rng = SeededGenerator(seed: seed, stream: (UInt64(index) << 24) | UInt64(start / Self.chunkEvents))
            events.removeAll(keepingCapacity: true)
            simulator.sample(count: n, theta: theta, using: &rng, into: &events)
            let batch = EventBatch(values: Matrix(rows: n, columns: f, values: events.map { Float($0) }), firstRow: start)
            if let bad = embedder.pool(batch, adder: &adder, into: &pooled).nonFiniteRows {
                throw .nonFiniteEmbedding(shard: "simulated set \(index)", rows: bad)
            }
            start += n
        }
        return (theta, pooled)
    }
}

/// A file of pooled embeddings of simulated sets (`pairs cache`), for head finetuning.
public struct EmbeddingCache: Sendable {
    public static let formatName = "pairs-embedding-cache"
    public var spec: CacheSpec
    public var parameters: [String]
    public var modelDigest: String
    public var sets: [CachedSet]

    public init(spec: CacheSpec, parameters: [String], modelDigest: String, sets: [CachedSet]) {
        self.spec = spec
        self.parameters = parameters
        self.modelDigest = modelDigest
        self.sets = sets
    }

    /// Writes `theta` [K, P] and `sum` [K, E] (Float64, the correctly rounded exact sums) and `n` [K] (int64).
    public func write(to path: String) throws(HDF5Error) {
        let root = try File.create(path, overwrite: true).root()
        let k = sets.count, p = parameters.count, e = sets.first?.sum.count ?? 0
        try root.writeAttribute("format", .strings([Self.formatName]))
        try root.writeAttribute("format_version", .integers([1]))
        try root.writeAttribute("simulator", .strings([spec.simulator]))
        try root.writeAttribute("luminosity", .doubles([spec.luminosity]))
        try root.writeAttribute("n_range", .integers([Int64(spec.minimumSize), Int64(spec.maximumSize)]))
        try root.writeAttribute("seed", .integers([Int64(bitPattern: spec.seed)]))
        try root.writeAttribute("parameters", .strings(parameters))
        try root.writeAttribute("model_digest", .strings([modelDigest]))
        try root.createDataset("theta", type: .standard(.float64), dimensions: [k, p]).write(sets.flatMap(\.theta))
        try root.createDataset("n", type: .standard(.int64), dimensions: [k]).write(sets.map { Int64($0.count) })
        try root.createDataset("sum", type: .standard(.float64), dimensions: [k, e]).write(sets.flatMap(\.sum))
    }

    /// Reads a cache file; any problem is a `CacheFileError` naming the file and the reason.
    public static func load(_ path: String) throws(CacheFileError) -> EmbeddingCache {
        func fail(_ reason: String) -> CacheFileError { CacheFileError(path: path, reason: reason) }
        do {
            let root = try File.open(path).root()
            func attribute(_ name: String) throws -> AttributeValue {
                guard try root.hasAttribute(name) else { throw fail("missing attribute '\(name)'") }
                return try root.readAttribute(name)
            }
            guard case .strings([formatName])? = try? attribute("format") else { throw fail("not a pairs embedding cache") }
            guard case .strings(let simulatorName) = try attribute("simulator"), simulatorName.count == 1,
                  case .doubles(let luminosity) = try attribute("luminosity"), luminosity.count == 1,
                  case .integers(let range) = try attribute("n_range"), range.count == 2,
                  case .integers(let seed) = try attribute("seed"), seed.count == 1,
                  case .strings(let parameters) = try attribute("parameters"),
                  case .strings(let digest) = try attribute("model_digest"), digest.count == 1 else {
                throw fail("malformed attributes (simulator, luminosity, n_range, seed, parameters, model_digest)")
            }
            let thetaValues = try root.openDataset("theta").readAll(as: Double.self)
            let counts = try root.openDataset("n").readAll(as: Int64.self)
            let sum = try root.openDataset("sum")
            let dims = try sum.dimensions(), sums = try sum.readAll(as: Double.self)
            let k = counts.count, p = parameters.count, e = dims.count == 2 ? dims[1] : 0
            guard thetaValues.count == k * p, sums.count == k * e, counts.allSatisfy({ $0 > 0 }) else {
                throw fail("theta [\(thetaValues.count)], n [\(k)] and sum [\(sums.count)] do not describe \(k) sets of \(p) parameters")
            }
            let sets = (0..<k).map { i in
                CachedSet(theta: Array(thetaValues[i * p..<(i + 1) * p]), count: Int(counts[i]), sum: Array(sums[i * e..<(i + 1) * e]))
            }
            let spec = CacheSpec(simulator: simulatorName[0], luminosity: luminosity[0], sets: k, minimumSize: Int(range[0]),
                                 maximumSize: Int(range[1]), seed: UInt64(bitPattern: seed[0]))
            return EmbeddingCache(spec: spec, parameters: parameters, modelDigest: digest[0], sets: sets)
        } catch let error as CacheFileError {
            throw error
        } catch let error as HDF5Error {
            throw fail(error.reason)
        } catch {
            throw fail("\(error)")
        }
    }
}

/// An embedding cache file that cannot be read.
public struct CacheFileError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let reason: String
    public var description: String { "embedding cache '\(path)': \(reason)" }
}

import Foundation
import HDF5
import Numerics

/// A seeded, reproducible event generator for a parameter point θ.
public protocol Simulator: Sendable {
    /// The name used on the command line (`--simulator NAME`).
    var name: String { get }
    var parameters: [Parameter] { get }
    /// Names of the event features, in column order.
    var features: [String] { get }
    /// Appends `count` events drawn at `theta` to `events` (row-major, `features.count` values per event).
    func sample(count: Int, theta: [Double], using rng: inout SeededGenerator, into events: inout [Double])
}

extension Simulator {
    /// θ from `name=value` assignments; parameters not named take the centre of their prior box.
    public func theta(_ assignments: [String: Double]) throws(SimulatorError) -> [Double] {
        for name in assignments.keys where !parameters.contains(where: { $0.name == name }) {
            throw SimulatorError("simulator '\(self.name)' has no parameter '\(name)' (parameters: \(parameters.map(\.name).joined(separator: ", ")))")
        }
        return try parameters.map { (p) throws(SimulatorError) in
            let value = assignments[p.name] ?? (p.bounds.lowerBound + p.bounds.upperBound) / 2
            guard p.bounds.contains(value) else {
                throw SimulatorError("\(p.name) = \(value) is outside its prior box [\(p.bounds.lowerBound), \(p.bounds.upperBound)]")
            }
            return value
        }
    }
}

/// A bad simulator request (unknown simulator or parameter, value outside the prior box).
public struct SimulatorError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// The built-in simulators by command-line name.
public enum Simulators {
    public static let all: [any Simulator] = [GaussianSimulator()]

    public static func named(_ name: String) throws(SimulatorError) -> any Simulator {
        guard let found = all.first(where: { $0.name == name }) else {
            throw SimulatorError("unknown simulator '\(name)' (available: \(all.map(\.name).joined(separator: ", ")))")
        }
        return found
    }
}

/// x ~ N(μ, σ²): μ ∈ [−3, 3] of interest, σ ∈ [0.5, 2] a nuisance shared by the whole set.
public struct GaussianSimulator: Simulator {
    public let name = "gaussian"
    public let parameters = [Parameter(name: "mu", role: .poi, bounds: -3...3),
                             Parameter(name: "sigma", role: .nuisance, bounds: 0.5...2)]
    public let features = ["x"]

    public init() {}

    public func sample(count: Int, theta: [Double], using rng: inout SeededGenerator, into events: inout [Double]) {
        let (mu, sigma) = (theta[0], theta[1])
        for _ in 0..<count { events.append(mu + sigma * rng.normal()) }
    }
}

/// Writes simulated events at one θ as a set of shards: shard `i` is drawn from stream `i` of `seed`, so
/// the files are identical however often and wherever they are regenerated.
public struct ShardSimulation: Sendable {
    public var events: Int
    public var shards: Int
    public var layout: ShardLayout
    public var dtype: ScalarKind
    public var storage: ShardWriter.Storage
    public var seed: UInt64

    public init(events: Int, shards: Int, layout: ShardLayout = .matrix, dtype: ScalarKind = .float32,
                storage: ShardWriter.Storage = .init(), seed: UInt64 = 1) {
        self.events = events
        self.shards = shards
        self.layout = layout
        self.dtype = dtype
        self.storage = storage
        self.seed = seed
    }

    /// Writes `shard-0000.h5`, … into `directory`; returns their paths.
    public func write(_ simulator: any Simulator, theta: [Double], to directory: String,
                      blockRows: Int = 65_536) throws(HDF5Error) -> [String] {
        precondition(shards > 0 && events >= 0, "need at least one shard and a non-negative event count")
        var paths: [String] = []
        var block: [Double] = []
        for index in 0..<shards {
            let count = events / shards + (index < events % shards ? 1 : 0)
            let path = directory + "/" + String(format: "shard-%04d.h5", index)
            let writer = try ShardWriter(path: path, layout: layout, columns: simulator.features.map { .init($0, dtype) },
                                         events: count, storage: storage)
            var rng = SeededGenerator(seed: seed, stream: UInt64(index))
            var start = 0
            while start < count {
                let n = min(blockRows, count - start)
                block.removeAll(keepingCapacity: true)
                simulator.sample(count: n, theta: theta, using: &rng, into: &block)
                try writer.write(rows: start..<start + n, values: block)
                start += n
            }
            try writer.finish()
            paths.append(path)
        }
        return paths
    }
}

import Foundation
import HDF5
import Numerics

/// A seeded, reproducible event generator with an exact likelihood, for training, caches and validation.
///
/// Events have `features.count` values each. For extended simulators the number of events of a data set is
/// itself random, N ~ Poisson(ν(θ)) with ν the yield model at the simulator's luminosity.
public protocol Simulator: Sendable {
    /// The name used on the command line (`--simulator NAME`).
    var name: String { get }
    var parameters: [Parameter] { get }
    /// Names of the event features, in column order.
    var features: [String] { get }
    /// Expected event count ν(θ) for extended simulators; nil when N is chosen by the user.
    var yieldModel: YieldModel? { get }
    /// Appends `count` events drawn at `theta` to `events` (row-major, `features.count` values per event).
    func sample(count: Int, theta: [Double], using rng: inout SeededGenerator, into events: inout [Double])
    /// The exact likelihood of a data set, prepared once (sufficient statistics or per-event terms).
    func likelihood(of events: [Double]) -> DatasetLikelihood
}

/// The exact likelihood of one data set as a function of θ.
public protocol DatasetLikelihood: Sendable {
    /// Number of events N.
    var count: Int { get }
    /// Σᵢ log p(xᵢ | θ): the likelihood of the events given their number (shape only).
    func logLikelihood(_ theta: [Double]) -> Double
    /// `logLikelihood` at many points; implementations may share work between points.
    func logLikelihoods(_ thetas: [[Double]]) -> [Double]
}

extension DatasetLikelihood {
    public func logLikelihoods(_ thetas: [[Double]]) -> [Double] { thetas.map(logLikelihood) }

    /// `extendedLogLikelihood` at many points.
    public func extendedLogLikelihoods(_ thetas: [[Double]], yield: YieldModel) -> [Double] {
        zip(thetas, logLikelihoods(thetas)).map { theta, shape in
            let nu = yield.expected(theta)
            guard nu > 0 else { return count == 0 ? 0 : -.infinity }
            return shape + Double(count) * log(nu) - nu
        }
    }

    /// Σᵢ log p(xᵢ | θ) + log Poisson(N | ν(θ)) without the θ-independent log N!: the extended likelihood.
    public func extendedLogLikelihood(_ theta: [Double], yield: YieldModel) -> Double {
        let nu = yield.expected(theta)
        guard nu > 0 else { return count == 0 ? 0 : -.infinity }
        return logLikelihood(theta) + Double(count) * log(nu) - nu
    }
}

extension Simulator {
    /// θ from `name=value` assignments; parameters not named take the centre of their prior box.
    public func theta(_ assignments: [String: Double]) throws(SimulatorError) -> [Double] {
        for name in assignments.keys where !parameters.contains(where: { $0.name == name }) {
            throw SimulatorError("simulator '\(self.name)' has no parameter '\(name)' (parameters: \(parameters.map(\.name).joined(separator: ", ")))")
        }
        return try parameters.map { (p) throws(SimulatorError) in
            let value = assignments[p.name] ?? p.centre
            guard p.bounds.contains(value) else {
                throw SimulatorError("\(p.name) = \(value) is outside its prior box [\(p.bounds.lowerBound), \(p.bounds.upperBound)]")
            }
            return value
        }
    }

    /// θ drawn from the uniform prior box.
    public func drawTheta(using rng: inout SeededGenerator) -> [Double] {
        parameters.map { rng.uniform(in: $0.bounds) }
    }

    /// The event count of a data set at `theta`: Poisson(ν(θ)) for extended simulators, else `requested`.
    public func drawCount(theta: [Double], requested: Int, using rng: inout SeededGenerator) -> Int {
        guard let yield = yieldModel else { return requested }
        return rng.poisson(max(0, yield.expected(theta)))
    }

    public var isExtended: Bool { yieldModel != nil }
}

/// A bad simulator request (unknown simulator or parameter, value outside the prior box).
public struct SimulatorError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The built-in simulators by command-line name.
public enum Simulators {
    public static let names = ["gaussian", "bump", "extended-bump", "onoff"]

    /// The simulator `name`; `luminosity` scales the yields of the extended ones.
    public static func named(_ name: String, luminosity: Double = 1) throws(SimulatorError) -> any Simulator {
        guard luminosity > 0, luminosity.isFinite else { throw SimulatorError("luminosity must be positive, got \(luminosity)") }
        switch name {
        case "gaussian": return GaussianSimulator()
        case "bump": return BumpSimulator()
        case "extended-bump": return ExtendedBumpSimulator(luminosity: luminosity)
        case "onoff": return OnOffSimulator(luminosity: luminosity)
        default: throw SimulatorError("unknown simulator '\(name)' (available: \(names.joined(separator: ", ")))")
        }
    }
}

private let logSqrtTwoPi = 0.5 * log(2 * Double.pi)

// MARK: gaussian

/// x ~ N(μ, σ²): μ ∈ [−3, 3] of interest, σ ∈ [0.5, 2] a nuisance shared by the whole set.
public struct GaussianSimulator: Simulator {
    public let name = "gaussian"
    public let parameters = [Parameter(name: "mu", role: .poi, bounds: -3...3), Parameter(name: "sigma", role: .nuisance, bounds: 0.5...2)]
    public let features = ["x"]
    public let yieldModel: YieldModel? = nil

    public init() {}

    public func sample(count: Int, theta: [Double], using rng: inout SeededGenerator, into events: inout [Double]) {
        for _ in 0..<count { events.append(theta[0] + theta[1] * rng.normal()) }
    }

    public func likelihood(of events: [Double]) -> DatasetLikelihood {
        // Sufficient statistics: N, Σx, Σx² (accumulated around the mean for accuracy).
        let n = Double(events.count)
        let mean = events.isEmpty ? 0 : events.reduce(0, +) / n
        let centred = events.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        return Likelihood(count: events.count, mean: mean, centredSquares: centred)
    }

    struct Likelihood: DatasetLikelihood {
        let count: Int
        let mean: Double
        let centredSquares: Double
        func logLikelihood(_ theta: [Double]) -> Double {
            let (mu, sigma) = (theta[0], theta[1]), n = Double(count)
            let squares = centredSquares + n * (mean - mu) * (mean - mu)
            return -n * (log(sigma) + logSqrtTwoPi) - squares / (2 * sigma * sigma)
        }
    }
}

// MARK: bump and extended bump

/// Per-event mixture likelihood f·N(x; m, w²) + (1 − f)·N(x; 0, 1), evaluated exactly event by event.
struct MixtureLikelihood: DatasetLikelihood {
    let events: [Double]
    let width: Double
    /// θ → (signal fraction, signal location).
    let mixture: @Sendable ([Double]) -> (fraction: Double, location: Double)
    var count: Int { events.count }

    /// exp(−x²/2) per event: the background shape does not depend on θ.
    let background: [Double]

    init(events: [Double], width: Double, mixture: @escaping @Sendable ([Double]) -> (fraction: Double, location: Double)) {
        self.events = events
        self.width = width
        self.mixture = mixture
        background = events.map { exp(-0.5 * $0 * $0) }
    }

    func logLikelihood(_ theta: [Double]) -> Double { logLikelihoods([theta])[0] }

    /// Points sharing a signal location share the per-event signal densities (one exp per event and location,
    /// one log per event and point).
    func logLikelihoods(_ thetas: [[Double]]) -> [Double] {
        let mixtures = thetas.map(mixture)
        var result = [Double](repeating: 0, count: thetas.count)
        var signal = [Double](repeating: 0, count: events.count)
        let constant = Double(events.count) * logSqrtTwoPi
        for location in Set(mixtures.map(\.location)).sorted() {
            for (i, x) in events.enumerated() {
                let z = (x - location) / width
                signal[i] = exp(-0.5 * z * z) / width
            }
            for (k, m) in mixtures.enumerated() where m.location == location {
                let f = m.fraction, g = 1 - f
                var total = 0.0
                for i in events.indices { total += log(f * signal[i] + g * background[i]) }
                result[k] = total - constant
            }
        }
        return result
    }
}

/// x ~ f·N(m, 0.1²) + (1 − f)·N(0, 1): signal fraction f ∈ [0, 0.3] of interest, location m ∈ [−1, 2] a nuisance.
public struct BumpSimulator: Simulator {
    public let name = "bump"
    public let parameters = [Parameter(name: "f", role: .poi, bounds: 0...0.3), Parameter(name: "m", role: .nuisance, bounds: -1...2)]
    public let features = ["x"]
    public let yieldModel: YieldModel? = nil

    public init() {}

    public func sample(count: Int, theta: [Double], using rng: inout SeededGenerator, into events: inout [Double]) {
        for _ in 0..<count {
            let signal = rng.uniform() < theta[0]
            events.append(signal ? theta[1] + 0.1 * rng.normal() : rng.normal())
        }
    }

    public func likelihood(of events: [Double]) -> DatasetLikelihood {
        MixtureLikelihood(events: events, width: 0.1) { ($0[0], $0[1]) }
    }
}

/// N ~ Poisson(L·(50μ + 1000ν)); x ~ [50μ·N(1, 0.1²) + 1000ν·N(0, 1)] / (50μ + 1000ν): signal strength
/// μ ∈ [0, 3] of interest, background normalisation ν ∈ [0.8, 1.2] a nuisance.
public struct ExtendedBumpSimulator: Simulator {
    public let name = "extended-bump"
    public let parameters = [Parameter(name: "mu", role: .poi, bounds: 0...3), Parameter(name: "nu", role: .nuisance, bounds: 0.8...1.2)]
    public let features = ["x"]
    public let luminosity: Double
    public var yieldModel: YieldModel? { YieldModel(intercept: 0, coefficients: [50 * luminosity, 1000 * luminosity]) }

    public init(luminosity: Double = 1) { self.luminosity = luminosity }

    static func fraction(_ theta: [Double]) -> Double { 50 * theta[0] / (50 * theta[0] + 1000 * theta[1]) }

    public func sample(count: Int, theta: [Double], using rng: inout SeededGenerator, into events: inout [Double]) {
        let f = Self.fraction(theta)
        for _ in 0..<count {
            events.append(rng.uniform() < f ? 1 + 0.1 * rng.normal() : rng.normal())
        }
    }

    public func likelihood(of events: [Double]) -> DatasetLikelihood {
        MixtureLikelihood(events: events, width: 0.1) { (Self.fraction($0), 1) }
    }
}

// MARK: on/off counting experiment

/// The "learning to profile" counting experiment with a side-band: n1 ~ Poisson(μ·s0 + γ·b0) signal-region
/// events (feature `region` = 1) and n2 ~ Poisson(τ·γ·b0) side-band events (`region` = 0), s0 = 15·L, b0 = 70·L,
/// τ = 1; μ ∈ [0, 5] of interest, γ ∈ [0.6, 1.4] a nuisance. Per event, p(region = 1 | θ) = (μ s0 + γ b0) / ν(θ).
public struct OnOffSimulator: Simulator {
    public let name = "onoff"
    public let parameters = [Parameter(name: "mu", role: .poi, bounds: 0...5), Parameter(name: "gamma", role: .nuisance, bounds: 0.6...1.4)]
    public let features = ["region"]
    public let luminosity: Double
    public let tau = 1.0
    public var s0: Double { 15 * luminosity }
    public var b0: Double { 70 * luminosity }
    public var yieldModel: YieldModel? { YieldModel(intercept: 0, coefficients: [s0, (1 + tau) * b0]) }

    public init(luminosity: Double = 1) { self.luminosity = luminosity }

    func signalRegionProbability(_ theta: [Double]) -> Double {
        let on = theta[0] * s0 + theta[1] * b0
        return on / (on + tau * theta[1] * b0)
    }

    public func sample(count: Int, theta: [Double], using rng: inout SeededGenerator, into events: inout [Double]) {
        let p = signalRegionProbability(theta)
        for _ in 0..<count { events.append(rng.uniform() < p ? 1 : 0) }
    }

    public func likelihood(of events: [Double]) -> DatasetLikelihood {
        let n1 = events.filter { $0 == 1 }.count
        return Likelihood(simulator: self, n1: n1, n2: events.count - n1)
    }

    struct Likelihood: DatasetLikelihood {
        let simulator: OnOffSimulator
        let n1: Int, n2: Int
        var count: Int { n1 + n2 }
        func logLikelihood(_ theta: [Double]) -> Double {
            let p = simulator.signalRegionProbability(theta)
            return (n1 > 0 ? Double(n1) * log(p) : 0) + (n2 > 0 ? Double(n2) * log(1 - p) : 0)
        }
    }

    /// The closed-form profile of the extended likelihood: μ̂ = (n1 − n2/τ)/s0, γ̂ = n2/(τ b0), and for fixed μ
    /// the conditional γ̂̂(μ), the positive root of (1+τ) b0 (s0 μ + b0 γ) γ − n1 b0 γ − n2 (s0 μ + b0 γ) = 0.
    public func conditionalGamma(mu: Double, n1: Int, n2: Int) -> Double {
        let a = (1 + tau) * b0 * b0
        let b = (1 + tau) * b0 * s0 * mu - Double(n1) * b0 - Double(n2) * b0
        let c = -Double(n2) * s0 * mu
        let disc = b * b - 4 * a * c
        return (-b + disc.squareRoot()) / (2 * a)
    }
}

/// Writes simulated events at one θ as a set of shards: shard `i` is drawn from stream `i` of `seed`, so
/// the files are identical however often and wherever they are regenerated. For extended simulators the total
/// count is N ~ Poisson(ν(θ)) (drawn from stream `shards`), split over the shards.
public struct ShardSimulation: Sendable {
    public var events: Int?
    public var shards: Int
    public var layout: ShardLayout
    public var dtype: ScalarKind
    public var storage: ShardWriter.Storage
    public var seed: UInt64

    public init(events: Int?, shards: Int, layout: ShardLayout = .matrix, dtype: ScalarKind = .float32,
                storage: ShardWriter.Storage = .init(), seed: UInt64 = 1) {
        self.events = events
        self.shards = shards
        self.layout = layout
        self.dtype = dtype
        self.storage = storage
        self.seed = seed
    }

    /// Writes `shard-0000.h5`, … into `directory`, each with the true θ and the simulator recorded as
    /// attributes of the events dataset; returns the paths and the total event count.
    public func write(_ simulator: any Simulator, theta: [Double], to directory: String,
                      blockRows: Int = 65_536) throws(HDF5Error) -> (paths: [String], events: Int) {
        precondition(shards > 0, "need at least one shard")
        var countRNG = SeededGenerator(seed: seed, stream: UInt64(shards))
        let total = simulator.isExtended ? simulator.drawCount(theta: theta, requested: 0, using: &countRNG) : (events ?? 0)
        var paths: [String] = []
        var block: [Double] = []
        for index in 0..<shards {
            let count = total / shards + (index < total % shards ? 1 : 0)
            let path = directory + "/" + String(format: "shard-%04d.h5", index)
            let writer = try ShardWriter(path: path, layout: layout, columns: simulator.features.map { .init($0, dtype) },
                                         events: count, storage: storage)
            try writer.annotate([
                "simulator": .strings([simulator.name]), "parameters": .strings(simulator.parameters.map(\.name)),
                "theta": .doubles(theta), "seed": .integers([Int64(bitPattern: seed)]), "events_total": .integers([Int64(total)]),
            ])
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
        return (paths, total)
    }
}

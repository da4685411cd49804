import Foundation
import HDF5
import PairsCore

extension ShardLayout: ArgumentEnum {}
extension ScalarKind: ArgumentEnum {}
extension NonFinitePolicy: ArgumentEnum {}

/// `pairs simulate`: writes reproducible simulated shards at one parameter point.
enum SimulateCommand: Command {
    static let spec = CommandSpec(
        name: "simulate",
        summary: "Write simulated event shards at one parameter point, true θ recorded (reproducible from --seed).",
        positionals: [],
        options: [
            .value("out", "DIR", "Directory to write shard-0000.h5, … into (created if missing). Required."),
            .value("simulator", "NAME", "Built-in simulator (default gaussian): \(Simulators.names.joined(separator: ", "))."),
            .value("theta", "NAME=V,…", "True parameter values, e.g. mu=0.5,sigma=1.2 (default: centre of each prior box)."),
            .value("set", "NAME=V,…", "Same as --theta."),
            .value("events", "N", "Total events over all shards (default 100000); extended simulators draw N ~ Poisson(ν(θ)) instead."),
            .value("luminosity", "L", "Luminosity scale of the extended-bump and onoff yields (default 1)."),
            .value("shards", "K", "Number of shard files (default 4)."),
            .value("layout", "L", "matrix (2-D + features attribute), compound, or columns (default matrix)."),
            .value("dtype", "T", "Stored type of every feature, e.g. float32, float64, int32 (default float32)."),
            .value("chunk-rows", "N", "Rows per HDF5 chunk (default 16384)."),
            .value("gzip", "LEVEL", "gzip level 0-9 with byte shuffle (default 4)."),
            .flag("contiguous", "Write contiguous, uncompressed datasets instead of chunked+gzip."),
            .value("seed", "S", "Random seed; shard i uses stream i (default 1)."),
        ])

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        guard let out: String = try arguments.optional("out") else { throw UsageError("--out DIR is required") }
        let simulator = try Simulators.named(try arguments.value("simulator", default: "gaussian"),
                                             luminosity: try arguments.value("luminosity", default: 1.0))
        let assignments = try arguments.optional("theta", as: Assignments.self) ?? arguments.optional("set", as: Assignments.self)
        let theta = try simulator.theta(assignments?.values ?? [:])
        let requested: Int? = try arguments.optional("events")
        if simulator.isExtended && requested != nil {
            throw UsageError("'\(simulator.name)' draws N ~ Poisson(ν(θ)); set the luminosity (--luminosity) instead of --events")
        }
        let events = requested ?? 100_000
        let shards: Int = try arguments.value("shards", default: 4)
        guard events >= 0, shards > 0 else { throw UsageError("need --events ≥ 0 and --shards ≥ 1") }
        var storage = ShardWriter.Storage(chunkRows: try arguments.value("chunk-rows", default: 16_384),
                                          gzipLevel: try arguments.value("gzip", default: 4), shuffle: true)
        if arguments.flag("contiguous") { storage = .contiguous }
        let simulation = ShardSimulation(events: simulator.isExtended ? nil : events, shards: shards, layout: try arguments.value("layout", default: .matrix),
                                         dtype: try arguments.value("dtype", default: .float32), storage: storage,
                                         seed: try arguments.value("seed", default: 1))
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let (paths, total) = try simulation.write(simulator, theta: theta, to: out)
        let point = zip(simulator.parameters, theta).map { "\($0.name)=\($1)" }.joined(separator: ", ")
        emit("wrote \(paths.count) shards, \(total) events of '\(simulator.name)' at \(point) into \(out)")
        return ExitStatus.success
    }
}

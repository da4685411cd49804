import HDF5
import Numerics

extension ModelBundle {
    /// Reads and checks a bundle: every expected dataset and attribute must be present with the right shape
    /// and type, and nothing unknown may be left over (a typo in an exporter is an error, not a silent default).
    public static func load(_ path: String, locking: File.Locking = .libraryDefault) throws(ModelBundleError) -> ModelBundle {
        var reader = try BundleReader(path: path, locking: locking)
        return try reader.read()
    }

    /// Writes the bundle as Float32 datasets and attributes laid out as in schemas/model-bundle.md.
    public func write(to path: String) throws(ModelBundleError) {
        do {
            let root = try File.create(path, overwrite: true).root()
            try root.writeAttribute("format", .strings([Self.formatName]))
            try root.writeAttribute("format_version", .integers([Int64(Self.formatVersion)]))
            try root.writeAttribute("features", .strings(metadata.features))
            try root.writeAttribute("parameters", .strings(metadata.parameters.map(\.name)))
            try root.writeAttribute("parameter_roles", .strings(metadata.parameters.map(\.role.rawValue)))
            try root.writeAttribute("parameter_low", .doubles(metadata.parameters.map(\.bounds.lowerBound)))
            try root.writeAttribute("parameter_high", .doubles(metadata.parameters.map(\.bounds.upperBound)))
            try root.writeAttribute("set_size_range", .integers([Int64(metadata.setSizeRange.lowerBound), Int64(metadata.setSizeRange.upperBound)]))
            try root.writeAttribute("head_output", .strings([Self.headOutput]))
            try root.writeAttribute("provenance", .strings([metadata.provenance]))
            if let yield = metadata.yieldModel {
                try root.writeAttribute("yield_intercept", .doubles([yield.intercept]))
                try root.writeAttribute("yield_coefficients", .doubles(yield.coefficients))
            }
            try Self.write(embedder, into: root.createGroup("embedder"))
            try Self.write(head, into: root.createGroup("head"))
            if let lr = lrEstimator {
                let group = try root.createGroup("lr_estimator")
                try group.writeAttribute("form", .strings([Self.lrForm]))
                if lr.isCalibrated { try group.writeAttribute("calibration", .doubles([lr.calibration.alpha, lr.calibration.beta])) }
                try Self.write(lr.a, into: group.createGroup("a"))
                try Self.write(lr.b, into: group.createGroup("b"))
            }
        } catch {
            throw ModelBundleError(path: path, item: error.subject, reason: error.reason)
        }
    }

    private static func write(_ mlp: MLP<Float>, into group: Group) throws(HDF5Error) {
        try group.createDataset("input_mean", type: .standard(.float32), dimensions: [mlp.inputSize]).write(mlp.inputMean)
        try group.createDataset("input_std", type: .standard(.float32), dimensions: [mlp.inputSize]).write(mlp.inputStd)
        let layers = try group.createGroup("layers")
        for (i, layer) in mlp.layers.enumerated() {
            let g = try layers.createGroup(String(i))
            try g.writeAttribute("activation", .strings([layer.activation.name]))
            if let parameter = layer.activation.parameter { try g.writeAttribute("activation_parameter", .doubles([parameter])) }
            try g.createDataset("weight", type: .standard(.float32), dimensions: [layer.outputSize, layer.inputSize]).write(layer.weight.values)
            try g.createDataset("bias", type: .standard(.float32), dimensions: [layer.outputSize]).write(layer.bias)
        }
    }
}

/// One strict read of a bundle file: tracks which datasets, groups and attributes were consumed so that
/// anything unknown can be reported.
private struct BundleReader {
    let path: String
    let file: File
    let root: Group
    var datasets: Set<String> = []
    var groups: Set<String> = []
    var attributes: [String: Set<String>] = [:]

    init(path: String, locking: File.Locking) throws(ModelBundleError) {
        self.path = path
        do {
            file = try File.open(path, locking: locking)
            root = try file.root()
        } catch {
            throw ModelBundleError(path: path, item: nil, reason: "cannot open as HDF5: \(error.reason)")
        }
        try wrap(nil) { () throws(HDF5Error) in try walk(root) }
    }

    func fail(_ item: String?, _ reason: String) -> ModelBundleError { ModelBundleError(path: path, item: item, reason: reason) }

    func wrap<R>(_ item: String?, _ body: () throws(HDF5Error) -> R) throws(ModelBundleError) -> R {
        do { return try body() } catch { throw fail(item ?? error.subject, error.reason) }
    }

    private mutating func walk(_ group: Group) throws(HDF5Error) {
        attributes[group.path] = Set(try group.attributeNames())
        for name in try group.memberNames() {
            switch try group.kind(of: name) {
            case .group?:
                let child = try group.openGroup(name)
                groups.insert(child.path)
                try walk(child)
            case .dataset?:
                let dataset = try group.openDataset(name)
                datasets.insert(dataset.path)
                attributes[dataset.path] = Set(try dataset.attributeNames())
            default:
                groups.insert(group.path == "/" ? "/" + name : group.path + "/" + name)  // reported as unknown below
            }
        }
    }

    // MARK: attributes

    mutating func attribute(_ object: String, _ name: String, required: Bool = true) throws(ModelBundleError) -> AttributeValue? {
        guard attributes[object]?.remove(name) != nil else {
            if required { throw fail("\(object)@\(name)", "missing attribute") }
            return nil
        }
        let item = "\(object)@\(name)"
        return try wrap(item) { () throws(HDF5Error) in
            object == "/" ? try root.readAttribute(name)
                : try (try root.kind(of: object) == .dataset ? root.openDataset(object) as Object : root.openGroup(object)).readAttribute(name)
        }
    }

    mutating func strings(_ object: String, _ name: String) throws(ModelBundleError) -> [String] {
        guard case .strings(let values)? = try attribute(object, name) else { throw fail("\(object)@\(name)", "must be a string attribute") }
        return values
    }

    mutating func string(_ object: String, _ name: String, required: Bool = true) throws(ModelBundleError) -> String? {
        guard let value = try attribute(object, name, required: required) else { return nil }
        guard case .strings(let values) = value, values.count == 1 else { throw fail("\(object)@\(name)", "must be one string") }
        return values[0]
    }

    mutating func doubles(_ object: String, _ name: String, required: Bool = true) throws(ModelBundleError) -> [Double]? {
        switch try attribute(object, name, required: required) {
        case nil: return nil
        case .doubles(let values)?: return values
        case .integers(let values)?: return values.map(Double.init)
        case .strings?: throw fail("\(object)@\(name)", "must be numeric")
        }
    }

    mutating func integers(_ object: String, _ name: String) throws(ModelBundleError) -> [Int] {
        guard case .integers(let values)? = try attribute(object, name) else { throw fail("\(object)@\(name)", "must be an integer attribute") }
        return values.map { Int($0) }
    }

    // MARK: tensors and networks

    /// A floating-point dataset read as Float32, with its shape checked against `expected` (nil = any size).
    mutating func tensor(_ path: String, _ expected: [Int?]) throws(ModelBundleError) -> (dims: [Int], values: [Float]) {
        guard datasets.remove(path) != nil else { throw fail(path, "missing dataset") }
        let (dims, values, type) = try wrap(path) { () throws(HDF5Error) in
            let dataset = try root.openDataset(path)
            return (try dataset.dimensions(), try dataset.readAll(as: Float.self), try dataset.datatype())
        }
        guard type.typeClass == .float else { throw fail(path, "must be a floating-point dataset, found \(type.name)") }
        let shapeOK = dims.count == expected.count && zip(dims, expected).allSatisfy { $1 == nil || $0 == $1 }
        guard shapeOK else {
            let want = expected.map { $0.map(String.init) ?? "*" }.joined(separator: "×")
            throw fail(path, "has shape \(dims.map(String.init).joined(separator: "×")), expected \(want)")
        }
        guard values.allSatisfy(\.isFinite) else { throw fail(path, "contains NaN or infinite values") }
        let unexpected = attributes.removeValue(forKey: path) ?? []
        if let name = unexpected.sorted().first { throw fail("\(path)@\(name)", "unknown attribute") }
        return (dims, values)
    }

    mutating func mlp(_ group: String) throws(ModelBundleError) -> MLP<Float> {
        guard groups.remove(group) != nil else { throw fail(group, "missing group") }
        let layersPath = group + "/layers"
        guard groups.remove(layersPath) != nil else { throw fail(layersPath, "missing group") }
        let count = groups.filter { Self.parent(of: $0) == layersPath }.count
        var layers: [Dense<Float>] = []
        var previous: Int? = nil
        for i in 0..<count {
            let layerPath = "\(layersPath)/\(i)"
            guard groups.remove(layerPath) != nil else { throw fail(layerPath, "missing group: layers must be numbered 0…\(count - 1)") }
            let name = try string(layerPath, "activation")!
            let parameter = try doubles(layerPath, "activation_parameter", required: false)?.first
            guard let activation = Activation(name: name, parameter: parameter) else {
                throw fail("\(layerPath)@activation", "unknown activation '\(name)' (known: \(Activation.names.joined(separator: ", ")))")
            }
            let weight = try tensor(layerPath + "/weight", [nil, previous])
            let bias = try tensor(layerPath + "/bias", [weight.dims[0]])
            layers.append(Dense(weight: Matrix(rows: weight.dims[0], columns: weight.dims[1], values: weight.values),
                                bias: bias.values, activation: activation))
            previous = weight.dims[0]
            try finishAttributes(layerPath)
        }
        guard let inputs = layers.first?.inputSize else { throw fail(layersPath, "has no layers") }
        let mean = try tensor(group + "/input_mean", [inputs]).values
        let std = try tensor(group + "/input_std", [inputs]).values
        try finishAttributes(layersPath)
        try finishAttributes(group)
        do {
            return try MLP(inputMean: mean, inputStd: std, layers: layers)
        } catch {
            throw fail(group, error.description)
        }
    }

    mutating func finishAttributes(_ object: String) throws(ModelBundleError) {
        if let name = (attributes.removeValue(forKey: object) ?? []).sorted().first { throw fail("\(object)@\(name)", "unknown attribute") }
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }

    // MARK: the bundle

    mutating func read() throws(ModelBundleError) -> ModelBundle {
        guard try string("/", "format") == ModelBundle.formatName else {
            throw fail("/@format", "not a pairs model bundle (format must be '\(ModelBundle.formatName)')")
        }
        let version = try integers("/", "format_version")
        guard version.count == 1, version[0] >= 1 else { throw fail("/@format_version", "must be one positive integer") }
        guard version[0] <= ModelBundle.formatVersion else {
            throw fail("/@format_version", "format version \(version[0]) is newer than this pairs reads (\(ModelBundle.formatVersion)): upgrade pairs")
        }
        let features = try strings("/", "features")
        let names = try strings("/", "parameters")
        let roleNames = try strings("/", "parameter_roles")
        let low = try doubles("/", "parameter_low")!, high = try doubles("/", "parameter_high")!
        guard roleNames.count == names.count, low.count == names.count, high.count == names.count else {
            throw fail("/", "parameters, parameter_roles, parameter_low and parameter_high must have one entry per parameter")
        }
        var parameters: [Parameter] = []
        for (i, name) in names.enumerated() {
            guard let role = ParameterRole(rawValue: roleNames[i]) else { throw fail("/@parameter_roles", "role '\(roleNames[i])' is not poi or nuisance") }
            guard low[i] < high[i] else { throw fail("/@parameter_low", "prior box of \(name) is empty: [\(low[i]), \(high[i])]") }
            parameters.append(Parameter(name: name, role: role, bounds: low[i]...high[i]))
        }
        let range = try integers("/", "set_size_range")
        guard range.count == 2, range[0] >= 1, range[0] <= range[1] else { throw fail("/@set_size_range", "must be [min, max] with 1 ≤ min ≤ max") }
        guard try string("/", "head_output") == ModelBundle.headOutput else {
            throw fail("/@head_output", "only '\(ModelBundle.headOutput)' is supported")
        }
        let provenance = try string("/", "provenance")!
        var yield: YieldModel? = nil
        if let intercept = try doubles("/", "yield_intercept", required: false) {
            guard intercept.count == 1, let coefficients = try doubles("/", "yield_coefficients") else {
                throw fail("/@yield_intercept", "a yield model needs one yield_intercept and yield_coefficients")
            }
            yield = YieldModel(intercept: intercept[0], coefficients: coefficients)
        }
        let embedder = try mlp("/embedder")
        let head = try mlp("/head")
        var lr: LREstimator? = nil
        if groups.contains("/lr_estimator") {
            groups.remove("/lr_estimator")
            let form = try string("/lr_estimator", "form")!
            guard form == ModelBundle.lrForm else {
                throw fail("/lr_estimator@form", "LR estimator form '\(form)' is not supported by this pairs (supported: \(ModelBundle.lrForm))")
            }
            var calibration = (alpha: 0.0, beta: 0.0)
            if let values = try doubles("/lr_estimator", "calibration", required: false) {
                guard values.count == 2, values.allSatisfy(\.isFinite) else { throw fail("/lr_estimator@calibration", "must be two finite numbers (α, β)") }
                calibration = (values[0], values[1])
            }
            lr = LREstimator(a: try mlp("/lr_estimator/a"), b: try mlp("/lr_estimator/b"), calibration: calibration)
            try finishAttributes("/lr_estimator")
        }
        try finishAttributes("/")
        if let extra = datasets.sorted().first { throw fail(extra, "unknown dataset") }
        if let extra = groups.sorted().first { throw fail(extra, "unknown group or object") }
        if let (object, names) = attributes.first(where: { !$0.value.isEmpty }) { throw fail("\(object)@\(names.sorted()[0])", "unknown attribute") }
        do {
            return try ModelBundle(metadata: ModelMetadata(features: features, parameters: parameters, setSizeRange: range[0]...range[1],
                                                           yieldModel: yield, provenance: provenance),
                                   embedder: embedder, head: head, lrEstimator: lr)
        } catch {
            throw fail(nil, error.description)
        }
    }
}

import CHDF5
#if canImport(Glibc)
import Glibc
#endif

/// The value of an attribute, as pairs reads it: strings (fixed or variable length), integers, or floats.
public enum AttributeValue: Equatable, Sendable {
    case strings([String])
    case integers([Int64])
    case doubles([Double])
}

extension Object {
    /// Names of this object's attributes.
    public func attributeNames() throws(HDF5Error) -> [String] {
        final class Names { var list: [String] = [] }
        let names = Names()
        var index: hsize_t = 0
        _ = try withExtendedLifetime(names) { () throws(HDF5Error) in
            try H5.call("H5Aiterate2", path) {
                H5Aiterate2(id, H5_INDEX_NAME, H5_ITER_INC, &index, { _, name, _, data in
                    guard let name, let data else { return -1 }
                    Unmanaged<Names>.fromOpaque(data).takeUnretainedValue().list.append(String(cString: name))
                    return 0
                }, Unmanaged.passUnretained(names).toOpaque())
            }
        }
        return names.list
    }

    /// Whether the attribute `name` exists.
    public func hasAttribute(_ name: String) throws(HDF5Error) -> Bool {
        try H5.truth("H5Aexists", "\(path)@\(name)") { H5Aexists(id, name) }
    }

    /// Reads the attribute `name`; string attributes of any length/padding come back as `.strings`.
    public func readAttribute(_ name: String) throws(HDF5Error) -> AttributeValue {
        let subject = "\(path)@\(name)"
        let attribute = try H5.call("H5Aopen", subject) { H5Aopen(id, name, chdf5_P_DEFAULT()) }
        defer { H5Aclose(attribute) }
        let type = Datatype(owning: try H5.call("H5Aget_type", subject) { H5Aget_type(attribute) })
        let space = Dataspace(owning: try H5.call("H5Aget_space", subject) { H5Aget_space(attribute) })
        let count = space.elementCount
        switch type.typeClass {
        case .string where type.isVariableLengthString:
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
            _ = try H5.call("H5Aread", subject) { H5Aread(attribute, type.id, &pointers) }
            defer { pointers.forEach { H5free_memory($0) } }
            return .strings(pointers.map { $0.map { String(cString: $0) } ?? "" })
        case .string:
            let width = type.size
            var bytes = [UInt8](repeating: 0, count: width * count)
            _ = try H5.call("H5Aread", subject) { H5Aread(attribute, type.id, &bytes) }
            return .strings((0..<count).map { index in
                let field = bytes[index * width..<(index + 1) * width]
                let text = field.prefix { $0 != 0 }
                return String(decoding: text, as: UTF8.self).trimmingTrailingSpaces
            })
        case .integer:
            var values = [Int64](repeating: 0, count: count)
            _ = try H5.call("H5Aread", subject) { H5Aread(attribute, ScalarKind.int64.nativeID, &values) }
            return .integers(values)
        case .float:
            var values = [Double](repeating: 0, count: count)
            _ = try H5.call("H5Aread", subject) { H5Aread(attribute, ScalarKind.float64.nativeID, &values) }
            return .doubles(values)
        default:
            throw HDF5Error.wrapper("H5Aread", subject, "attribute of type \(type.name) is not a string or number")
        }
    }

    /// Writes (or replaces) the attribute `name`: strings as variable-length UTF-8 (as h5py does),
    /// integers as int64, doubles as float64, all as 1-D arrays.
    public func writeAttribute(_ name: String, _ value: AttributeValue) throws(HDF5Error) {
        let subject = "\(path)@\(name)"
        if try hasAttribute(name) {
            _ = try H5.call("H5Adelete", subject) { H5Adelete(id, name) }
        }
        let count: Int, type: Datatype
        switch value {
        case .strings(let s): count = s.count; type = try .variableLengthString()
        case .integers(let v): count = v.count; type = try .standard(.int64)
        case .doubles(let v): count = v.count; type = try .standard(.float64)
        }
        let space = try Dataspace(dimensions: [count])
        let attribute = try H5.call("H5Acreate2", subject) {
            H5Acreate2(id, name, type.id, space.id, chdf5_P_DEFAULT(), chdf5_P_DEFAULT())
        }
        defer { H5Aclose(attribute) }
        switch value {
        case .strings(let strings):
            let cStrings = strings.map { strdup($0) }
            defer { cStrings.forEach { free($0) } }
            var pointers: [UnsafePointer<CChar>?] = cStrings.map { $0.map { UnsafePointer($0) } }
            _ = try H5.call("H5Awrite", subject) { H5Awrite(attribute, type.id, &pointers) }
        case .integers(var values):
            _ = try H5.call("H5Awrite", subject) { H5Awrite(attribute, ScalarKind.int64.nativeID, &values) }
        case .doubles(var values):
            _ = try H5.call("H5Awrite", subject) { H5Awrite(attribute, ScalarKind.float64.nativeID, &values) }
        }
    }
}

extension String {
    /// Drops the space padding of fixed-length HDF5 strings (H5T_STR_SPACEPAD).
    var trimmingTrailingSpaces: String {
        var text = Substring(self)
        while text.last == " " { text = text.dropLast() }
        return String(text)
    }
}

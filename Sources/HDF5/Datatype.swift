import CHDF5

/// The numeric element types pairs reads and writes, named as numpy names them.
public enum ScalarKind: String, Sendable, CaseIterable {
    case float32, float64, int8, int16, int32, int64, uint8, uint16, uint32, uint64

    /// The in-memory (native) HDF5 type id.
    var nativeID: hid_t {
        switch self {
        case .float32: chdf5_T_NATIVE_FLOAT()
        case .float64: chdf5_T_NATIVE_DOUBLE()
        case .int8: chdf5_T_NATIVE_INT8()
        case .int16: chdf5_T_NATIVE_INT16()
        case .int32: chdf5_T_NATIVE_INT32()
        case .int64: chdf5_T_NATIVE_INT64()
        case .uint8: chdf5_T_NATIVE_UINT8()
        case .uint16: chdf5_T_NATIVE_UINT16()
        case .uint32: chdf5_T_NATIVE_UINT32()
        case .uint64: chdf5_T_NATIVE_UINT64()
        }
    }

    /// The portable little-endian file type id (what h5py writes on x86).
    var standardID: hid_t {
        switch self {
        case .float32: chdf5_T_IEEE_F32LE()
        case .float64: chdf5_T_IEEE_F64LE()
        case .int8: chdf5_T_STD_I8LE()
        case .int16: chdf5_T_STD_I16LE()
        case .int32: chdf5_T_STD_I32LE()
        case .int64: chdf5_T_STD_I64LE()
        case .uint8: chdf5_T_STD_U8LE()
        case .uint16: chdf5_T_STD_U16LE()
        case .uint32: chdf5_T_STD_U32LE()
        case .uint64: chdf5_T_STD_U64LE()
        }
    }
}

/// A Swift type that maps one-to-one onto an HDF5 native numeric type.
public protocol HDF5Scalar {
    init()
    static var scalarKind: ScalarKind { get }
}

extension Float: HDF5Scalar { public static var scalarKind: ScalarKind { .float32 } }
extension Double: HDF5Scalar { public static var scalarKind: ScalarKind { .float64 } }
extension Int8: HDF5Scalar { public static var scalarKind: ScalarKind { .int8 } }
extension Int16: HDF5Scalar { public static var scalarKind: ScalarKind { .int16 } }
extension Int32: HDF5Scalar { public static var scalarKind: ScalarKind { .int32 } }
extension Int64: HDF5Scalar { public static var scalarKind: ScalarKind { .int64 } }
extension UInt8: HDF5Scalar { public static var scalarKind: ScalarKind { .uint8 } }
extension UInt16: HDF5Scalar { public static var scalarKind: ScalarKind { .uint16 } }
extension UInt32: HDF5Scalar { public static var scalarKind: ScalarKind { .uint32 } }
extension UInt64: HDF5Scalar { public static var scalarKind: ScalarKind { .uint64 } }

/// An HDF5 datatype: numeric, string, compound (with named fields) or anything else HDF5 can store.
public final class Datatype {
    let id: hid_t

    /// Takes ownership of an open datatype id.
    init(owning id: hid_t) { self.id = id }

    deinit { H5Tclose(id) }

    /// A private copy of a predefined type (predefined ids must not be closed or modified).
    static func copy(of predefined: hid_t) throws(HDF5Error) -> Datatype {
        Datatype(owning: try H5.call("H5Tcopy") { H5Tcopy(predefined) })
    }

    /// The in-memory type of `kind`.
    public static func native(_ kind: ScalarKind) throws(HDF5Error) -> Datatype { try copy(of: kind.nativeID) }

    /// The little-endian file type of `kind`, for creating datasets.
    public static func standard(_ kind: ScalarKind) throws(HDF5Error) -> Datatype { try copy(of: kind.standardID) }

    /// A variable-length UTF-8 string type (what h5py writes for Python `str`).
    public static func variableLengthString() throws(HDF5Error) -> Datatype {
        let type = try copy(of: chdf5_T_C_S1())
        _ = try H5.call("H5Tset_size") { H5Tset_size(type.id, chdf5_T_VARIABLE()) }
        _ = try H5.call("H5Tset_cset") { H5Tset_cset(type.id, H5T_CSET_UTF8) }
        return type
    }

    /// A compound type of `size` bytes with the given named fields at their byte offsets.
    public static func compound(size: Int, fields: [(name: String, offset: Int, type: Datatype)]) throws(HDF5Error) -> Datatype {
        let type = Datatype(owning: try H5.call("H5Tcreate") { H5Tcreate(H5T_COMPOUND, size) })
        for field in fields {
            _ = try H5.call("H5Tinsert", field.name) { H5Tinsert(type.id, field.name, field.offset, field.type.id) }
        }
        return type
    }

    /// The broad class of a type.
    public enum Class: Equatable, Sendable {
        case integer, float, string, compound, enumeration, array, other
    }

    public var typeClass: Class {
        switch H5Tget_class(id) {
        case H5T_INTEGER: .integer
        case H5T_FLOAT: .float
        case H5T_STRING: .string
        case H5T_COMPOUND: .compound
        case H5T_ENUM: .enumeration
        case H5T_ARRAY: .array
        default: .other
        }
    }

    /// Size of one element in bytes (for variable-length strings: the pointer size).
    public var size: Int { H5Tget_size(id) }

    /// Whether this is a variable-length string type.
    public var isVariableLengthString: Bool { H5Tis_variable_str(id) > 0 }

    /// The numeric kind, if this is a plain integer or IEEE float type pairs can read natively.
    public var scalarKind: ScalarKind? {
        let bits = size * 8
        switch typeClass {
        case .float:
            return bits == 32 ? .float32 : bits == 64 ? .float64 : nil
        case .integer:
            let signed = H5Tget_sign(id) == H5T_SGN_2
            switch (bits, signed) {
            case (8, true): return .int8
            case (16, true): return .int16
            case (32, true): return .int32
            case (64, true): return .int64
            case (8, false): return .uint8
            case (16, false): return .uint16
            case (32, false): return .uint32
            case (64, false): return .uint64
            default: return nil
            }
        default:
            return nil
        }
    }

    /// Whether HDF5 can convert elements of this type to a number (integers and floats of any width).
    public var isNumeric: Bool { typeClass == .integer || typeClass == .float }

    /// A short numpy-style name: `float32`, `int64`, `float16`, `string`, `compound`, `enum`, ….
    public var name: String {
        if let scalarKind { return scalarKind.rawValue }
        switch typeClass {
        case .float: return "float\(size * 8)"
        case .integer: return (H5Tget_sign(id) == H5T_SGN_2 ? "int" : "uint") + "\(size * 8)"
        case .string: return "string"
        case .compound: return "compound"
        case .enumeration: return "enum"
        case .array: return "array"
        case .other: return "other"
        }
    }

    /// One named field of a compound type.
    public struct Field {
        public let name: String
        public let offset: Int
        public let type: Datatype
    }

    /// The fields of a compound type, in stored order (empty for other types).
    public func fields() throws(HDF5Error) -> [Field] {
        guard typeClass == .compound else { return [] }
        let count = try H5.call("H5Tget_nmembers") { H5Tget_nmembers(id) }
        var result: [Field] = []
        for index in 0..<UInt32(count) {
            guard let cName = H5Tget_member_name(id, index) else {
                throw H5.captureError(call: "H5Tget_member_name", subject: "field \(index)")
            }
            let name = String(cString: cName)
            H5free_memory(cName)
            let memberType = Datatype(owning: try H5.call("H5Tget_member_type", name) { H5Tget_member_type(id, index) })
            result.append(Field(name: name, offset: H5Tget_member_offset(id, index), type: memberType))
        }
        return result
    }
}

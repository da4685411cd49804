import Foundation
@testable import Report

/// A validator for the subset of JSON Schema (draft 2020-12) that schemas/report.schema.json uses: type, const,
/// enum, properties, required, additionalProperties, items, minItems, maxItems, minimum, exclusiveMinimum,
/// pattern, anyOf and local $ref. Returns every violation with its JSON path.
struct SchemaValidator {
    let root: JSON

    func validate(_ value: JSON, against schema: JSON? = nil, at path: String = "$") -> [String] {
        let schema = schema ?? root
        var errors: [String] = []
        if let ref = schema["$ref"].string {
            let parts = ref.replacingOccurrences(of: "#/", with: "").split(separator: "/").map(String.init)
            let target = parts.reduce(root) { $0[$1] }
            return validate(value, against: target, at: path)
        }
        if case .array(let alternatives) = schema["anyOf"] {
            if !alternatives.contains(where: { validate(value, against: $0, at: path).isEmpty }) { errors.append("\(path): matches none of anyOf") }
        }
        if !schema["type"].isNull {
            let types = schema["type"].string.map { [$0] } ?? schema["type"].array.compactMap(\.string)
            if !types.contains(where: { matches(value, $0) }) { errors.append("\(path): expected \(types.joined(separator: "|")), got \(value)") }
        }
        if !schema["const"].isNull && !equal(value, schema["const"]) { errors.append("\(path): expected constant \(schema["const"])") }
        if case .array(let options) = schema["enum"], !options.contains(where: { equal(value, $0) }) { errors.append("\(path): not one of \(options)") }
        if let pattern = schema["pattern"].string, let s = value.string, s.range(of: pattern, options: .regularExpression) == nil {
            errors.append("\(path): '\(s)' does not match \(pattern)")
        }
        if let minimum = schema["minimum"].double, let v = value.double, v < minimum { errors.append("\(path): \(v) < \(minimum)") }
        if let minimum = schema["exclusiveMinimum"].double, let v = value.double, v <= minimum { errors.append("\(path): \(v) ≤ \(minimum)") }
        if case .object(let members) = value {
            for name in schema["required"].array.compactMap(\.string) where members[name] == nil { errors.append("\(path): missing '\(name)'") }
            let properties = schema["properties"].object
            for (name, member) in members {
                if let sub = properties[name] {
                    errors += validate(member, against: sub, at: "\(path).\(name)")
                } else if schema["additionalProperties"] == .bool(false) {
                    errors.append("\(path): unexpected '\(name)'")
                } else if case .object = schema["additionalProperties"] {
                    errors += validate(member, against: schema["additionalProperties"], at: "\(path).\(name)")
                }
            }
        }
        if case .array(let items) = value {
            if let n = schema["minItems"].int, items.count < n { errors.append("\(path): \(items.count) items < \(n)") }
            if let n = schema["maxItems"].int, items.count > n { errors.append("\(path): \(items.count) items > \(n)") }
            if !schema["items"].isNull { for (i, item) in items.enumerated() { errors += validate(item, against: schema["items"], at: "\(path)[\(i)]") } }
        }
        return errors
    }

    private func matches(_ value: JSON, _ type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object), ("integer", .int): return true
        case ("number", .int), ("number", .double): return true
        default: return false
        }
    }

    private func equal(_ a: JSON, _ b: JSON) -> Bool {
        if let x = a.double, let y = b.double { return x == y }
        return a == b
    }
}

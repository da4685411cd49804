/// A command-line option: `--name VALUE` (or `--name=VALUE`) when it takes a value, `--name` when a flag.
struct OptionSpec {
    let name: String
    /// Placeholder for the value in help (e.g. `N`); nil for a flag.
    let value: String?
    let help: String

    static func flag(_ name: String, _ help: String) -> OptionSpec { OptionSpec(name: name, value: nil, help: help) }
    static func value(_ name: String, _ placeholder: String, _ help: String) -> OptionSpec {
        OptionSpec(name: name, value: placeholder, help: help)
    }
}

/// What a subcommand accepts, from which its `--help` text is generated.
struct CommandSpec {
    let name: String
    let summary: String
    /// Positional arguments: name and help.
    let positionals: [(name: String, help: String)]
    let options: [OptionSpec]
    /// Whether the last positional may be repeated (one or more values).
    var repeatsLast = false

    var usage: String {
        let positional = positionals.map { "<\($0.name)>" }.joined(separator: " ") + (repeatsLast ? "…" : "")
        return "pairs \(name) \(positional)\(positional.isEmpty ? "" : " ")[options]"
    }

    var help: String {
        var lines = ["\(summary)", "", "Usage: \(usage)"]
        if !positionals.isEmpty {
            lines += ["", "Arguments:"] + positionals.map { "  \($0.name.padding(toLength: 26, withPad: " ", startingAt: 0)) \($0.help)" }
        }
        lines += ["", "Options:"]
        for option in options + [.flag("help", "Show this help.")] {
            let head = "--\(option.name)" + (option.value.map { " \($0)" } ?? "")
            lines.append("  \(head.padding(toLength: 26, withPad: " ", startingAt: 0)) \(option.help)")
        }
        return lines.joined(separator: "\n")
    }
}

/// A mistake in how pairs was called; exits with status 64 (EX_USAGE) after printing the usage.
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Arguments split by the lexer: positionals, option values and flags, checked against a `CommandSpec`.
struct ParsedArguments {
    private(set) var positionals: [String] = []
    private var values: [String: String] = [:]
    private var flags: Set<String> = []
    let wantsHelp: Bool

    /// Lexes `arguments`: `--flag`, `--key value`, `--key=value`, positionals, and `--` ending options.
    init(_ arguments: [String], spec: CommandSpec) throws(UsageError) {
        var index = 0, optionsEnded = false, help = false
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard !optionsEnded, argument.hasPrefix("--") else {
                positionals.append(argument)
                continue
            }
            if argument == "--" { optionsEnded = true; continue }
            let body = argument.dropFirst(2)
            let name = String(body.prefix { $0 != "=" })
            let inline = body.contains("=") ? String(body.drop { $0 != "=" }.dropFirst()) : nil
            if name == "help" { help = true; continue }
            guard let option = spec.options.first(where: { $0.name == name }) else {
                throw UsageError("unknown option --\(name) for 'pairs \(spec.name)'")
            }
            if option.value == nil {
                if inline != nil { throw UsageError("--\(name) is a flag and takes no value") }
                flags.insert(name)
            } else if let inline {
                values[name] = inline
            } else {
                guard index < arguments.count else { throw UsageError("--\(name) needs a value \(option.value!)") }
                values[name] = arguments[index]
                index += 1
            }
        }
        wantsHelp = help
        let countOK = spec.repeatsLast ? positionals.count >= spec.positionals.count : positionals.count == spec.positionals.count
        if !help && !countOK {
            let expected = spec.positionals.map { "<\($0.name)>" }.joined(separator: " ") + (spec.repeatsLast ? "…" : "")
            let quantity = spec.repeatsLast ? "at least \(spec.positionals.count)" : "\(spec.positionals.count)"
            throw UsageError("expected \(quantity) argument\(spec.positionals.count == 1 ? "" : "s") \(expected), got \(positionals.count)")
        }
    }

    func flag(_ name: String) -> Bool { flags.contains(name) }

    /// The value of `--name` parsed as `T`, or nil when absent.
    func optional<T: ArgumentValue>(_ name: String, as _: T.Type = T.self) throws(UsageError) -> T? {
        guard let text = values[name] else { return nil }
        do {
            return try T(argument: text)
        } catch {
            throw UsageError("--\(name) \(text): \(error.description)")
        }
    }

    /// The value of `--name` parsed as `T`, or `fallback` when absent.
    func value<T: ArgumentValue>(_ name: String, default fallback: T) throws(UsageError) -> T {
        try optional(name) ?? fallback
    }
}

/// A type that parses itself from one command-line value.
protocol ArgumentValue {
    init(argument: String) throws(UsageError)
}

extension String: ArgumentValue {
    init(argument: String) { self = argument }
}

extension Int: ArgumentValue {
    init(argument: String) throws(UsageError) {
        guard let value = Int(argument.replacingOccurrences(of: "_", with: "")) else { throw UsageError("not an integer") }
        self = value
    }
}

extension UInt64: ArgumentValue {
    init(argument: String) throws(UsageError) {
        guard let value = UInt64(argument) else { throw UsageError("not a non-negative integer") }
        self = value
    }
}

extension Double: ArgumentValue {
    init(argument: String) throws(UsageError) {
        guard let value = Double(argument), value.isFinite else { throw UsageError("not a finite number") }
        self = value
    }
}

/// A comma-separated list: `a,b,c`.
extension Array: ArgumentValue where Element: ArgumentValue {
    init(argument: String) throws(UsageError) {
        self = try argument.split(separator: ",").map { (item) throws(UsageError) in
            try Element(argument: item.trimmingCharacters(in: .whitespaces))
        }
    }
}

/// `name=value,name=value` assignments of numbers (e.g. `--set mu=0.5,sigma=1.2`).
struct Assignments: ArgumentValue {
    let values: [String: Double]
    init(argument: String) throws(UsageError) {
        var values: [String: Double] = [:]
        for item in argument.split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty else { throw UsageError("'\(item)' is not name=value") }
            values[parts[0]] = try Double(argument: parts[1])
        }
        self.values = values
    }
}

/// Enumerations named by their raw value on the command line.
protocol ArgumentEnum: ArgumentValue, RawRepresentable<String>, CaseIterable {}

extension ArgumentEnum {
    init(argument: String) throws(UsageError) {
        guard let value = Self(rawValue: argument) else {
            throw UsageError("expected one of \(Self.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = value
    }
}

import Foundation

import Foundation

/// A `pairs` subcommand: its spec (for parsing and help) and what it does. Returns the exit status.
protocol Command {
    static var spec: CommandSpec { get }
    static func run(_ arguments: ParsedArguments) throws -> Int32
}

/// Exit statuses: 0 success, 1 failure (bad shard, I/O, …), 2 partial result (see `partial`), 64 usage error.
enum ExitStatus {
    static let success: Int32 = 0
    static let failure: Int32 = 1
    static let usage: Int32 = 64
}

@main
enum Pairs {
    static var commands: [any Command.Type] { [RunCommand.self, CoordinatorCommand.self, WorkerCommand.self, ShardsCommand.self, SimulateCommand.self, TrainCommand.self, CacheCommand.self,
         FinetuneCommand.self, ValidateCommand.self, ReportCommand.self, ModelCommand.self, ModelEmbedCommand.self, KeygenCommand.self] }

    static func main() {
        exit(run(Array(CommandLine.arguments.dropFirst())))
    }

    static func run(_ arguments: [String]) -> Int32 {
        guard let name = arguments.first, !["help", "--help", "-h"].contains(name) else {
            emit(overview)
            return arguments.isEmpty ? ExitStatus.usage : ExitStatus.success
        }
        // Two-word commands (`model embed`) take precedence over one-word ones (`model`).
        let twoWords = arguments.count > 1 ? "\(name) \(arguments[1])" : ""
        guard let command = commands.first(where: { $0.spec.name == twoWords }) ?? commands.first(where: { $0.spec.name == name }) else {
            printError("pairs: unknown command '\(name)'\n\n\(overview)")
            return ExitStatus.usage
        }
        let words = command.spec.name.split(separator: " ").count
        do {
            let parsed = try ParsedArguments(Array(arguments.dropFirst(words)), spec: command.spec)
            if parsed.wantsHelp {
                emit(command.spec.help)
                return ExitStatus.success
            }
            return try command.run(parsed)
        } catch let error as UsageError {
            printError("pairs \(command.spec.name): \(error)\nUsage: \(command.spec.usage)\nSee 'pairs \(command.spec.name) --help'.")
            return ExitStatus.usage
        } catch {
            printError("pairs \(command.spec.name): error: \(error)")
            return ExitStatus.failure
        }
    }

    static var overview: String {
        let width = commands.map { $0.spec.name.count }.max() ?? 0
        let list = commands.map { "  \($0.spec.name.padding(toLength: width + 2, withPad: " ", startingAt: 0))\($0.spec.summary)" }
        return (["pairs — dataset-level inference from sharded HDF5 events (PAIRS method).", "",
                 "Usage: pairs <command> [arguments] [options]", "", "Commands:"] + list +
                ["", "Run 'pairs <command> --help' for a command's options."]).joined(separator: "\n")
    }
}

/// Writes a line to standard output, unbuffered, so output and errors interleave in order.
func emit(_ message: String) {
    FileHandle.standardOutput.write(Data((message + "\n").utf8))
}

/// Writes a line to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

import Foundation
import Report

/// `pairs report`: re-renders a saved report.json (terminal summary, and HTML on request).
enum ReportCommand: Command {
    static let spec = CommandSpec(
        name: "report",
        summary: "Print the summary of a saved report.json and optionally re-render its HTML page.",
        positionals: [("REPORT", "A report.json written by pairs run or pairs coordinator.")],
        options: [.value("html", "FILE", "Write the HTML page to FILE.")])

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let path = arguments.positionals[0]
        let report: JSON
        do {
            report = try JSON(parsing: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw ReportFileError(description: "cannot read '\(path)' as JSON: \(error.localizedDescription)")
        }
        guard report["format"].string == RunReport.formatName else {
            throw ReportFileError(description: "'\(path)' is not a pairs report (format must be '\(RunReport.formatName)')")
        }
        emit(ReportViews.summary(report))
        if let html: String = try arguments.optional("html") {
            try ReportViews.html(report).write(toFile: html, atomically: true, encoding: .utf8)
            emit("wrote \(html)")
        }
        return ExitStatus.success
    }

    struct ReportFileError: Error, CustomStringConvertible { let description: String }
}

import Foundation

/// Log lines and a progress display on standard error: a live status line on a terminal, plain periodic
/// log lines otherwise (batch systems' log files).
final class Console: @unchecked Sendable {  // used from one thread at a time
    let prefix: String
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private var statusShown = false
    private var lastPlainProgress = 0.0
    /// Seconds between progress lines when standard error is not a terminal.
    var plainProgressInterval = 10.0

    init(prefix: String) { self.prefix = prefix }

    func log(_ message: String) {
        clearStatus()
        FileHandle.standardError.write(Data("[\(prefix)] \(message)\n".utf8))
    }

    func status(_ line: String, now: Double) {
        if isTerminal {
            FileHandle.standardError.write(Data("\r\u{1B}[K[\(prefix)] \(line)".utf8))
            statusShown = true
        } else if now - lastPlainProgress >= plainProgressInterval {
            lastPlainProgress = now
            FileHandle.standardError.write(Data("[\(prefix)] \(line)\n".utf8))
        }
    }

    func clearStatus() {
        if statusShown {
            FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
            statusShown = false
        }
    }
}

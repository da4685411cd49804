import CHDF5
#if canImport(Glibc)
import Glibc
#endif

/// A failed libhdf5 call, with the library's error stack walked into text (HDF5's automatic stack
/// printing to stderr is switched off on every thread that calls through this module).
public struct HDF5Error: Error, CustomStringConvertible, Sendable {
    /// One record of the HDF5 error stack, outermost (the API call) first.
    public struct Frame: Sendable, CustomStringConvertible {
        public let function: String
        public let file: String
        public let line: Int
        public let major: String
        public let minor: String
        public let detail: String

        public var description: String { "\(function)() at \(file):\(line): \(detail) [\(major): \(minor)]" }
    }

    /// The C function that failed, e.g. `H5Fopen`.
    public let call: String
    /// What it was called on (a path, a dataset name), when known.
    public let subject: String?
    /// The walked HDF5 error stack; empty when the failure was detected by this wrapper itself.
    public let stack: [Frame]
    /// A reason given by the wrapper when HDF5 itself reported none.
    let note: String?

    init(call: String, subject: String?, stack: [Frame], note: String? = nil) {
        self.call = call
        self.subject = subject
        self.stack = stack
        self.note = note
    }

    /// A failure this wrapper detected before calling HDF5 (e.g. a buffer too small for a selection).
    static func wrapper(_ call: String, _ subject: String?, _ reason: String) -> HDF5Error {
        HDF5Error(call: call, subject: subject, stack: [], note: reason)
    }

    /// The most specific reason: the deepest stack record, which names the root cause
    /// (e.g. "truncated file: eof = 1024, …" under "unable to open file").
    public var reason: String {
        if let note { return note }
        guard let deepest = stack.last else { return "no error stack recorded" }
        if let top = stack.first, top.detail != deepest.detail {
            return "\(top.detail): \(deepest.detail)"
        }
        return deepest.detail
    }

    /// Whether any stack record mentions `text` (case-insensitive) in its detail or messages.
    public func mentions(_ text: String) -> Bool {
        let needle = text.lowercased()
        return stack.contains { "\($0.detail) \($0.major) \($0.minor)".lowercased().contains(needle) }
    }

    /// The full stack, one record per line.
    public var stackText: String { stack.map(\.description).joined(separator: "\n") }

    public var description: String {
        let what = subject.map { "\(call)(\"\($0)\")" } ?? call
        return "\(what) failed: \(reason)"
    }
}

/// The one call path into libhdf5: every call checks its status and throws an `HDF5Error`
/// carrying the error stack.
enum H5 {
    /// Calls `body`; a negative result (herr_t, hid_t, htri_t, ssize_t) is a failure.
    @inline(__always)
    static func call<R: BinaryInteger>(_ name: StaticString, _ subject: @autoclosure () -> String? = nil,
                                       _ body: () -> R) throws(HDF5Error) -> R {
        prepareThread()
        let result = body()
        if result < 0 { throw captureError(call: "\(name)", subject: subject()) }
        return result
    }

    /// Calls an htri_t-returning function and turns its answer into a Bool.
    @inline(__always)
    static func truth(_ name: StaticString, _ subject: @autoclosure () -> String? = nil,
                      _ body: () -> htri_t) throws(HDF5Error) -> Bool {
        try call(name, subject(), body) > 0
    }

    /// Turns off HDF5's automatic error printing on the calling thread (HDF5 keeps that setting per
    /// thread in thread-safe builds) the first time this thread calls into the library.
    @inline(__always)
    static func prepareThread() {
        if pthread_getspecific(quietKey) == nil {
            H5Eset_auto2(chdf5_E_DEFAULT(), nil, nil)
            pthread_setspecific(quietKey, UnsafeRawPointer(bitPattern: 1))
        }
    }

    private static let quietKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// Moves the calling thread's current HDF5 error stack into an `HDF5Error`.
    static func captureError(call: String, subject: String?) -> HDF5Error {
        let stackID = H5Eget_current_stack()
        guard stackID >= 0 else { return HDF5Error(call: call, subject: subject, stack: []) }
        defer { H5Eclose_stack(stackID) }
        final class Collector { var frames: [HDF5Error.Frame] = [] }
        let collector = Collector()
        _ = withExtendedLifetime(collector) {
            H5Ewalk2(stackID, H5E_WALK_DOWNWARD, { _, record, data in
                guard let record, let data else { return 0 }
                let collector = Unmanaged<Collector>.fromOpaque(data).takeUnretainedValue()
                let r = record.pointee
                collector.frames.append(HDF5Error.Frame(
                    function: r.func_name.map { String(cString: $0) } ?? "?",
                    file: r.file_name.map { String(cString: $0) } ?? "?",
                    line: Int(r.line),
                    major: H5.message(r.maj_num), minor: H5.message(r.min_num),
                    detail: r.desc.map { String(cString: $0) } ?? ""))
                return 0
            }, Unmanaged.passUnretained(collector).toOpaque())
        }
        return HDF5Error(call: call, subject: subject, stack: collector.frames)
    }

    /// The text of an HDF5 error message id (major or minor class).
    static func message(_ id: hid_t) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        let length = H5Eget_msg(id, nil, &buffer, buffer.count)
        return length > 0 ? buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) } : "?"
    }

    /// Reads a string through the usual two-call HDF5 pattern: ask for the length, then fill a buffer.
    static func string(_ name: StaticString, _ subject: @autoclosure () -> String? = nil,
                       _ fill: (UnsafeMutablePointer<CChar>?, Int) -> Int) throws(HDF5Error) -> String {
        let length = try call(name, subject()) { fill(nil, 0) }
        var buffer = [CChar](repeating: 0, count: Int(length) + 1)
        _ = try call(name, subject()) { fill(&buffer, buffer.count) }
        return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

import CHDF5

/// An open HDF5 file. Read-only by default; groups and datasets opened from it keep it alive.
public final class File {
    let id: hid_t
    /// The path the file was opened or created with.
    public let path: String

    /// How HDF5's advisory file locking is set for this open.
    public enum Locking: Sendable {
        /// HDF5's default, which honours `HDF5_USE_FILE_LOCKING=FALSE` in the environment.
        case libraryDefault
        /// Lock; silently skip locking where the file system does not support it.
        case enabled
        /// Never lock: required on NFS and other shared file systems without working flock/fcntl.
        case disabled
    }

    public enum Mode: Sendable { case readOnly, readWrite }

    private init(id: hid_t, path: String) {
        self.id = id
        self.path = path
    }

    deinit { H5Fclose(id) }

    /// Opens an existing file.
    public static func open(_ path: String, mode: Mode = .readOnly, locking: Locking = .libraryDefault) throws(HDF5Error) -> File {
        let fapl = try accessProperties(locking: locking)
        defer { H5Pclose(fapl) }
        let flags = mode == .readOnly ? chdf5_F_ACC_RDONLY() : chdf5_F_ACC_RDWR()
        let id = try H5.call("H5Fopen", path) { H5Fopen(path, flags, fapl) }
        return File(id: id, path: path)
    }

    /// Creates a file; fails if it exists unless `overwrite`.
    public static func create(_ path: String, overwrite: Bool = false, locking: Locking = .libraryDefault) throws(HDF5Error) -> File {
        let fapl = try accessProperties(locking: locking)
        defer { H5Pclose(fapl) }
        let flags = overwrite ? chdf5_F_ACC_TRUNC() : chdf5_F_ACC_EXCL()
        let id = try H5.call("H5Fcreate", path) { H5Fcreate(path, flags, chdf5_P_DEFAULT(), fapl) }
        return File(id: id, path: path)
    }

    /// Opens `path`, runs `body`, and closes the file when `body` returns (unless `body` keeps it).
    public static func withOpen<R, E: Error>(_ path: String, mode: Mode = .readOnly, locking: Locking = .libraryDefault,
                                             _ body: (File) throws(E) -> R) throws -> R {
        try body(try open(path, mode: mode, locking: locking))
    }

    private static func accessProperties(locking: Locking) throws(HDF5Error) -> hid_t {
        let fapl = try H5.call("H5Pcreate") { H5Pcreate(chdf5_P_FILE_ACCESS()) }
        switch locking {
        case .libraryDefault: break
        case .enabled: _ = try H5.call("H5Pset_file_locking") { H5Pset_file_locking(fapl, true, true) }
        case .disabled: _ = try H5.call("H5Pset_file_locking") { H5Pset_file_locking(fapl, false, true) }
        }
        return fapl
    }

    /// The root group `/`.
    public func root() throws(HDF5Error) -> Group {
        Group(id: try H5.call("H5Gopen2", "/") { H5Gopen2(id, "/", chdf5_P_DEFAULT()) }, file: self, path: "/")
    }

    /// Writes buffered data to disk.
    public func flush() throws(HDF5Error) {
        _ = try H5.call("H5Fflush", path) { H5Fflush(id, H5F_SCOPE_LOCAL) }
    }

    /// The library version as (major, minor, release).
    public static var libraryVersion: (major: Int, minor: Int, release: Int) {
        var major: UInt32 = 0, minor: UInt32 = 0, release: UInt32 = 0
        H5get_libversion(&major, &minor, &release)
        return (Int(major), Int(minor), Int(release))
    }
}

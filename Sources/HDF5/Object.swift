import CHDF5

/// A named object in a file (a group or a dataset): it has a path and attributes, and keeps its file open.
public class Object {
    let id: hid_t
    /// The file this object lives in.
    public let file: File
    /// Absolute path inside the file, e.g. `/jets`.
    public let path: String

    init(id: hid_t, file: File, path: String) {
        self.id = id
        self.file = file
        self.path = path
    }

    deinit { H5Oclose(id) }

    /// The absolute path of a child called `name`.
    func childPath(_ name: String) -> String {
        name.hasPrefix("/") ? name : (path == "/" ? "/" + name : path + "/" + name)
    }
}

/// What a link in a group points to.
public enum ObjectKind: Equatable, Sendable {
    case group, dataset, namedDatatype
    /// A soft or external link whose target cannot be opened.
    case unresolved
}

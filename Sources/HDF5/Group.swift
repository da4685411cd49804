import CHDF5

/// An HDF5 group: a directory of named links to groups and datasets.
public final class Group: Object {
    /// Names of the group's links in name order.
    public func memberNames() throws(HDF5Error) -> [String] {
        var info = H5G_info_t()
        _ = try H5.call("H5Gget_info", path) { H5Gget_info(id, &info) }
        var names: [String] = []
        for index in 0..<info.nlinks {
            names.append(try H5.string("H5Lget_name_by_idx", path) {
                H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, index, $0, $1, chdf5_P_DEFAULT())
            })
        }
        return names
    }

    /// Whether a link `name` exists (a single path component, or a relative path whose parents exist).
    public func contains(_ name: String) throws(HDF5Error) -> Bool {
        var prefix = ""
        for component in name.split(separator: "/") {
            prefix += prefix.isEmpty ? String(component) : "/" + component
            let exists = try H5.truth("H5Lexists", childPath(prefix)) { H5Lexists(id, prefix, chdf5_P_DEFAULT()) }
            if !exists { return false }
        }
        return true
    }

    /// What the link `name` points to, or nil if there is no such link.
    public func kind(of name: String) throws(HDF5Error) -> ObjectKind? {
        guard try contains(name) else { return nil }
        H5.prepareThread()
        let object = H5Oopen(id, name, chdf5_P_DEFAULT())
        guard object >= 0 else {
            H5Eclear2(chdf5_E_DEFAULT())
            return .unresolved
        }
        defer { H5Oclose(object) }
        switch H5Iget_type(object) {
        case H5I_GROUP: return .group
        case H5I_DATASET: return .dataset
        case H5I_DATATYPE: return .namedDatatype
        default: return .unresolved
        }
    }

    /// Removes the link `name` (the object's space is not reclaimed until the file is repacked).
    public func unlink(_ name: String) throws(HDF5Error) {
        _ = try H5.call("H5Ldelete", childPath(name)) { H5Ldelete(id, name, chdf5_P_DEFAULT()) }
    }

    /// Opens the subgroup `name` (relative or absolute path).
    public func openGroup(_ name: String) throws(HDF5Error) -> Group {
        Group(id: try H5.call("H5Gopen2", childPath(name)) { H5Gopen2(id, name, chdf5_P_DEFAULT()) },
              file: file, path: childPath(name))
    }

    /// Opens the dataset `name`; `chunkCacheBytes` sizes its chunk cache (HDF5's default is 1 MiB), so that
    /// chunks straddling two reads are decompressed once.
    public func openDataset(_ name: String, chunkCacheBytes: Int? = nil) throws(HDF5Error) -> Dataset {
        let dapl = try H5.call("H5Pcreate") { H5Pcreate(chdf5_P_DATASET_ACCESS()) }
        defer { H5Pclose(dapl) }
        if let chunkCacheBytes {
            _ = try H5.call("H5Pset_chunk_cache") {
                H5Pset_chunk_cache(dapl, chdf5_D_CHUNK_CACHE_NSLOTS_DEFAULT(), chunkCacheBytes, chdf5_D_CHUNK_CACHE_W0_DEFAULT())
            }
        }
        return Dataset(id: try H5.call("H5Dopen2", childPath(name)) { H5Dopen2(id, name, dapl) },
                       file: file, path: childPath(name))
    }

    /// Creates the subgroup `name`.
    @discardableResult
    public func createGroup(_ name: String) throws(HDF5Error) -> Group {
        Group(id: try H5.call("H5Gcreate2", childPath(name)) {
            H5Gcreate2(id, name, chdf5_P_DEFAULT(), chdf5_P_DEFAULT(), chdf5_P_DEFAULT())
        }, file: file, path: childPath(name))
    }

    /// Creates a dataset `name` of `type` with the given extent and storage.
    /// - Parameters:
    ///   - maxDimensions: per dimension, nil for unlimited (requires chunked storage); default: fixed.
    public func createDataset(_ name: String, type: Datatype, dimensions: [Int], maxDimensions: [Int?]? = nil,
                              storage: DatasetStorage = .contiguous) throws(HDF5Error) -> Dataset {
        let space = try Dataspace(dimensions: dimensions, maxDimensions: maxDimensions)
        let dcpl = try storage.creationProperties(subject: childPath(name))
        defer { H5Pclose(dcpl) }
        return Dataset(id: try H5.call("H5Dcreate2", childPath(name)) {
            H5Dcreate2(id, name, type.id, space.id, chdf5_P_DEFAULT(), dcpl, chdf5_P_DEFAULT())
        }, file: file, path: childPath(name))
    }
}

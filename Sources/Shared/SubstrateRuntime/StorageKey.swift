import SubstratePrimitives
/// Builds storage keys: twox128(pallet) ++ twox128(item) ++ hashed map keys.
public enum StorageKey {
    /// The key of a plain storage value.
    public static func plain(pallet: String, item: String) -> [UInt8] {
        SubstrateHash.twox128(Array(pallet.utf8)) + SubstrateHash.twox128(Array(item.utf8))
    }

    /// Hashes one SCALE-encoded map key with the given hasher.
    public static func hash(_ encodedKey: [UInt8], with hasher: StorageHasher) -> [UInt8] {
        switch hasher {
        case .blake2_128: SubstrateHash.blake2b128(encodedKey)
        case .blake2_256: SubstrateHash.blake2b256(encodedKey)
        case .blake2_128Concat: SubstrateHash.blake2b128(encodedKey) + encodedKey
        case .twox128: SubstrateHash.twox128(encodedKey)
        case .twox256: SubstrateHash.twox256(encodedKey)
        case .twox64Concat: SubstrateHash.twox64(encodedKey) + encodedKey
        case .identity: encodedKey
        }
    }

    /// The key of a map entry: the prefix followed by each SCALE-encoded key part hashed with its hasher.
    public static func map(pallet: String, item: String, keys: [(hasher: StorageHasher, encodedKey: [UInt8])]) -> [UInt8] {
        var key = plain(pallet: pallet, item: item)
        for part in keys { key += hash(part.encodedKey, with: part.hasher) }
        return key
    }
}

extension RuntimeMetadata {
    /// Why a storage key could not be built from the metadata.
    public enum StorageKeyError: Error, Sendable, Equatable, CustomStringConvertible {
        case unknownEntry(pallet: String, item: String)
        case keyCount(expected: Int, given: Int)
        case encoding(ScaleEncodingError)

        public var description: String {
            switch self {
            case .unknownEntry(let p, let i): "storage \(p).\(i) is not in this runtime's metadata"
            case .keyCount(let e, let g): "storage map takes \(e) key(s), \(g) given"
            case .encoding(let e): "cannot encode storage key: \(e)"
            }
        }
    }

    /// The storage key of `pallet.item`, hashing each key value with the hasher the metadata declares.
    public func storageKey(pallet: String, item: String, keys: [ScaleValue] = []) throws(StorageKeyError) -> [UInt8] {
        guard let palletMetadata = self.pallet(named: pallet), let entry = palletMetadata.storageEntry(named: item) else {
            throw .unknownEntry(pallet: pallet, item: item)
        }
        let prefix = palletMetadata.storagePrefix ?? pallet
        switch entry.kind {
        case .plain:
            guard keys.isEmpty else { throw .keyCount(expected: 0, given: keys.count) }
            return StorageKey.plain(pallet: prefix, item: item)
        case .map(let hashers, let keyTypeId, _):
            guard keys.count == hashers.count else { throw .keyCount(expected: hashers.count, given: keys.count) }
            // With several hashers the key type is a tuple with one element per hasher.
            var keyTypes = [keyTypeId]
            if hashers.count > 1, let t = registry[keyTypeId], case .tuple(let ids) = t.shape { keyTypes = ids }
            guard keyTypes.count == hashers.count else { throw .keyCount(expected: keyTypes.count, given: keys.count) }
            var parts: [(hasher: StorageHasher, encodedKey: [UInt8])] = []
            for (i, hasher) in hashers.enumerated() {
                do {
                    parts.append((hasher, try registry.encode(keys[i], as: keyTypes[i])))
                } catch {
                    throw .encoding(error)
                }
            }
            return StorageKey.map(pallet: prefix, item: item, keys: parts)
        }
    }
}

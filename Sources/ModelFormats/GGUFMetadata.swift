/// A GGUF file's key/value metadata, in file order, with typed accessors.
///
/// The typed accessors follow `JSONFields`: they return nil when the key is absent and throw
/// `GGUFError.typeMismatch` when it is present with the wrong type; the `required…` forms throw
/// `GGUFError.missingKey` instead of returning nil.
public struct GGUFMetadata: Sendable, Equatable {
    public let path: String
    /// Keys in the order the file stores them.
    public let keys: [String]
    private let values: [String: GGUFValue]

    init(path: String, keys: [String], values: [String: GGUFValue]) {
        self.path = path
        self.keys = keys
        self.values = values
    }

    public subscript(key: String) -> GGUFValue? { values[key] }
    public var count: Int { keys.count }
    public func contains(_ key: String) -> Bool { values[key] != nil }

    /// All entries in file order.
    public var entries: [(key: String, value: GGUFValue)] { keys.map { ($0, values[$0]!) } }

    private func mismatch(_ key: String, _ expected: String, _ value: GGUFValue) -> GGUFError {
        .typeMismatch(path: path, key: key, expected: expected, found: value.typeName)
    }

    public func string(_ key: String) throws -> String? {
        guard let v = values[key] else { return nil }
        guard let s = v.stringValue else { throw mismatch(key, "STRING", v) }
        return s
    }

    /// Any integer type (not bool), range-checked into `Int`.
    public func int(_ key: String) throws -> Int? {
        guard let v = values[key] else { return nil }
        guard let i = v.intValue else { throw mismatch(key, "an integer that fits in Int", v) }
        return i
    }

    /// FLOAT32/FLOAT64 or any integer type, as Double.
    public func float(_ key: String) throws -> Double? {
        guard let v = values[key] else { return nil }
        guard let d = v.doubleValue else { throw mismatch(key, "a number", v) }
        return d
    }

    public func bool(_ key: String) throws -> Bool? {
        guard let v = values[key] else { return nil }
        guard let b = v.boolValue else { throw mismatch(key, "BOOL", v) }
        return b
    }

    public func array(_ key: String) throws -> GGUFArray? {
        guard let v = values[key] else { return nil }
        guard let a = v.arrayValue else { throw mismatch(key, "ARRAY", v) }
        return a
    }

    public func stringArray(_ key: String) throws -> [String]? {
        guard let a = try array(key) else { return nil }
        guard let s = a.strings else { throw mismatch(key, "ARRAY<STRING>", .array(a)) }
        return s
    }

    /// Any integer array, as `[Int]`.
    public func intArray(_ key: String) throws -> [Int]? {
        guard let a = try array(key) else { return nil }
        guard let i = a.ints else { throw mismatch(key, "an integer ARRAY", .array(a)) }
        return i
    }

    /// Any float or integer array, as `[Float]`.
    public func floatArray(_ key: String) throws -> [Float]? {
        guard let a = try array(key) else { return nil }
        guard let f = a.floats else { throw mismatch(key, "a numeric ARRAY", .array(a)) }
        return f
    }

    public func requiredString(_ key: String) throws -> String {
        guard let v = try string(key) else { throw GGUFError.missingKey(path: path, key: key) }
        return v
    }

    public func requiredInt(_ key: String) throws -> Int {
        guard let v = try int(key) else { throw GGUFError.missingKey(path: path, key: key) }
        return v
    }

    public func requiredFloat(_ key: String) throws -> Double {
        guard let v = try float(key) else { throw GGUFError.missingKey(path: path, key: key) }
        return v
    }

    public static func == (a: GGUFMetadata, b: GGUFMetadata) -> Bool {
        a.keys == b.keys && a.values == b.values
    }
}

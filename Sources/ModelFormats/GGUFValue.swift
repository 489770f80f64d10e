/// GGUF metadata value type ids, as stored before every value.
public enum GGUFValueType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6
    case bool = 7, string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12

    public var description: String {
        switch self {
        case .uint8: return "UINT8"
        case .int8: return "INT8"
        case .uint16: return "UINT16"
        case .int16: return "INT16"
        case .uint32: return "UINT32"
        case .int32: return "INT32"
        case .float32: return "FLOAT32"
        case .bool: return "BOOL"
        case .string: return "STRING"
        case .array: return "ARRAY"
        case .uint64: return "UINT64"
        case .int64: return "INT64"
        case .float64: return "FLOAT64"
        }
    }

    /// Fewest bytes one value of this type takes in a file (a string's 8-byte length, an array's
    /// 4-byte type + 8-byte count): bounds element counts before anything is allocated.
    var minimumEncodedSize: Int {
        switch self {
        case .uint8, .int8, .bool: return 1
        case .uint16, .int16: return 2
        case .uint32, .int32, .float32: return 4
        case .uint64, .int64, .float64, .string: return 8
        case .array: return 12
        }
    }
}

/// One metadata value.
public enum GGUFValue: Sendable, Equatable, CustomStringConvertible {
    case uint8(UInt8)
    case int8(Int8)
    case uint16(UInt16)
    case int16(Int16)
    case uint32(UInt32)
    case int32(Int32)
    case float32(Float)
    case bool(Bool)
    case string(String)
    case array(GGUFArray)
    case uint64(UInt64)
    case int64(Int64)
    case float64(Double)

    public var type: GGUFValueType {
        switch self {
        case .uint8: return .uint8
        case .int8: return .int8
        case .uint16: return .uint16
        case .int16: return .int16
        case .uint32: return .uint32
        case .int32: return .int32
        case .float32: return .float32
        case .bool: return .bool
        case .string: return .string
        case .array: return .array
        case .uint64: return .uint64
        case .int64: return .int64
        case .float64: return .float64
        }
    }

    /// The value of any integer type that fits in `Int`; nil for other types (bool included).
    public var intValue: Int? {
        switch self {
        case .uint8(let v): return Int(v)
        case .int8(let v): return Int(v)
        case .uint16(let v): return Int(v)
        case .int16(let v): return Int(v)
        case .uint32(let v): return Int(v)
        case .int32(let v): return Int(v)
        case .uint64(let v): return Int(exactly: v)
        case .int64(let v): return Int(exactly: v)
        default: return nil
        }
    }

    /// The value of any float or integer type as a Double; nil for bool, string, array.
    public var doubleValue: Double? {
        switch self {
        case .float32(let v): return Double(v)
        case .float64(let v): return v
        case .uint64(let v): return Double(v)
        case .int64(let v): return Double(v)
        default: return intValue.map(Double.init)
        }
    }

    public var boolValue: Bool? { if case .bool(let v) = self { return v } else { return nil } }
    public var stringValue: String? { if case .string(let v) = self { return v } else { return nil } }
    public var arrayValue: GGUFArray? { if case .array(let v) = self { return v } else { return nil } }

    /// Type name as gguf tools print it: "UINT32", "ARRAY<STRING>".
    public var typeName: String {
        if case .array(let a) = self { return a.typeName }
        return type.description
    }

    public var description: String {
        switch self {
        case .uint8(let v): return "\(v)"
        case .int8(let v): return "\(v)"
        case .uint16(let v): return "\(v)"
        case .int16(let v): return "\(v)"
        case .uint32(let v): return "\(v)"
        case .int32(let v): return "\(v)"
        case .float32(let v): return "\(v)"
        case .bool(let v): return "\(v)"
        case .string(let v): return "'\(v)'"
        case .array(let a): return "\(a.typeName)[\(a.count)]"
        case .uint64(let v): return "\(v)"
        case .int64(let v): return "\(v)"
        case .float64(let v): return "\(v)"
        }
    }
}

/// A metadata array, stored typed (a 262,144-entry token list is one `[String]`, not 262,144 enums).
/// Nested arrays are `.array`, each inner array with its own element type.
public enum GGUFArray: Sendable, Equatable {
    case uint8([UInt8])
    case int8([Int8])
    case uint16([UInt16])
    case int16([Int16])
    case uint32([UInt32])
    case int32([Int32])
    case float32([Float])
    case bool([Bool])
    case string([String])
    case array([GGUFArray])
    case uint64([UInt64])
    case int64([Int64])
    case float64([Double])

    public var elementType: GGUFValueType {
        switch self {
        case .uint8: return .uint8
        case .int8: return .int8
        case .uint16: return .uint16
        case .int16: return .int16
        case .uint32: return .uint32
        case .int32: return .int32
        case .float32: return .float32
        case .bool: return .bool
        case .string: return .string
        case .array: return .array
        case .uint64: return .uint64
        case .int64: return .int64
        case .float64: return .float64
        }
    }

    public var count: Int {
        switch self {
        case .uint8(let a): return a.count
        case .int8(let a): return a.count
        case .uint16(let a): return a.count
        case .int16(let a): return a.count
        case .uint32(let a): return a.count
        case .int32(let a): return a.count
        case .float32(let a): return a.count
        case .bool(let a): return a.count
        case .string(let a): return a.count
        case .array(let a): return a.count
        case .uint64(let a): return a.count
        case .int64(let a): return a.count
        case .float64(let a): return a.count
        }
    }

    public var typeName: String { "ARRAY<\(elementType)>" }

    /// Every element as a `GGUFValue` (allocates one enum per element: for small arrays).
    public var values: [GGUFValue] {
        switch self {
        case .uint8(let a): return a.map { .uint8($0) }
        case .int8(let a): return a.map { .int8($0) }
        case .uint16(let a): return a.map { .uint16($0) }
        case .int16(let a): return a.map { .int16($0) }
        case .uint32(let a): return a.map { .uint32($0) }
        case .int32(let a): return a.map { .int32($0) }
        case .float32(let a): return a.map { .float32($0) }
        case .bool(let a): return a.map { .bool($0) }
        case .string(let a): return a.map { .string($0) }
        case .array(let a): return a.map { .array($0) }
        case .uint64(let a): return a.map { .uint64($0) }
        case .int64(let a): return a.map { .int64($0) }
        case .float64(let a): return a.map { .float64($0) }
        }
    }

    /// Integer elements as `Int`; nil for non-integer arrays or an element that does not fit.
    public var ints: [Int]? {
        switch self {
        case .uint8(let a): return a.map { Int($0) }
        case .int8(let a): return a.map { Int($0) }
        case .uint16(let a): return a.map { Int($0) }
        case .int16(let a): return a.map { Int($0) }
        case .uint32(let a): return a.map { Int($0) }
        case .int32(let a): return a.map { Int($0) }
        case .uint64(let a):
            var out: [Int] = []
            out.reserveCapacity(a.count)
            for v in a { guard let i = Int(exactly: v) else { return nil }; out.append(i) }
            return out
        case .int64(let a): return a.map { Int($0) }
        default: return nil
        }
    }

    /// Float (or integer) elements as `Float`; nil for bool, string and nested arrays.
    public var floats: [Float]? {
        switch self {
        case .float32(let a): return a
        case .float64(let a): return a.map { Float($0) }
        default: return ints?.map { Float($0) }
        }
    }

    public var strings: [String]? { if case .string(let a) = self { return a } else { return nil } }
    public var bools: [Bool]? { if case .bool(let a) = self { return a } else { return nil } }
}

/// Numbers a forward pass divides by, or takes the root or the power of. A negative norm epsilon,
/// a zero or NaN RoPE base or a zero softcap loads fine and then gives NaN logits (text of
/// token 0, no error); a zero context length fails later in the engine, blaming a flag the user
/// never passed. Both loaders reject them up front, naming the file and its own key.
enum ConfigNumberCheck {
    /// A finite value > 0 (or absent).
    static func positive(_ value: Double?, key: String, path: String) throws {
        guard let value, !(value.isFinite && value > 0) else { return }
        throw ModelFormatError.badConfig(path: path, reason: "'\(key)' must be a finite number > 0, found \(value)")
    }

    /// A finite value >= 0 (or absent).
    static func nonNegative(_ value: Double?, key: String, path: String) throws {
        guard let value, !(value.isFinite && value >= 0) else { return }
        throw ModelFormatError.badConfig(path: path, reason: "'\(key)' must be a finite number >= 0, found \(value)")
    }

    /// An integer > 0 (or absent).
    static func positive(_ value: Int?, key: String, path: String) throws {
        guard let value, value <= 0 else { return }
        throw ModelFormatError.badConfig(path: path, reason: "'\(key)' must be > 0, found \(value)")
    }
}

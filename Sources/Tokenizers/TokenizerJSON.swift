import Foundation

/// Thin typed access over `JSONSerialization` output. `tokenizer.json` is large (7 MB for a
/// 151k vocabulary) and loosely typed (fields may be null, strings or objects), so we read it
/// as untyped JSON and check each field by hand, turning every surprise into a `TokenizerError`
/// that names the file and the field instead of a crash.
struct JSONObject {
    let dict: [String: Any]
    /// File the object came from (for error messages).
    let path: String
    /// Dotted location of this object inside the file, e.g. "pre_tokenizer.pretokenizers[0]".
    let location: String

    static func load(path: String) throws -> JSONObject {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue else {
            throw TokenizerError.fileNotFound(path: path)
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw TokenizerError.unreadableFile(path: path, reason: "\(error.localizedDescription)")
        }
        let object: Any
        do {
            object = try JSONObject.parse(data)
        } catch {
            let reason = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
                ?? error.localizedDescription
            throw TokenizerError.malformedJSON(path: path, reason: reason)
        }
        guard let dict = object as? [String: Any] else {
            throw TokenizerError.malformedJSON(path: path, reason: "top level is not a JSON object")
        }
        return JSONObject(dict: dict, path: path, location: "")
    }

    /// `JSONSerialization` on Linux silently drops a raw U+FEFF at the start of a string value
    /// (a vocabulary entry or a test string can legitimately begin with a BOM), so every raw
    /// EF BB BF is rewritten to the escape `\ufeff`, which survives. A leading document BOM is
    /// skipped. The bytes EF BB BF can only ever encode U+FEFF, so the rewrite is exact.
    static func parse(_ data: Data) throws -> Any {
        var bytes = [UInt8](data)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        if let first = bytes.firstIndex(of: 0xEF) {
            var out: [UInt8] = Array(bytes[..<first])
            out.reserveCapacity(bytes.count + 16)
            var i = first
            while i < bytes.count {
                if bytes[i] == 0xEF, i + 2 < bytes.count, bytes[i + 1] == 0xBB, bytes[i + 2] == 0xBF {
                    out += Array(#"\ufeff"#.utf8)
                    i += 3
                } else {
                    out.append(bytes[i])
                    i += 1
                }
            }
            bytes = out
        }
        return try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
    }

    func fieldName(_ key: String) -> String { location.isEmpty ? key : "\(location).\(key)" }

    /// True when the key is absent or JSON null.
    /// Compares the dynamic type instead of `is NSNull`: on Linux an `is`-check against a class
    /// bridges a Swift dictionary value to NSDictionary, which costs ~0.5 s for a 151k vocab.
    func isNull(_ key: String) -> Bool {
        guard let value = dict[key] else { return true }
        return type(of: value) == NSNull.self
    }

    func invalid(_ key: String, _ reason: String) -> TokenizerError {
        .invalidField(path: path, field: fieldName(key), reason: reason)
    }

    func object(_ key: String) throws -> JSONObject? {
        if isNull(key) { return nil }
        guard let d = dict[key] as? [String: Any] else { throw invalid(key, "expected an object") }
        return JSONObject(dict: d, path: path, location: fieldName(key))
    }

    func requiredObject(_ key: String) throws -> JSONObject {
        guard let o = try object(key) else { throw TokenizerError.missingField(path: path, field: fieldName(key)) }
        return o
    }

    func string(_ key: String) throws -> String? {
        if isNull(key) { return nil }
        guard let s = dict[key] as? String else { throw invalid(key, "expected a string") }
        return s
    }

    func requiredString(_ key: String) throws -> String {
        guard let s = try string(key) else { throw TokenizerError.missingField(path: path, field: fieldName(key)) }
        return s
    }

    func bool(_ key: String, default value: Bool) throws -> Bool {
        if isNull(key) { return value }
        if let b = dict[key] as? Bool { return b }
        if let n = dict[key] as? NSNumber { return n.boolValue }
        throw invalid(key, "expected a boolean")
    }

    func int(_ key: String) throws -> Int? {
        if isNull(key) { return nil }
        guard let i = JSONObject.asInt(dict[key]!) else { throw invalid(key, "expected an integer") }
        return i
    }

    /// Array of objects; null/absent reads as empty (e.g. Qwen's `added_tokens: null`).
    func objects(_ key: String) throws -> [JSONObject] {
        if isNull(key) { return [] }
        guard let arr = dict[key] as? [Any] else { throw invalid(key, "expected an array") }
        return try arr.enumerated().map { i, element in
            guard let d = element as? [String: Any] else { throw invalid("\(key)[\(i)]", "expected an object") }
            return JSONObject(dict: d, path: path, location: fieldName("\(key)[\(i)]"))
        }
    }

    static func asInt(_ value: Any) -> Int? {
        if let i = value as? Int { return i }
        if let n = value as? NSNumber, !(value is Bool) {
            let d = n.doubleValue
            if d == d.rounded(), abs(d) < 9e15 { return Int(d) }
        }
        return nil
    }
}

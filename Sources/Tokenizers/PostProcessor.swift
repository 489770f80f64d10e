/// The `post_processor` section, reduced to what matters for ids of a single sequence:
/// which special-token ids go before and after the encoded text.
enum PostProcessor: Sendable {
    /// `TemplateProcessing.single`: items are either a special token's ids or the sequence.
    case template([TemplateItem])
    /// ByteLevel post-processing only fixes offsets; no effect on ids.
    case byteLevel
    /// BERT/RoBERTa style: cls + sequence + sep.
    case wrap(prefix: [Int], suffix: [Int])
    case sequence([PostProcessor])

    enum TemplateItem: Sendable { case special([Int]), sequence }

    static let supported = ["TemplateProcessing", "ByteLevel", "BertProcessing", "RobertaProcessing", "Sequence"]

    static func parse(_ json: JSONObject?) throws -> PostProcessor? {
        guard let json else { return nil }
        let type = try json.requiredString("type")
        switch type {
        case "ByteLevel":
            return .byteLevel
        case "Sequence":
            return .sequence(try json.objects("processors").compactMap { try parse($0) })
        case "BertProcessing", "RobertaProcessing":
            func idOf(_ key: String) throws -> Int {
                guard let pair = json.dict[key] as? [Any], pair.count == 2, let id = JSONObject.asInt(pair[1]) else {
                    throw json.invalid(key, "expected [token, id]")
                }
                return id
            }
            return .wrap(prefix: [try idOf("cls")], suffix: [try idOf("sep")])
        case "TemplateProcessing":
            let specials = try json.object("special_tokens")
            guard let single = json.dict["single"] as? [Any] else { throw json.invalid("single", "expected an array") }
            let items: [TemplateItem] = try single.map { raw in
                guard let item = raw as? [String: Any] else { throw json.invalid("single", "expected objects") }
                if item["Sequence"] != nil { return .sequence }
                guard let special = item["SpecialToken"] as? [String: Any], let name = special["id"] as? String else {
                    throw json.invalid("single", "expected SpecialToken or Sequence items")
                }
                guard let entry = specials?.dict[name] as? [String: Any], let ids = entry["ids"] as? [Any] else {
                    throw json.invalid("special_tokens", "no entry for \(name.debugDescription)")
                }
                return .special(ids.compactMap { JSONObject.asInt($0) })
            }
            return .template(items)
        default:
            throw TokenizerError.unsupportedComponent(
                path: json.path, component: "post_processor", type: type, supported: supported)
        }
    }

    func apply(_ ids: [Int]) -> [Int] {
        switch self {
        case .byteLevel: return ids
        case .wrap(let prefix, let suffix): return prefix + ids + suffix
        case .sequence(let parts): return parts.reduce(ids) { $1.apply($0) }
        case .template(let items):
            var out: [Int] = []
            out.reserveCapacity(ids.count + items.count)
            for item in items {
                switch item {
                case .special(let s): out += s
                case .sequence: out += ids
                }
            }
            return out
        }
    }
}

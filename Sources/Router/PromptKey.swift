import Foundation

/// What the router hashes for prefix-aware routing: the request's text as Unicode scalars (or
/// its token ids), so requests sharing a leading run of text share leading blocks. The router
/// has no tokenizer; like SGLang's cache-aware router it matches text, which tracks the
/// backends' token prefix caches closely enough to keep a conversation on one replica.
enum PromptKey {
    /// Completions: the prompt (the first of a list). Chat: every message's role and content in
    /// order, so a conversation's next turn extends its previous key. Empty when neither parses.
    static func of(_ body: Data) -> [Int] {
        guard let json = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else { return [] }
        if let messages = json["messages"] as? [[String: Any]] {
            var text = ""
            for m in messages {
                text += (m["role"] as? String ?? "") + "\u{1}"
                if let content = m["content"] as? String {
                    text += content
                } else if let parts = m["content"] as? [[String: Any]] {
                    text += parts.compactMap { $0["text"] as? String }.joined(separator: "\n")
                }
                text += "\u{2}"
            }
            return text.unicodeScalars.map { Int($0.value) }
        }
        switch json["prompt"] {
        case let text as String: return text.unicodeScalars.map { Int($0.value) }
        case let texts as [String]: return texts.first.map { $0.unicodeScalars.map { Int($0.value) } } ?? []
        case let ids as [Int]: return ids
        case let lists as [[Int]]: return lists.first ?? []
        default: return []
        }
    }
}

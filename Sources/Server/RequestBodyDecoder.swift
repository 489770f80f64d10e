import Foundation

/// Decodes request bodies. Foundation's JSONDecoder reports a number that does not fit its
/// field (2.5 or 1e30 for an integer, 1e39 for a Float) as "not valid JSON" with no field
/// named; a body that JSONSerialization does parse gets a message saying what is wrong instead.
enum RequestBodyDecoder {
    static func decode<T: Decodable>(_ type: T.Type, from body: Data) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: body)
        } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
            guard (try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed])) != nil else {
                throw DecodingError.dataCorrupted(context)
            }
            throw OpenAIError.badRequest("invalid JSON body: a number does not fit its field (integer fields take whole "
                                         + "numbers within 64 bits; float fields numbers within ±3.4e38)")
        }
    }
}

import Foundation
import Hummingbird

/// An error as OpenAI clients expect it: `{"error": {"message", "type", "param", "code"}}`
/// with the matching HTTP status. Every failure the server reports goes through this.
public struct OpenAIError: Error, Sendable {
    public var status: HTTPResponse.Status
    public var message: String
    public var type: String
    public var param: String?

    public init(_ status: HTTPResponse.Status, _ message: String, type: String? = nil, param: String? = nil) {
        self.status = status
        self.message = message
        self.type = type ?? Self.defaultType(status)
        self.param = param
    }

    public static func badRequest(_ message: String, param: String? = nil) -> OpenAIError {
        OpenAIError(.badRequest, message, param: param)
    }

    static func defaultType(_ status: HTTPResponse.Status) -> String {
        switch status.code {
        case 400: return "BadRequestError"
        case 401: return "AuthenticationError"
        case 404: return "NotFoundError"
        case 503: return "ServiceUnavailableError"
        default: return "InternalServerError"
        }
    }

    var body: Data {
        struct Info: Encodable {
            let message: String
            let type: String
            let param: String?
            let code: Int
            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(message, forKey: .message)
                try c.encode(type, forKey: .type)
                try c.encode(param, forKey: .param)  // explicit null, as OpenAI sends
                try c.encode(code, forKey: .code)
            }
            enum CodingKeys: String, CodingKey { case message, type, param, code }
        }
        struct Envelope: Encodable { let error: Info }
        return (try? JSONEncoder().encode(Envelope(error: Info(message: message, type: type, param: param, code: status.code)))) ?? Data()
    }

    public var response: Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// Turns anything a handler throws into an OpenAI error response, so no client ever sees an
/// HTML page or a dropped connection for a bad request.
struct OpenAIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as OpenAIError {
            return error.response
        } catch let error as HTTPError {
            return OpenAIError(error.status, error.body ?? "\(error.status.reasonPhrase)").response
        } catch let error as any HTTPResponseError {
            // NIO's too-many-bytes error from collecting a body past the limit, among others.
            let message = error.status == .contentTooLarge
                ? "the request body is larger than the server's limit of \(OpenAIServer.maxBodyBytes >> 20) MiB" : error.status.reasonPhrase
            return OpenAIError(error.status, message).response
        } catch let error as DecodingError {
            return OpenAIError.badRequest("invalid JSON body: \(describe(error))").response
        } catch {
            return OpenAIError(.internalServerError, "\(error)").response
        }
    }
}

func describe(_ error: DecodingError) -> String {
    func path(_ ctx: DecodingError.Context) -> String {
        ctx.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
    switch error {
    case .typeMismatch(_, let ctx), .valueNotFound(_, let ctx):
        return "'\(path(ctx))': \(ctx.debugDescription)"
    case .keyNotFound(let key, let ctx):
        let p = path(ctx)
        return "missing field '\(p.isEmpty ? key.stringValue : p + "." + key.stringValue)'"
    case .dataCorrupted(let ctx):
        return ctx.codingPath.isEmpty ? "the body is not valid JSON" : "'\(path(ctx))': \(ctx.debugDescription)"
    @unknown default:
        return "\(error)"
    }
}

/// A benchmark failure worth one line to the user: what went wrong and where (the file, the URL).
public struct BenchError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

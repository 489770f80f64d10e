/// Server-sent events, incrementally: feed bytes as they arrive, get the `data` payload of every
/// completed event. Lines may end in `\n`, `\r\n` or `\r`; several `data:` lines in one event
/// are joined with newlines; comments (`:`) and other fields are ignored.
public struct SSEParser: Sendable {
    private var line: [UInt8] = []
    private var data: [String] = []
    private var hasData = false
    private var lastWasCR = false

    public init() {}

    public mutating func feed<Bytes: Sequence>(_ bytes: Bytes) -> [String] where Bytes.Element == UInt8 {
        var events: [String] = []
        for byte in bytes {
            if lastWasCR {
                lastWasCR = false
                if byte == 0x0A { continue }  // the \n of a \r\n
            }
            switch byte {
            case 0x0A:
                endLine(&events)
            case 0x0D:
                lastWasCR = true
                endLine(&events)
            default:
                line.append(byte)
            }
        }
        return events
    }

    /// The end of the stream: an event not yet closed by a blank line still counts.
    public mutating func finish() -> [String] {
        var events: [String] = []
        if !line.isEmpty { endLine(&events) }
        if hasData { events.append(data.joined(separator: "\n")) }
        data = []
        hasData = false
        return events
    }

    private mutating func endLine(_ events: inout [String]) {
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty {
            if hasData { events.append(data.joined(separator: "\n")) }
            data = []
            hasData = false
            return
        }
        if line.first == UInt8(ascii: ":") { return }
        let text = String(decoding: line, as: UTF8.self)
        let field: Substring, value: Substring
        if let colon = text.firstIndex(of: ":") {
            field = text[..<colon]
            var v = text[text.index(after: colon)...]
            if v.first == " " { v = v.dropFirst() }
            value = v
        } else {
            field = text[...]
            value = ""
        }
        if field == "data" {
            data.append(String(value))
            hasData = true
        }
    }
}

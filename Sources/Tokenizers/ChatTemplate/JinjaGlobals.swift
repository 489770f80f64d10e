import Foundation

/// The globals transformers' environment provides: jinja2's `range`, `dict`, `namespace` plus HF's
/// `raise_exception(msg)` and `strftime_now(fmt)`. Context variables of the same name override them.
enum JinjaGlobals {
    static let defaults: [String: JinjaValue] = [
        "raise_exception": .function(JinjaFunction(name: "raise_exception") { args, kwargs in
            throw ChatTemplateError.raised((args.first ?? kwargs["message"] ?? .string("")).pythonString)
        }),
        "strftime_now": strftimeNow { Date() },
        "range": .function(JinjaFunction(name: "range", range)),
        "namespace": .function(JinjaFunction(name: "namespace") { args, kwargs in
            var attributes = JinjaObject()
            for arg in args {
                guard case .object(let object) = arg else {
                    throw ChatTemplateError.runtime("namespace() positional argument must be a dict")
                }
                for (key, value) in object.pairs { attributes[key] = value }
            }
            for (key, value) in kwargs.pairs { attributes[key] = value }
            return .namespace(JinjaNamespace(attributes))
        }),
        "dict": .function(JinjaFunction(name: "dict") { args, kwargs in
            var object = JinjaObject()
            if case .object(let base)? = args.first { object = base }
            for (key, value) in kwargs.pairs { object[key] = value }
            return .object(object)
        }),
    ]

    /// `strftime_now(fmt)` reading the clock through `now` (tests freeze it), in the local time zone.
    static func strftimeNow(timeZone: TimeZone = .current, _ now: @escaping @Sendable () -> Date) -> JinjaValue {
        .function(JinjaFunction(name: "strftime_now") { args, _ in
            guard case .string(let format)? = args.first else {
                throw ChatTemplateError.runtime("strftime_now() argument must be str")
            }
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = timeZone
            return .string(JinjaStrftime.format(format, calendar.dateComponents(in: timeZone, from: now())))
        })
    }

    private static let maxRangeLength = 1_000_000

    private static func range(_ args: [JinjaValue], _ kwargs: JinjaObject) throws -> JinjaValue {
        let ints = try args.map { arg -> Int in
            guard case .int(let i) = arg else { throw ChatTemplateError.runtime("range() arguments must be integers") }
            return i
        }
        let (start, stop, step): (Int, Int, Int)
        switch ints.count {
        case 1: (start, stop, step) = (0, ints[0], 1)
        case 2: (start, stop, step) = (ints[0], ints[1], 1)
        case 3: (start, stop, step) = (ints[0], ints[1], ints[2])
        default: throw ChatTemplateError.runtime("range expected 1 to 3 arguments, got \(ints.count)")
        }
        guard step != 0 else { throw ChatTemplateError.runtime("range() arg 3 must not be zero") }
        var items: [JinjaValue] = []
        var value = start
        while step > 0 ? value < stop : value > stop {
            guard items.count < maxRangeLength else {
                throw ChatTemplateError.runtime("range too big, max is \(maxRangeLength) items")
            }
            items.append(.int(value))
            let (next, overflow) = value.addingReportingOverflow(step)
            if overflow { break }
            value = next
        }
        return .array(items)
    }
}

/// C `strftime` for the directives templates use (C/English locale, as in CPython on Linux).
enum JinjaStrftime {
    static let months = ["January", "February", "March", "April", "May", "June", "July", "August",
                         "September", "October", "November", "December"]
    static let weekdays = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]

    static func format(_ format: String, _ c: DateComponents) -> String {
        let year = c.year ?? 1970, month = c.month ?? 1, day = c.day ?? 1
        let hour = c.hour ?? 0, minute = c.minute ?? 0, second = c.second ?? 0
        let weekday = (c.weekday ?? 1) - 1  // 0 = Sunday
        let dayOfYear = dayOfYear(year: year, month: month, day: day)
        var out = ""
        var scalars = format.unicodeScalars.makeIterator()
        while let ch = scalars.next() {
            guard ch == "%" else { out.unicodeScalars.append(ch); continue }
            guard var directive = scalars.next() else { out += "%"; break }
            // glibc's `-` flag drops zero padding (`%-d`).
            let unpadded = directive == "-"
            if unpadded { guard let next = scalars.next() else { out += "%-"; break }; directive = next }
            func num(_ value: Int, _ width: Int) -> String {
                let text = String(value)
                return unpadded ? text : String(repeating: "0", count: max(0, width - text.count)) + text
            }
            switch directive {
            case "Y": out += String(year)
            case "y": out += num(year % 100, 2)
            case "m": out += num(month, 2)
            case "d": out += num(day, 2)
            case "e": out += unpadded ? String(day) : (day < 10 ? " \(day)" : String(day))
            case "H": out += num(hour, 2)
            case "I": out += num(hour % 12 == 0 ? 12 : hour % 12, 2)
            case "M": out += num(minute, 2)
            case "S": out += num(second, 2)
            case "p": out += hour < 12 ? "AM" : "PM"
            case "j": out += num(dayOfYear, 3)
            case "B": out += months[(month - 1) % 12]
            case "b", "h": out += String(months[(month - 1) % 12].prefix(3))
            case "A": out += weekdays[weekday % 7]
            case "a": out += String(weekdays[weekday % 7].prefix(3))
            case "w": out += String(weekday)
            case "u": out += String(weekday == 0 ? 7 : weekday)
            case "F": out += "\(year)-\(num(month, 2))-\(num(day, 2))"
            case "D": out += "\(num(month, 2))/\(num(day, 2))/\(num(year % 100, 2))"
            case "T": out += "\(num(hour, 2)):\(num(minute, 2)):\(num(second, 2))"
            case "R": out += "\(num(hour, 2)):\(num(minute, 2))"
            case "n": out += "\n"
            case "t": out += "\t"
            case "%": out += "%"
            default:
                out += "%"
                out.unicodeScalars.append(directive)
            }
        }
        return out
    }

    private static func dayOfYear(year: Int, month: Int, day: Int) -> Int {
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return lengths.prefix(max(0, min(12, month - 1))).reduce(0, +) + day
    }
}

import Foundation

/// Markup whose every interpolated `String` is escaped: a page is built only from literals,
/// escaped text and other `HTML`, so no value from Redis (a job id, an error message) can become
/// markup or script.
public struct HTML: Sendable, ExpressibleByStringInterpolation, CustomStringConvertible {
    public let rendered: String

    public init(stringLiteral value: String) { rendered = value }

    public init(stringInterpolation: Interpolation) { rendered = stringInterpolation.output }

    init(trusted: String) { rendered = trusted }

    public var description: String { rendered }

    public struct Interpolation: StringInterpolationProtocol {
        var output = ""

        public init(literalCapacity: Int, interpolationCount: Int) {
            output.reserveCapacity(literalCapacity + interpolationCount * 16)
        }

        public mutating func appendLiteral(_ literal: String) { output += literal }
        /// Text: escaped.
        public mutating func appendInterpolation(_ text: String) { output += HTML.escape(text) }
        public mutating func appendInterpolation(_ number: Int) { output += String(number) }
        public mutating func appendInterpolation(_ markup: HTML) { output += markup.rendered }
        public mutating func appendInterpolation(_ parts: [HTML]) { output += parts.map(\.rendered).joined() }
        /// A path segment or query value: percent-encoded, then escaped.
        public mutating func appendInterpolation(url component: String) {
            output += HTML.escape(HTML.urlComponent(component))
        }
    }

    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// `text` percent-encoded for a URL's path segment or query value (then HTML-escaped where it is put).
    public static func urlComponent(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    private static let unreserved = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
    )
}

import Foundation
import IDCardContract
import IDCardQueue
import Logging

/// One JSON object per line on stdout: `time`, `level`, `message`, then the metadata
/// (worker, job, attempt, outcome, code, ...). The libraries never put personal data in metadata.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    init(label: String) {
        self.label = label
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields: [String: JSONValue] = [
            "time": .string(Timestamp.iso8601()), "level": .string(event.level.rawValue),
            "message": .string("\(event.message)"),
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
            fields[key] = .string("\(value)")
        }
        var line = JSONValue.object(fields).encoded()
        line.append(0x0A)
        FileHandle.standardOutput.write(line)
    }
}

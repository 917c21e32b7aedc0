/// A problem the user must fix (configuration, files), printed as `Error: <message>` without the usage text.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

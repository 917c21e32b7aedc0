import NIOCore

extension ByteBuffer {
    /// Writes `arguments` as one RESP command: an array of bulk strings, binary-safe.
    ///
    /// Written here rather than by hiredis's `redisFormatCommandArgv`: that formats into a buffer
    /// of its own, which would then be copied once more into the connection's, and a finish
    /// carries a whole image.
    mutating func writeRedisCommand(_ arguments: [RedisArgument]) {
        writeStaticString("*")
        writeString(String(arguments.count))
        writeStaticString("\r\n")
        for argument in arguments {
            writeStaticString("$")
            writeString(String(argument.byteCount))
            writeStaticString("\r\n")
            switch argument {
            case .string(let text): writeString(text)
            case .data(let data): data.withUnsafeBytes { _ = writeBytes($0) }
            }
            writeStaticString("\r\n")
        }
    }
}

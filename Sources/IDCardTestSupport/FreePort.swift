import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Loopback ports and a minimal socket exchange, for starting servers in tests.
public enum FreePort {
    /// Every port this process has handed out: the kernel may hand a released port out again at
    /// once, and two servers of one test run told the same port would answer for each other.
    private static let handedOut = Mutex<Set<Int>>([])

    /// A port the kernel just handed out and released, never one this process handed out before.
    /// Another process may still take it before the server binds it: a server started on it waits
    /// for its own log to say it listens (``RedisServer``).
    public static func pick() throws -> Int {
        for _ in 0..<100 {
            let port = try pickOnce()
            if handedOut.withLock({ $0.insert(port).inserted }) { return port }
        }
        throw TestSupportError("no loopback port left that this process has not handed out")
    }

    private static func pickOnce() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSupportError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { throw TestSupportError("bind() failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Connects to 127.0.0.1:port, sends `text`, and tells whether the answer starts with `expectPrefix`.
    static func exchange(port: Int, send text: String, expectPrefix: String) throws -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { return false }
        _ = text.withCString { Glibc.send(fd, $0, strlen($0), 0) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = recv(fd, &buffer, buffer.count, 0)
        guard count > 0 else { return false }
        return String(decoding: buffer[0..<count], as: UTF8.self).hasPrefix(expectPrefix)
    }
}

import Foundation

/// Steps the wall clock of a process started with ``environment`` (a `redis-server`): its
/// `gettimeofday`, `clock_gettime(CLOCK_REALTIME)` and `time` run ahead or behind by what
/// ``shift(by:)`` last set; its monotonic clock is left alone, as an NTP step leaves it.
///
/// Debian's libfaketime does the same but deadlocks in Debian's redis-server, whose jemalloc
/// reads the clock while libfaketime is still starting (libfaketime issue #130); this preload
/// calls the kernel directly and allocates nothing. Built with `cc` on first use.
public final class ClockShift: Sendable {
    public let file: URL

    public init() throws {
        file = FileManager.default.temporaryDirectory.appendingPathComponent("idocr-clockshift-\(UUID().uuidString)")
        try Data("0".utf8).write(to: file)
    }

    /// The environment that makes a process read its wall clock through this shift.
    public var environment: [String: String] {
        get throws { ["LD_PRELOAD": try Self.library().path, "CLOCKSHIFT_FILE": file.path] }
    }

    /// From now on the process's wall clock reads `offset` from the real one (negative: behind).
    /// It sees the change within 2 ms.
    public func shift(by offset: Duration) throws {
        let staged = file.appendingPathExtension("new")
        try Data(String(offset / .microseconds(1)).utf8).write(to: staged)
        guard rename(staged.path, file.path) == 0 else { throw TestSupportError("cannot write \(file.path)") }
    }

    deinit { try? FileManager.default.removeItem(at: file) }

    private static let built = Result { () throws -> URL in
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("idocr-clockshift-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let source = directory.appendingPathComponent("clockshift.c")
        let library = directory.appendingPathComponent("clockshift.so")
        try Data(ClockShift.source.utf8).write(to: source)
        let compiler = Process()
        compiler.executableURL = URL(fileURLWithPath: "/usr/bin/cc")
        compiler.arguments = ["-shared", "-fPIC", "-O2", "-o", library.path, source.path]
        try compiler.run()
        compiler.waitUntilExit()
        guard compiler.terminationStatus == 0 else { throw TestSupportError("cc could not build the clock-shift preload") }
        return library
    }

    private static func library() throws -> URL { try built.get() }

    private static let source = """
        #define _GNU_SOURCE
        #include <fcntl.h>
        #include <stdlib.h>
        #include <sys/syscall.h>
        #include <sys/time.h>
        #include <time.h>
        #include <unistd.h>

        /* The shift in microseconds, read from CLOCKSHIFT_FILE at most every 2 ms. */
        static long long shift_us(void) {
            static long long cached, checked_ns;
            struct timespec mono;
            syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &mono);
            long long now_ns = (long long)mono.tv_sec * 1000000000LL + mono.tv_nsec;
            if (now_ns - __atomic_load_n(&checked_ns, __ATOMIC_RELAXED) < 2000000LL) return __atomic_load_n(&cached, __ATOMIC_RELAXED);
            const char *path = getenv("CLOCKSHIFT_FILE");
            long long value = 0;
            if (path) {
                int fd = (int)syscall(SYS_open, path, O_RDONLY);
                if (fd >= 0) {
                    char text[32];
                    long n = syscall(SYS_read, fd, text, sizeof text - 1);
                    syscall(SYS_close, fd);
                    if (n > 0) { text[n] = 0; value = strtoll(text, 0, 10); }
                }
            }
            __atomic_store_n(&cached, value, __ATOMIC_RELAXED);
            __atomic_store_n(&checked_ns, now_ns, __ATOMIC_RELAXED);
            return value;
        }

        int clock_gettime(clockid_t id, struct timespec *ts) {
            int result = (int)syscall(SYS_clock_gettime, id, ts);
            if (result == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) {
                long long ns = (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec + shift_us() * 1000LL;
                ts->tv_sec = ns / 1000000000LL;
                ts->tv_nsec = ns % 1000000000LL;
            }
            return result;
        }

        int gettimeofday(struct timeval *tv, void *tz) {
            (void)tz;
            struct timespec ts;
            int result = clock_gettime(CLOCK_REALTIME, &ts);
            if (result == 0 && tv) { tv->tv_sec = ts.tv_sec; tv->tv_usec = ts.tv_nsec / 1000; }
            return result;
        }

        time_t time(time_t *out) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            if (out) *out = ts.tv_sec;
            return ts.tv_sec;
        }
        """
}

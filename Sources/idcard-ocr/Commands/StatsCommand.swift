import ArgumentParser
import Foundation
import IDCardContract
import IDCardQueue

struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: """
            Queue depths: pending, processing, delayed, dead, workers; with --watch also rates and readiness. With \
            --queues (IDOCR_QUEUES), every queue: a table each, or a JSON object per line.
            """
    )

    @OptionGroup var queueOptions: QueueOptions
    @Flag(help: "One JSON object") var json = false
    @Flag(help: "Refresh in place every second until interrupted, with rates and readiness") var watch = false

    func run() async throws {
        let json = self.json
        let watch = self.watch
        let queues = try queueOptions.openQueues()
        do {
            var previous: [(QueueStats, ContinuousClock.Instant)]?
            repeat {
                var all: [QueueStats] = []
                for queue in queues { all.append(try await queue.stats()) }
                if json {
                    for stats in all { print(Self.json(stats)) }
                } else {
                    let table = all.indices.map { Self.table(all[$0], previous: previous?[$0]) }
                        .joined(separator: "\n\n")
                    // In place: home, each line cleared to its end, then the rest of the screen.
                    print(
                        watch
                            ? "\u{1B}[H" + table.replacingOccurrences(of: "\n", with: "\u{1B}[K\n") + "\u{1B}[K\u{1B}[J"
                            : table
                    )
                    fflush(nil)  // every stream: --watch never exits to flush a pipe
                }
                previous = all.map { ($0, .now) }
                if watch { try await Task.sleep(for: .seconds(1)) }
            } while watch
        } catch {
            for queue in queues { await queue.shutdown() }
            throw error
        }
        for queue in queues { await queue.shutdown() }
    }

    /// The contract's field order: queue, pending, processing, delayed, dead, workers.
    static func json(_ stats: QueueStats) -> String {
        let queue = String(decoding: JSONValue.string(stats.queue).encoded(), as: UTF8.self)
        let counts = [
            ("pending", stats.pending), ("processing", stats.processing), ("delayed", stats.delayed),
            ("dead", stats.dead), ("workers", stats.workers),
        ]
        return "{\"queue\":\(queue)" + counts.map { ",\"\($0.0)\":\($0.1)" }.joined() + "}"
    }

    static func table(_ stats: QueueStats, previous: (QueueStats, ContinuousClock.Instant)?) -> String {
        let ready = stats.workers - stats.pausedWorkers
        var rows = [
            ("queue", stats.queue, ""), ("pending", "\(stats.pending)", ""), ("processing", "\(stats.processing)", ""),
            ("delayed", "\(stats.delayed)", ""), ("dead", "\(stats.dead)", ""),
            (
                "workers", "\(stats.workers)",
                stats.workers == 0
                    ? ""
                    : stats.pausedWorkers == 0
                        ? "all ready" : "\(ready) ready, \(stats.pausedWorkers) paused (account or configuration)"
            ),
            ("succeeded", "\(stats.succeeded)", ""), ("failed", "\(stats.failed)", ""),
            ("retried", "\(stats.retried)", ""),
        ]
        if let pause = stats.pause {
            rows[0].2 = "PAUSED by \(pause.by) at \(pause.at)" + (pause.reason.isEmpty ? "" : ": \(pause.reason)")
        }
        if let (before, at) = previous {
            let seconds = max(Double((ContinuousClock.now - at) / .milliseconds(1)) / 1000, 0.001)
            let rate = { (now: Int, then: Int) in String(format: "%+.1f/s", Double(now - then) / seconds) }
            rows[1].2 = rate(stats.pending, before.pending)
            rows[4].2 = rate(stats.dead, before.dead)
            rows[6].2 = rate(stats.succeeded, before.succeeded)
            rows[7].2 = rate(stats.failed, before.failed)
            rows[8].2 = rate(stats.retried, before.retried)
        }
        return rows.map {
            $0.0.padding(toLength: 12, withPad: " ", startingAt: 0)
                + $0.1.padding(toLength: 10, withPad: " ", startingAt: 0) + $0.2
        }
        .joined(separator: "\n")
    }
}

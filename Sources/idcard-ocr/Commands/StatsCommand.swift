import ArgumentParser
import Foundation
import IDCardQueue

struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Queue depths: pending, processing, delayed, dead, workers."
    )

    @OptionGroup var queueOptions: QueueOptions
    @Flag(help: "One JSON object") var json = false
    @Flag(help: "Refresh every second until interrupted") var watch = false

    func run() async throws {
        let json = self.json, watch = self.watch
        try await queueOptions.openQueue().using { queue in
            var previous: (QueueStats, ContinuousClock.Instant)?
            repeat {
                let stats = try await queue.stats()
                if json {
                    print(Self.json(stats))
                } else {
                    if watch { print("\u{1B}[H\u{1B}[2J", terminator: "") }
                    print(Self.table(stats, previous: previous))
                }
                previous = (stats, .now)
                if watch { try await Task.sleep(for: .seconds(1)) }
            } while watch
        }
    }

    /// The contract's field order: queue, pending, processing, delayed, dead, workers.
    static func json(_ stats: QueueStats) -> String {
        let queue = String(decoding: JSONValue.string(stats.queue).encoded(), as: UTF8.self)
        return "{\"queue\":\(queue),\"pending\":\(stats.pending),\"processing\":\(stats.processing),\"delayed\":\(stats.delayed),\"dead\":\(stats.dead),\"workers\":\(stats.workers)}"
    }

    static func table(_ stats: QueueStats, previous: (QueueStats, ContinuousClock.Instant)?) -> String {
        var rows = [
            ("queue", stats.queue, ""), ("pending", "\(stats.pending)", ""), ("processing", "\(stats.processing)", ""),
            ("delayed", "\(stats.delayed)", ""), ("dead", "\(stats.dead)", ""), ("workers", "\(stats.workers)", ""),
        ]
        if let (before, at) = previous {
            let seconds = max(Double((ContinuousClock.now - at) / .milliseconds(1)) / 1000, 0.001)
            let rate = { (now: Int, then: Int) in String(format: "%+.1f/s", Double(now - then) / seconds) }
            rows[1].2 = rate(stats.pending, before.pending)
            rows[4].2 = rate(stats.dead, before.dead)
        }
        return rows.map { $0.0.padding(toLength: 12, withPad: " ", startingAt: 0) + $0.1.padding(toLength: 10, withPad: " ", startingAt: 0) + $0.2 }
            .joined(separator: "\n")
    }
}

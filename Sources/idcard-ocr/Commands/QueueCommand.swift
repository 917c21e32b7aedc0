import ArgumentParser
import Foundation
import IDCardQueue

/// `idcard-ocr queue pause|resume`: the dashboard's pause switch from a terminal.
struct QueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "Pause or resume taking the queue's jobs, for the whole fleet.",
        subcommands: [Pause.self, Resume.self]
    )

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop every worker taking this queue's jobs; jobs in flight finish, pushes wait in pending."
        )
        @OptionGroup var queueOptions: QueueOptions
        @Option(help: "Why, shown on the dashboard") var reason = ""

        func run() async throws {
            let reason = self.reason
            try await queueOptions.openQueue().using { try await $0.pause(by: "cli", reason: reason) }
            print("paused")
        }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Let workers take this queue's jobs again.")
        @OptionGroup var queueOptions: QueueOptions

        func run() async throws {
            let resumed = try await queueOptions.openQueue().using { try await $0.resume() }
            print(resumed ? "resumed" : "was not paused")
        }
    }
}

import ArgumentParser
import Foundation
import IDCardQueue

struct DLQCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq", abstract: "Inspect, put back or drop dead letters.",
        subcommands: [List.self, Requeue.self, Purge.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print dead letters, newest first, one JSON per line.")
        @OptionGroup var queueOptions: QueueOptions
        @Option(help: "How many") var limit = 100

        func run() async throws {
            let limit = self.limit
            let letters = try await queueOptions.openQueue().using { try await $0.deadLetters(limit: limit) }
            for (element, _) in letters { FileHandle.standardOutput.write(element + Data("\n".utf8)) }
        }
    }

    struct Requeue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Put dead letters back on pending unchanged: all, or those with the given ids.")
        @OptionGroup var queueOptions: QueueOptions
        @Option(name: .customLong("id"), help: "A job id to put back (repeatable); default: all") var ids: [String] = []

        func run() async throws {
            let ids = self.ids.isEmpty ? nil : Set(self.ids)
            let moved = try await queueOptions.openQueue().using { try await $0.requeueDeadLetters(ids: ids) }
            print("requeued \(moved)")
        }
    }

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Drop every dead letter.")
        @OptionGroup var queueOptions: QueueOptions

        func run() async throws {
            let dropped = try await queueOptions.openQueue().using { try await $0.purgeDeadLetters() }
            print("purged \(dropped)")
        }
    }
}

import ArgumentParser
import Foundation
import IDCardContract
import IDCardQueue

struct DLQCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "Inspect, put back or drop dead letters.",
        subcommands: [List.self, Requeue.self, Purge.self]
    )

    /// What to do about letters that stay sealed.
    static func sealedHint(_ keys: EncryptionKeys?) -> String {
        keys == nil ? "give --encryption-keys-file" : "none of the keys given opens them"
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print dead letters, newest first, one JSON per line; sealed jobs opened when keys are given."
        )
        @OptionGroup var queueOptions: QueueOptions
        @Option(help: "How many") var limit = 100

        func run() async throws {
            let limit = self.limit
            let keys = try queueOptions.configuration().encryptionKeys
            let letters = try await queueOptions.openQueue().using { try await $0.deadLetters(limit: limit) }
            var sealed = 0
            for (element, letter) in letters {
                guard let letter, letter.isSealed else {
                    FileHandle.standardOutput.write(element + Data("\n".utf8))
                    continue
                }
                guard let keys, let opened = try? letter.opened(with: keys) else {
                    sealed += 1
                    FileHandle.standardOutput.write(element + Data("\n".utf8))
                    continue
                }
                FileHandle.standardOutput.write(opened.jsonValue.encoded() + Data("\n".utf8))
            }
            if sealed > 0 {
                FileHandle.standardError.write(
                    Data("\(sealed) dead letters stay sealed: \(DLQCommand.sealedHint(keys))\n".utf8)
                )
            }
        }
    }

    struct Requeue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                """
                Put dead letters back on pending unchanged: all, or those with the given ids. Sealed ones need the \
                keys.
                """
        )
        @OptionGroup var queueOptions: QueueOptions
        @Option(name: .customLong("id"), help: "A job id to put back (repeatable); default: all") var ids: [String] = []

        func run() async throws {
            let ids = self.ids.isEmpty ? nil : Set(self.ids)
            let keys = try queueOptions.configuration().encryptionKeys
            let (moved, sealed) = try await queueOptions.openQueue().using {
                try await $0.requeueDeadLetters(ids: ids, opening: keys)
            }
            print("requeued \(moved)")
            if sealed > 0 {
                FileHandle.standardError.write(
                    Data("\(sealed) sealed dead letters left in place: \(DLQCommand.sealedHint(keys))\n".utf8)
                )
                throw ExitCode(1)
            }
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

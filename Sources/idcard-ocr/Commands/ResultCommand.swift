import ArgumentParser
import Foundation
import IDCardContract
import IDCardQueue

struct ResultCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "result",
        abstract:
            "Print a job's result JSON, its body opened when sealed and keys are given (exit 1 when there is none)."
    )

    @OptionGroup var queueOptions: QueueOptions
    @Argument(help: "The job id") var id: String

    func run() async throws {
        let id = self.id
        let keys = try queueOptions.configuration().encryptionKeys
        let data = try await queueOptions.openQueue().using { try await $0.resultData(id: id) }
        guard let data else {
            FileHandle.standardError.write(Data("no result for \(id) (not finished, unknown, or expired)\n".utf8))
            throw ExitCode(1)
        }
        guard let result = try? JobResult.decode(data), result.hasSealedBody else {
            FileHandle.standardOutput.write(data + Data("\n".utf8))
            return
        }
        guard let keys else {
            FileHandle.standardError.write(
                Data(
                    "the body is sealed; give --encryption-keys-file (or IDOCR_ENCRYPTION_KEYS_FILE) to open it\n".utf8
                )
            )
            FileHandle.standardOutput.write(data + Data("\n".utf8))
            return
        }
        do {
            FileHandle.standardOutput.write(try result.openingBody(with: keys).encoded() + Data("\n".utf8))
        } catch {
            throw CLIError("cannot open the body of \(id): \(error)")
        }
    }
}

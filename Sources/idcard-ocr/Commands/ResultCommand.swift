import ArgumentParser
import Foundation

struct ResultCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "result", abstract: "Print a job's result JSON (exit 1 when there is none)."
    )

    @OptionGroup var queueOptions: QueueOptions
    @Argument(help: "The job id") var id: String

    func run() async throws {
        let id = self.id
        let data = try await queueOptions.openQueue().using { try await $0.resultData(id: id) }
        guard let data else {
            FileHandle.standardError.write(Data("no result for \(id) (not finished, unknown, or expired)\n".utf8))
            throw ExitCode(1)
        }
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }
}

import ArgumentParser
import IDCardContract

@main
struct IDCardOCR: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "idcard-ocr",
        abstract: "A worker fleet that reads Chinese resident ID cards from a Redis queue.",
        version: ProductVersion.current,
        subcommands: [
            WorkerCommand.self, ServeCommand.self, DashboardCommand.self, EnqueueCommand.self, ResultCommand.self,
            StatsCommand.self, DLQCommand.self, QueueCommand.self, APIKeyCommand.self, DashboardUserCommand.self,
        ]
    )
}

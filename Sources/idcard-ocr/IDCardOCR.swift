import ArgumentParser

@main
struct IDCardOCR: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "idcard-ocr",
        abstract: "A worker fleet that reads Chinese resident ID cards from a Redis queue.",
        subcommands: [
            WorkerCommand.self, ServeCommand.self, EnqueueCommand.self, ResultCommand.self, StatsCommand.self,
            DLQCommand.self, APIKeyCommand.self,
        ]
    )
}

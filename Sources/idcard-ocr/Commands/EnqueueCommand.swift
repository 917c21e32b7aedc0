import ArgumentParser
import Foundation
import IDCardContract
import IDCardQueue

struct EnqueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enqueue",
        abstract: "Enqueue images (files or http(s) URLs); with --wait, show progress and print each result."
    )

    @OptionGroup var queueOptions: QueueOptions
    @Argument(help: "Image files or http(s) URLs") var images: [String]
    @Option(help: "1 portrait side, 2 emblem side; default: detect") var type: String = ""
    @Flag(name: .customLong("need-quality"), help: "Ask for the quality flags") var needQuality = false
    @Option(help: "The job id (one image only); default: derived from the file name") var id: String?
    @Flag(help: "Wait for the results, show progress on stderr, print each result JSON on stdout") var wait = false
    @Flag(help: "With --wait: print the recognised fields as tables at the end instead of JSON") var table = false
    @Option(help: "Seconds to wait with --wait") var timeout: Double = 300

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("give at least one image file or URL") }
        guard Job.Side(rawValue: type) != nil else { throw ValidationError("--type must be 1 or 2") }
        if id != nil, images.count != 1 { throw ValidationError("--id names one job: give one image") }
        if table, !wait { throw ValidationError("--table shows results: use it with --wait") }
        if let id, !Job.isValidID(id) { throw ValidationError("--id must be 1-128 characters of A-Za-z0-9._:-") }
    }

    func run() async throws {
        let queue = try queueOptions.openQueue()
        let replyTo = wait ? queue.keys.base + "reply:" + Self.randomSuffix() : nil
        var jobs: [Job] = []
        for path in images {
            let image: Job.Image
            if path.hasPrefix("http://") || path.hasPrefix("https://") {
                image = .url(path)
            } else {
                guard let bytes = FileManager.default.contents(atPath: path) else {
                    throw CLIError("cannot read \(path)")
                }
                image = .base64(encoding: bytes)
            }
            let jobID = id ?? Self.jobID(for: path)
            jobs.append(
                Job(
                    id: jobID,
                    image: image,
                    side: Job.Side(rawValue: type) ?? .detect,
                    needQuality: needQuality,
                    replyTo: replyTo
                )
            )
        }
        let (timeout, table) = (self.timeout, self.table)
        let keys = try queueOptions.configuration().encryptionKeys
        let results = try await queue.using { queue -> [String: JobResult]? in
            try await queue.enqueue(jobs)
            guard let replyTo else {
                for job in jobs { print(job.id) }
                return nil
            }
            return try await Self.waitForResults(
                of: jobs,
                on: replyTo,
                queue: queue,
                timeout: timeout,
                printEach: !table,
                opening: keys
            )
        }
        guard let results else { return }
        if table {
            print(
                ResultTable(
                    rows: zip(images, jobs).map { (URL(fileURLWithPath: $0.0).lastPathComponent, results[$0.1.id]) }
                ).render(),
                terminator: ""
            )
        }
        if results.count < jobs.count || results.values.contains(where: { $0.status == .failed }) { throw ExitCode(1) }
    }

    /// Shows progress and, with `printEach`, prints each result as it arrives (its body opened with
    /// `keys` when sealed); returns those that arrived.
    static func waitForResults(
        of jobs: [Job],
        on replyTo: String,
        queue: JobQueue,
        timeout: Double,
        printEach: Bool,
        opening keys: EncryptionKeys?
    ) async throws -> [String: JobResult] {
        let deadline = Date().addingTimeInterval(timeout)
        var remaining = Set(jobs.map(\.id))
        var results: [String: JobResult] = [:]
        var failed = 0
        let total = remaining.count
        let progress = Progress(total: total)
        while !remaining.isEmpty {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { break }
            guard let data = try await queue.waitForReply(on: replyTo, timeoutSeconds: min(left, 1)) else {
                let stats = try? await queue.stats()
                progress.show(done: total - remaining.count, failed: failed, stats: stats)
                continue
            }
            guard var result = try? JobResult.decode(data), remaining.remove(result.id) != nil else { continue }
            if let keys, result.hasSealedBody, let opened = try? result.openingBody(with: keys) { result = opened }
            results[result.id] = result
            if result.status == .failed { failed += 1 }
            progress.show(done: total - remaining.count, failed: failed, stats: nil)
            if printEach { FileHandle.standardOutput.write(result.encoded() + Data("\n".utf8)) }
        }
        progress.finish()
        if !remaining.isEmpty {
            FileHandle.standardError.write(
                Data(
                    "timed out waiting for \(remaining.count) result(s); read them later with `idcard-ocr result ID`\n"
                        .utf8
                )
            )
        }
        return results
    }

    static func jobID(for path: String) -> String {
        let base = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let cleaned = String(
            base.unicodeScalars.map { scalar -> Character in
                Job.isValidID(String(scalar)) ? Character(scalar) : "-"
            }.prefix(80)
        )
        return "cli-\(cleaned.isEmpty ? "image" : cleaned)-\(randomSuffix())"
    }

    static func randomSuffix() -> String {
        String(UInt64.random(in: .min ... .max), radix: 36)
    }
}

/// One line on stderr, rewritten in place when stderr is a terminal.
struct Progress {
    let total: Int
    let isTerminal = isatty(STDERR_FILENO) != 0

    func show(done: Int, failed: Int, stats: QueueStats?) {
        var line = "\(done)/\(total) done, \(failed) failed"
        if let stats {
            line +=
                """
                 · queue: \(stats.pending) pending, \(stats.processing) processing, \(stats.delayed) delayed, \
                \(stats.workers) workers
                """
        }
        FileHandle.standardError.write(Data((isTerminal ? "\r\u{1B}[K" + line : line + "\n").utf8))
    }

    func finish() {
        if isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}

import ArgumentParser
import Foundation
import IDCardDashboard
import IDCardQueue
import IDCardWorker
import ServiceLifecycle

struct DashboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard",
        abstract: "Serve the operators' web dashboard of the queues until SIGTERM. Every flag also reads its variable.",
        discussion: """
            Shows every queue of --queues (IDOCR_QUEUES) or the one queue: depths, rates, the rate budget, workers, \
            dead letters and results, personal data masked unless the role may reveal it. Users come from \
            IDOCR_DASHBOARD_USERS_FILE (lines made by `idcard-ocr dashboard-user`) or, with \
            IDOCR_DASHBOARD_AUTH=proxy, from an authenticating proxy's headers. See docs/dashboard.md.
            """
    )

    @OptionGroup var queueOptions: QueueOptions
    @Option(help: "Address to listen on (env IDOCR_DASHBOARD_HOST, default 127.0.0.1)") var host: String?
    @Option(help: "Port to listen on, 0 = any (env IDOCR_DASHBOARD_PORT, default 9470)") var port: Int?
    @Option(name: .customLong("users-file"), help: "The users file (env IDOCR_DASHBOARD_USERS_FILE)")
    var usersFile: String?
    @Flag(name: .customLong("read-only"), help: "Refuse every action whatever the role (env IDOCR_DASHBOARD_READ_ONLY)")
    var readOnly = false

    func run() async throws {
        let logger = Telemetry.bootstrap(service: "dashboard")
        let workerConfiguration = try queueOptions.configuration()
        let server: DashboardServer
        let queues: [JobQueue]
        do {
            var configuration = try DashboardConfiguration(environment: ProcessInfo.processInfo.environment)
            if let host { configuration.host = host }
            if let port { configuration.port = port }
            if let usersFile { configuration.usersFile = usersFile }
            if readOnly { configuration.readOnly = true }
            try configuration.validate()
            try workerConfiguration.validate()
            let users =
                try configuration.authentication == .users ? UsersFile(path: configuration.usersFile ?? "") : nil
            let redis = try workerConfiguration.redisConfiguration()
            queues = workerConfiguration.servedQueues.map {
                JobQueue(redis: redis, keys: QueueKeys(prefix: workerConfiguration.keyPrefix, queue: $0.name))
            }
            server = try DashboardServer(
                configuration: configuration,
                queues: queues.map { ($0.keys.queue, $0, workerConfiguration.rateKeys) },
                users: users,
                encryptionKeys: workerConfiguration.encryptionKeys,
                heartbeatTimeout: workerConfiguration.heartbeatTimeout,
                logger: logger
            )
        } catch {
            throw CLIError(error.description)
        }
        let host = server.configuration.host
        let application = server.application { address in
            let port = address?.port ?? server.configuration.port
            logger.notice(
                "dashboard listening",
                metadata: [
                    "url": "http://\(host.contains(":") ? "[\(host)]" : host):\(port)",
                    "readOnly": "\(server.configuration.readOnly)", "auth": "\(server.configuration.authentication)",
                ]
            )
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: server.sampler),
                    .init(service: application, failureTerminationBehavior: .gracefullyShutdownGroup),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        var failed = false
        do {
            try await group.run()
        } catch {
            logger.error("dashboard failed", metadata: ["error": "\(error)"])
            failed = true
        }
        for queue in queues { await queue.shutdown() }
        if failed { throw ExitCode.failure }
    }
}

/// `idcard-ocr dashboard-user NAME --role ROLE`: a users-file line, the password read from stdin.
struct DashboardUserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard-user",
        abstract: "Make a dashboard users-file line: NAME ROLES scrypt-hash. The password is read from stdin.",
        discussion: """
            Roles: viewer (look, masked), operator (also requeue, purge, pause, resume), revealer (look, and reveal \
            one field at a time), admin (all). Append the line to the users file: \
            idcard-ocr dashboard-user alice --role operator >> users.txt
            """
    )

    @Argument(help: "The user's name: 1-64 characters of A-Za-z0-9._@-") var name: String
    @Option(name: .customLong("role"), help: "viewer, operator, revealer or admin (repeatable)") var roles: [String]
    @Option(help: "scrypt cost, log2 of N (default 15; lower only for tests)") var cost = PasswordHash.defaultCostLog2

    func validate() throws {
        guard UsersFile.isValidName(name) else {
            throw ValidationError("the name must be 1-64 characters of A-Za-z0-9._@-")
        }
        guard !roles.isEmpty, roles.allSatisfy({ Role(rawValue: $0) != nil }) else {
            throw ValidationError("give --role: \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard (10...20).contains(cost) else { throw ValidationError("--cost must be 10-20") }
    }

    func run() throws {
        let password: String
        if isatty(STDIN_FILENO) == 1 {
            guard let first = getpass("Password for \(name): ").map({ String(cString: $0) }),
                let second = getpass("Again: ").map({ String(cString: $0) }), first == second
            else { throw CLIError("the passwords differ") }
            password = first
        } else {
            password = readLine(strippingNewline: true) ?? ""
        }
        guard password.count >= 8 else { throw CLIError("the password must be at least 8 characters") }
        let hash = try PasswordHash.make(password: password, costLog2: cost)
        print(UsersFile.line(name: name, roles: Set(roles.compactMap(Role.init(rawValue:))), password: hash))
    }
}

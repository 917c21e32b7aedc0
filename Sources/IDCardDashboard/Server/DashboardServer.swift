import Foundation
import Hummingbird
import HummingbirdCore
import IDCardContract
import IDCardQueue
import IDCardServe
import IDCardWorker
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// `idcard-ocr dashboard`: operators' web view of the queues: depths, rates, the rate budget, the
/// workers, the dead list and results, with requeue, purge and pause. Personal data is masked
/// unless the role may reveal it, one field at a time, each reveal an audit event.
///
/// Everything here is shared by every request: the queues, the sessions, the users. Run
/// ``application(onRunning:)`` (the HTTP server) and ``sampler`` in one service group.
public final class DashboardServer: Sendable {
    public let configuration: DashboardConfiguration
    /// The queues shown, in the order given (`IDOCR_QUEUES`), by name.
    let queues: [(name: String, queue: JobQueue, rateKeys: RateKeys)]
    let users: UsersFile?
    let proxies: TrustedProxies
    let sessions: SessionStore
    let throttle = LoginThrottle()
    /// Sign-ins being checked now: scrypt costs 32 MiB and ~0.1 s a check, so a flood of made-up
    /// names must not queue without end in front of the real ones.
    let verifying = NIOLockedValueBox(0)
    static let mostVerifying = 8
    /// The references the pages use for job ids.
    let links = JobLinks()
    let encryptionKeys: EncryptionKeys?
    let heartbeatTimeout: Double
    let audit: AuditLog
    let logger: Logger
    /// Appends each queue's sample to its history, so the chart fills even with no worker running.
    public let sampler: HistorySampler

    /// Checked for a name that is not in the users file, so that an unknown name costs what a
    /// known one does and the time of the answer does not tell them apart.
    let decoy: PasswordHash?

    /// - Parameters:
    ///   - queues: each queue's name, its ``JobQueue`` and where its rate schedule lives.
    ///   - users: the users file; `nil` with proxy authentication.
    ///   - heartbeatTimeout: the fleet's `IDOCR_HEARTBEAT_TIMEOUT`, to tell live workers from dead.
    public init(
        configuration: DashboardConfiguration,
        queues: [(name: String, queue: JobQueue, rateKeys: RateKeys)],
        users: UsersFile?,
        encryptionKeys: EncryptionKeys?,
        heartbeatTimeout: Double,
        logger: Logger
    ) throws(ConfigurationError) {
        self.configuration = configuration
        self.queues = queues
        self.users = users
        self.proxies = try TrustedProxies(list: configuration.trustedProxies)
        self.sessions = SessionStore(idle: configuration.sessionIdle, lifetime: configuration.sessionLifetime)
        self.encryptionKeys = encryptionKeys
        self.heartbeatTimeout = heartbeatTimeout
        var auditLogger = logger
        auditLogger.logLevel = .notice
        self.audit = AuditLog(logger: auditLogger)
        self.logger = logger
        self.sampler = HistorySampler(queues: queues.map(\.queue), heartbeatTimeout: heartbeatTimeout, logger: logger)
        let cost = users?.users.values.map(\.password.costLog2).max() ?? PasswordHash.defaultCostLog2
        self.decoy = try? PasswordHash.make(password: SessionStore.randomToken(), costLog2: cost)
    }

    /// The HTTP server. `onRunning` is told the bound address once it listens (port 0 picks one).
    public func application(
        onRunning: @escaping @Sendable (SocketAddress?) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = Router(context: DashboardRequestContext.self)
        router.add(middleware: SecurityHeaders())
        router.add(middleware: SessionMiddleware(server: self))
        addRoutes(to: router)
        var serverLogger = logger
        serverLogger.logLevel = .warning
        return Application(
            router: router,
            server: .http1(),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { channel in await onRunning(channel.localAddress) },
            logger: serverLogger
        )
    }

    func queue(named name: String?) -> (name: String, queue: JobQueue, rateKeys: RateKeys)? {
        queues.first { $0.name == name }
    }

    /// Whether `session` may act on the queues now: its role, and the dashboard not read-only.
    func mayAct(_ session: Session) -> Bool { session.may(.act) && !configuration.readOnly }

    /// What checking a password found.
    enum Verification {
        case user(UsersFile.User)
        case wrong
        /// ``mostVerifying`` checks are running already.
        case busy
    }

    /// Checks `password` for `user` off the async pool (scrypt blocks for its cost), at most
    /// ``mostVerifying`` at once.
    func verify(user: String, password: String) async -> Verification {
        let admitted = verifying.withLockedValue { count in
            guard count < Self.mostVerifying else { return false }
            count += 1
            return true
        }
        guard admitted else { return .busy }
        defer { verifying.withLockedValue { $0 -= 1 } }
        let known = users?.users[user]
        guard let hash = known?.password ?? decoy else { return .wrong }
        let matches = (try? await NIOThreadPool.singleton.runIfActive { hash.verify(password) }) ?? false
        guard matches, let known else { return .wrong }
        return .user(known)
    }
}

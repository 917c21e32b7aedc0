import Hummingbird
import NIOCore

/// A request's context: where it came from (for trusted proxies and the audit log) and, once
/// ``SessionMiddleware`` let it through, whose session it is.
public struct DashboardRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// Set by ``SessionMiddleware`` for every route past sign-in.
    var session: Session?
    var sessionID: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The peer's address as text, for the audit log and the proxy check.
    var remoteIP: String? { remoteAddress?.ipAddress }

    /// Forms are small: a page of checkboxes at most.
    public var maxUploadSize: Int { 256 * 1024 }
}

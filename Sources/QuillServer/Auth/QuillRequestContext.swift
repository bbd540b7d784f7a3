import Hummingbird
import NIOCore
import QuillStore

/// A signed-in user, as the authentication middleware resolved the request's API key.
struct AuthenticatedUser: Sendable, Hashable {
    /// The user's name, which is also the user's personal namespace.
    let name: String
    /// Whether the user administers the server.
    let isAdmin: Bool
    /// The organizations the user belongs to, with the user's role in each.
    let organizations: [String: MembershipRole]
}

/// Who sent a request.
enum Caller: Sendable, Hashable {
    /// No credentials were sent on a server with users: public projects only, read only.
    case anonymous
    /// Single-user mode (a server with no users): the caller may do everything.
    case singleUser
    /// A user, by API key.
    case user(AuthenticatedUser)

    /// The user's name, when a user is signed in.
    var userName: String? {
        if case .user(let user) = self { return user.name }
        return nil
    }
}

/// What a request needs on a project.
enum Access: Sendable, Hashable {
    /// Reading runs, metrics, artifacts.
    case read
    /// Creating and changing runs, logging, uploading.
    case write
}

/// The request context of every Quill route: Hummingbird's core storage plus the caller.
struct QuillRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// Who sent the request.
    var caller: Caller = .anonymous
    /// The client's IP address, when the connection has one.
    let remoteAddress: String?
    /// Completes when the connection closes (a long response, such as an event stream, stops then).
    let channelClosed: EventLoopFuture<Void>

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress
        channelClosed = source.channel.closeFuture
    }
}

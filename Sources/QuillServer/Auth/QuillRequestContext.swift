import Hummingbird
import QuillStore

/// Who sent a request, as the authentication middleware resolved it.
enum Caller: Sendable, Hashable {
    /// No credentials were sent (public projects only, unless the server runs in single-user mode).
    case anonymous
    /// Single-user mode (a loopback server with no users): the caller may do everything.
    case singleUser
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

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }
}

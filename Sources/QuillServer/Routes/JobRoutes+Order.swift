import QuillCore

extension JobRoutes {
    /// The `order` parameter of `GET /jobs`: `newest` (the default, paged with `before` and `next_before`) or
    /// `queue`, the order workers claim (highest priority first, then the oldest), which the dashboard's queue
    /// shows; `before` still keeps only jobs older than that id, and no `next_before` is given.
    static func claimOrder(_ parameters: QueryParameters) throws -> Bool {
        switch try parameters.string("order") {
        case nil, "newest": return false
        case "queue": return true
        case let other?: throw QuillError(.invalidArgument, "order must be newest or queue, not '\(other)'")
        }
    }
}

import Foundation
import QuillAPI
import QuillCore
package import QuillStore

/// MLflow's `runs/search` over Quill's store: MLflow's filter grammar and `order_by`, its page tokens.
///
/// The filter is translated into Quill's query language (``MLflowSearchFilter/runQuery``) so the store narrows
/// the runs with its indexes; each run the store returns is then checked against the MLflow filter itself
/// (``MLflowRunValues/matches(_:)``), so the result is MLflow's even where the two languages differ.
///
/// The order is MLflow's (``MLflowRunOrder``). When the first `order_by` key is one the store sorts the same
/// way (none, `start_time DESC`, or a metric), the store reads the runs in that order, and only runs that tie
/// on that key (and, with one key, on the millisecond of their start) are put in MLflow's order in memory. A
/// page token then names the group of ties the next page starts in and how many of its runs were returned,
/// and the next page asks the store for the runs from that group on: pages neither repeat nor skip runs, cost
/// about the same at any depth, and stay right while new runs are logged. Other orders (by a param, a tag, a
/// string attribute, several keys led by one of these) are sorted in memory over every matching run, and
/// the page token is an offset, as MLflow's own.
package struct MLflowRunSearch: Sendable {
    /// MLflow's largest `max_results`.
    static let maximumResults = 50000

    let store: any TrackingStore

    package init(store: any TrackingStore) {
        self.store = store
    }

    /// One page of runs of the given projects (already authorized by the caller) that match `filter`, in
    /// the order of `orderBy`, and the token of the next page (`nil` on the last page).
    ///
    /// - Throws: ``MLflowHTTPError`` with `INVALID_PARAMETER_VALUE` for a bad filter, order, token or
    ///   `maxResults`; the store's errors as they are.
    package func search(
        projectIDs: [Int64],
        filter: String?,
        orderBy: [String],
        maxResults: Int,
        pageToken: String?,
        lifecycle: RunLifecycle
    ) async throws -> (runs: [RunDetails], nextPageToken: String?) {
        guard maxResults >= 1 else {
            throw MLflowHTTPError(
                .invalidParameterValue,
                "Invalid value \(maxResults) for parameter 'max_results' supplied. It must be a positive integer"
            )
        }
        guard maxResults <= Self.maximumResults else {
            throw MLflowHTTPError(
                .invalidParameterValue,
                "Invalid value \(maxResults) for parameter 'max_results' supplied. It must be at most \(Self.maximumResults)"
            )
        }
        let parsed = try MLflowSearchFilter(parsing: filter)
        let order = try MLflowRunOrder(parsing: orderBy)
        let plan = Plan(order)
        let fingerprint = MLflowPageToken.fingerprint(filter: filter ?? "", orderBy: orderBy, lifecycle: lifecycle)
        var token: MLflowPageToken?
        if let pageToken, !pageToken.isEmpty {
            token = try MLflowPageToken(decoding: pageToken, fingerprint: fingerprint, keyset: plan.usesKeyset)
        }
        guard !projectIDs.isEmpty else { return ([], nil) }
        var search = RunSearch(projectIDs: projectIDs)
        search.lifecycle = lifecycle
        switch plan {
        case .inMemory:
            return try await sortedInMemory(search, parsed, order, maxResults, token, fingerprint)
        case .store(let sort, let groupByStart):
            return try await storeOrdered(
                search,
                sort: sort,
                groupByStart: groupByStart,
                parsed,
                order,
                maxResults,
                token,
                fingerprint
            )
        }
    }

    /// How a search is ordered.
    enum Plan: Equatable {
        /// By the store: its default order (`sort` `nil`) or a metric; ties resolved in memory.
        case store(sort: RunSort?, groupByStart: Bool)
        /// Every matching run sorted in memory.
        case inMemory

        init(_ order: MLflowRunOrder) {
            guard let first = order.keys.first else {
                self = .store(sort: nil, groupByStart: true)
                return
            }
            switch first.kind {
            case .attribute where first.key == "start_time" && !first.ascending:
                self = .store(sort: nil, groupByStart: true)
            case .metric:
                let field = RunQuery.Field.metric(MetricBounds.normalizedKey(first.key), .latest)
                self = .store(
                    sort: RunSort(field: field, descending: !first.ascending),
                    groupByStart: order.keys.count == 1
                )
            default:
                self = .inMemory
            }
        }

        /// Whether pages continue from a group of ties (else from an offset).
        var usesKeyset: Bool { self != .inMemory }
    }

    // MARK: In memory

    private func sortedInMemory(
        _ search: RunSearch,
        _ filter: MLflowSearchFilter,
        _ order: MLflowRunOrder,
        _ maxResults: Int,
        _ token: MLflowPageToken?,
        _ fingerprint: String
    ) async throws -> (runs: [RunDetails], nextPageToken: String?) {
        var search = search
        search.query = filter.runQuery
        search.limit = 1000
        var matching: [(details: RunDetails, values: MLflowRunValues)] = []
        while true {
            let page = try await store.searchRuns(search)
            for details in page.runs {
                let values = MLflowRunValues(details)
                if values.matches(filter) { matching.append((details, values)) }
            }
            guard let next = page.nextCursor else { break }
            search.cursor = next
        }
        matching.sort { order.precedes($0.values, $1.values) }
        let offset = min(token?.offset ?? 0, matching.count)
        let end = offset + min(maxResults, matching.count - offset)
        let next = end < matching.count ? MLflowPageToken(fingerprint: fingerprint, offset: end).encoded : nil
        return (matching[offset..<end].map(\.details), next)
    }

    // MARK: Store order

    /// Runs that tie in the store's order: the bucket of the sort value (0 a number, 1 NaN, 2 missing), the
    /// number's bits, and the start millisecond when it is part of the group.
    struct Group: Equatable {
        var bucket: Int
        var value: UInt64?
        var start: Int64?
    }

    static func group(_ details: RunDetails, sort: RunSort?, groupByStart: Bool) -> Group {
        let start = groupByStart ? MLflowRunValues.milliseconds(details.run.startedAt) : nil
        guard let sort, case .metric(let key, _) = sort.field else { return Group(bucket: 0, value: nil, start: start) }
        guard let stats = details.metrics[key] else { return Group(bucket: 2, value: nil, start: start) }
        if stats.last.isNaN { return Group(bucket: 1, value: nil, start: start) }
        let value = stats.last == 0 ? 0.0 : stats.last
        return Group(bucket: 0, value: value.bitPattern, start: start)
    }

    // swift-format-ignore: FunctionParameterCount
    private func storeOrdered(
        _ search: RunSearch,
        sort: RunSort?,
        groupByStart: Bool,
        _ filter: MLflowSearchFilter,
        _ order: MLflowRunOrder,
        _ maxResults: Int,
        _ token: MLflowPageToken?,
        _ fingerprint: String
    ) async throws -> (runs: [RunDetails], nextPageToken: String?) {
        var search = search
        search.sort = sort
        let startGroup = token?.group
        let skip = token?.skip ?? 0
        var operands: [RunQuery.Expression] = []
        if let query = filter.runQuery { operands.append(query.expression) }
        if let startGroup { operands.append(Self.atOrAfter(startGroup, sort: sort)) }
        if !operands.isEmpty { search.query = RunQuery(operands.count == 1 ? operands[0] : .and(operands)) }
        search.limit = min(1000, maxResults + 1 + min(skip, 1000))

        var result: [(details: RunDetails, group: Group)] = []
        var pending: [(details: RunDetails, values: MLflowRunValues, group: Group)] = []
        func flush() {
            guard let group = pending.first?.group else { return }
            var runs = pending.filter { $0.values.matches(filter) }
            runs.sort { order.precedes($0.values, $1.values) }
            let dropped = group == startGroup ? min(skip, runs.count) : 0
            result.append(contentsOf: runs.dropFirst(dropped).map { (details: $0.details, group: group) })
            pending = []
        }
        reading: while true {
            let page = try await store.searchRuns(search)
            for details in page.runs {
                let group = Self.group(details, sort: sort, groupByStart: groupByStart)
                if let last = pending.last, last.group != group {
                    flush()
                    if result.count > maxResults { break reading }
                }
                pending.append((details, MLflowRunValues(details), group))
            }
            guard let next = page.nextCursor else {
                flush()
                break
            }
            search.cursor = next
            search.limit = 1000
        }
        guard result.count > maxResults else { return (result.map(\.details), nil) }
        let first = result[maxResults]
        var returned = result[..<maxResults].filter { $0.group == first.group }.count
        if first.group == startGroup { returned += skip }
        let next = MLflowPageToken(fingerprint: fingerprint, group: first.group, skip: returned)
        return (result[..<maxResults].map(\.details), next.encoded)
    }

    /// The runs at or after a group in the store's order, as a query.
    static func atOrAfter(_ group: Group, sort: RunSort?) -> RunQuery.Expression {
        var startedBefore: RunQuery.Expression? {
            guard let start = group.start, let microseconds = MLflowRunValues.firstMicrosecond(after: start) else {
                return nil
            }
            var bytes: [UInt8] = []
            Timestamp.append(microseconds: microseconds, into: &bytes)
            return .comparison(.attribute("created"), .less, [.text(String(decoding: bytes, as: UTF8.self))])
        }
        func within(_ expression: RunQuery.Expression) -> RunQuery.Expression {
            guard let startedBefore else { return expression }
            return .and([expression, startedBefore])
        }
        guard let sort else { return startedBefore ?? .and([]) }
        let field = sort.field
        let exists = MLflowSearchFilter.exists(field)
        let numeric = RunQuery.Expression.comparison(field, .greaterOrEqual, [.number(-.infinity)])
        let missing = RunQuery.Expression.not(exists)
        switch group.bucket {
        case 0:
            let value = Double(bitPattern: group.value ?? 0)
            return .or([
                .comparison(field, sort.descending ? .less : .greater, [.number(value)]),
                within(.comparison(field, .equal, [.number(value)])),
                .not(numeric),
            ])
        case 1:
            return .or([within(.and([exists, .not(numeric)])), missing])
        default:
            return within(missing)
        }
    }
}

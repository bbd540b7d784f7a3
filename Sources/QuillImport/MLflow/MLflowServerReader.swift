import Foundation
import QuillAPI
import QuillClient
import QuillCore
import QuillStore

/// Reads a running MLflow tracking server through its REST API (`/api/2.0/mlflow/…`): experiments and runs by
/// search over every lifecycle stage, each metric's full history a page at a time (in the server's order, which
/// becomes the points' indexes), artifacts by listing and `GET /get-artifact` (the server reads them wherever it
/// keeps them, so `mlflow-artifacts:` and the server's own stores work).
///
/// Credentials as MLflow's client reads them: `MLFLOW_TRACKING_TOKEN` (Bearer), or `MLFLOW_TRACKING_USERNAME` and
/// `MLFLOW_TRACKING_PASSWORD` (Basic).
package struct MLflowServerReader: ImportSource {
    package let location: String
    private let client: BlockingHTTPClient
    /// Points asked for in one history page.
    static let historyPage = 25_000

    /// A reader of the server at `url`; checks that it answers.
    ///
    /// - Throws: ``QuillError`` (`io`) when the server cannot be reached or does not answer as MLflow does.
    package init(url: String, environment: [String: String]) throws {
        location = url
        var client = BlockingHTTPClient(baseURL: url, apiKey: nil, timeout: 60)
        if let token = environment["MLFLOW_TRACKING_TOKEN"], !token.isEmpty {
            client.authorization = "Bearer " + token
        } else if let user = environment["MLFLOW_TRACKING_USERNAME"],
            let password = environment["MLFLOW_TRACKING_PASSWORD"]
        {
            client.authorization = "Basic " + Data((user + ":" + password).utf8).base64EncodedString()
        }
        self.client = client
        _ = try page(
            MLflowSearchExperimentsResponse.self,
            "POST",
            "/api/2.0/mlflow/experiments/search",
            MLflowSearchExperiments(maxResults: 1, viewType: .all)
        )
    }

    /// Sends a request and decodes a 200 answer; anything else is one line that says what to do.
    private func page<Page: Decodable>(
        _ type: Page.Type,
        _ method: String,
        _ path: String,
        _ body: (some Encodable)?
    ) throws -> Page {
        let response: BlockingHTTPClient.Response
        do {
            response = try client.send(method, path, json: try body.map { try APIEncoder().encode($0) })
        } catch let error as QuillError where error.code == .io {
            // The client's own message suggests `quill serve`; this is someone else's server.
            let reason = error.message.firstRange(of: "(").flatMap { open in
                error.message[open.upperBound...].firstRange(of: ")").map {
                    String(error.message[open.upperBound..<$0.lowerBound])
                }
            }
            throw QuillError(
                .io,
                "cannot reach the MLflow server at \(location)\(reason.map { " (\($0))" } ?? ""); check the URL and that `mlflow server` runs there",
                underlying: error
            )
        }
        switch response.status {
        case 200:
            do {
                return try APIDecoder().decode(Page.self, from: response.body ?? .object([:]))
            } catch {
                throw QuillError(
                    .io,
                    "\(location) answered \(method) \(path) with a body that is not MLflow's (\(error)); is it an MLflow server?"
                )
            }
        case 401, 403:
            throw QuillError(
                .unauthorized,
                "the MLflow server at \(location) refused the credentials (HTTP \(response.status)); set MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD"
            )
        default:
            let message = response.body?["message"]?.stringValue ?? "HTTP \(response.status)"
            throw QuillError(
                .io,
                "the MLflow server at \(location) answered \(method) \(path) with \(message); is it an MLflow server?"
            )
        }
    }

    private static func query(_ items: [(String, String)]) -> String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+?/#")
        return items.map { $0.0 + "=" + ($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.1) }
            .joined(separator: "&")
    }

    package func experiments() throws -> [ImportedExperiment] {
        var experiments: [ImportedExperiment] = []
        var token: String?
        repeat {
            let page = try page(
                MLflowSearchExperimentsResponse.self,
                "POST",
                "/api/2.0/mlflow/experiments/search",
                MLflowSearchExperiments(maxResults: 1000, pageToken: token, viewType: .all)
            )
            for experiment in page.experiments ?? [] {
                var tags: [String: String] = [:]
                for tag in experiment.tags ?? [] { tags[tag.key] = tag.value }
                experiments.append(
                    ImportedExperiment(
                        sourceID: experiment.experimentID,
                        name: experiment.name,
                        tags: tags,
                        deleted: experiment.lifecycleStage == "deleted"
                    )
                )
            }
            token = page.nextPageToken.flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        return experiments
    }

    package func runs() throws -> [ImportedRun] {
        var runs: [ImportedRun] = []
        for experiment in try experiments() {
            var token: String?
            repeat {
                let page = try page(
                    MLflowSearchRunsResponse.self,
                    "POST",
                    "/api/2.0/mlflow/runs/search",
                    MLflowSearchRuns(
                        experimentIDs: [experiment.sourceID],
                        runViewType: .all,
                        maxResults: 1000,
                        pageToken: token
                    )
                )
                for found in page.runs ?? [] {
                    guard let id = RunID(found.info.runID) else { continue }
                    var run = ImportedRun(id: id, experimentID: found.info.experimentID)
                    for tag in found.data.tags ?? [] { run.tags[tag.key] = tag.value }
                    for param in found.data.params ?? [] { run.params[param.key] = .string(param.value) }
                    run.name = MLflowMapping.runName(stored: found.info.runName, tags: run.tags)
                    run.status = MLflowMapping.status(found.info.status.rawValue)
                    run.startedAt = MLflowMapping.date(milliseconds: found.info.startTime?.value)
                    run.endedAt = MLflowMapping.date(milliseconds: found.info.endTime?.value)
                    run.user = found.info.userID
                    run.parent = MLflowMapping.parent(tags: run.tags)
                    run.deleted = found.info.lifecycleStage == "deleted"
                    run.artifactLocation = found.info.artifactURI
                    // The keys come with the run's latest values; their histories are read one by one.
                    run.summary = [:]
                    run.metricKeys = (found.data.metrics ?? []).map(\.key)
                    runs.append(run)
                }
                token = page.nextPageToken.flatMap { $0.isEmpty ? nil : $0 }
            } while token != nil
        }
        return runs
    }

    package func metrics(of run: ImportedRun) throws -> [ImportedSeries] {
        try run.metricKeys.map { key in
            var points: [MetricValue] = []
            var token: String?
            repeat {
                var items = [
                    ("run_id", run.id.rawValue), ("metric_key", key), ("max_results", String(Self.historyPage)),
                ]
                if let token { items.append(("page_token", token)) }
                let page = try page(
                    MLflowMetricHistory.self,
                    "GET",
                    "/api/2.0/mlflow/metrics/get-history?" + Self.query(items),
                    Optional<MLflowEmpty>.none
                )
                for metric in page.metrics ?? [] {
                    points.append(
                        MetricValue(
                            key: key,
                            value: metric.value,
                            step: Int(metric.step.value),
                            timestamp: MLflowMapping.date(milliseconds: metric.timestamp.value)
                                ?? Date(timeIntervalSince1970: 0),
                            index: points.count
                        )
                    )
                }
                token = page.nextPageToken.flatMap { $0.isEmpty ? nil : $0 }
            } while token != nil
            return ImportedSeries(key: key, points: points)
        }
    }

    package func artifacts(of run: ImportedRun) throws -> ArtifactListing {
        var listing = ArtifactListing()
        var folders = [""]
        while let folder = folders.popLast() {
            var token: String?
            repeat {
                var items = [("run_id", run.id.rawValue)]
                if !folder.isEmpty { items.append(("path", folder)) }
                if let token { items.append(("page_token", token)) }
                let page: MLflowRunArtifactListing
                do {
                    page = try self.page(
                        MLflowRunArtifactListing.self,
                        "GET",
                        "/api/2.0/mlflow/artifacts/list?" + Self.query(items),
                        Optional<MLflowEmpty>.none
                    )
                } catch let error as QuillError where error.code == .io {
                    // The server cannot read this run's artifact store (credentials it lacks, say).
                    listing.skipped.append(ImportSkip("artifact folders", reason: "the server could not list them"))
                    _ = error
                    return listing
                }
                for file in page.files ?? [] {
                    if file.isDir {
                        folders.append(file.path)
                        continue
                    }
                    let path = file.path
                    let client = self.client
                    let location = self.location
                    let runID = run.id.rawValue
                    listing.files.append(
                        ImportedArtifact(
                            path: path,
                            size: file.fileSize?.value,
                            content: .download {
                                try Self.download(
                                    client,
                                    location,
                                    "/get-artifact?" + Self.query([("path", path), ("run_uuid", runID)])
                                )
                            }
                        )
                    )
                }
                token = page.nextPageToken.flatMap { $0.isEmpty ? nil : $0 }
            } while token != nil
        }
        listing.files.sort { $0.path < $1.path }
        return listing
    }

    /// Downloads one artifact's bytes through a temporary file.
    private static func download(_ client: BlockingHTTPClient, _ location: String, _ path: String) throws -> Data {
        let file = NSTemporaryDirectory() + "/quill-import-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: file) }
        let response = try client.download(path, to: file)
        guard (200..<300).contains(response.status) else {
            throw QuillError(.io, "the MLflow server at \(location) answered GET \(path) with HTTP \(response.status)")
        }
        return FileManager.default.contents(atPath: file) ?? Data()
    }
}

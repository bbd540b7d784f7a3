import Foundation
import QuillAPI
import QuillCore
import QuillStore
import Testing

@testable import QuillServer

/// The plain values behind the history and artifact routes: MLflow's order and sample, page tokens, query
/// strings, folder listings, content types and the hand-written history answer.
@Suite("MLflow history and artifact values")
struct MLflowHistoryWireTests {
    static func point(_ index: Int, ms: Int64, step: Int, _ value: Double) -> MetricPoint {
        MetricPoint(index: index, step: step, timestamp: Date(timeIntervalSince1970: Double(ms) / 1000), value: value)
    }

    @Test("the hand-written get-history answer reads back as the wire type's, NaN and infinities included")
    func historyBytesMatchWireType() throws {
        let points = [
            Self.point(0, ms: 1_700_000_000_123, step: 0, 0.1 + 0.2),
            Self.point(1, ms: 1_700_000_000_124, step: 1, .nan),
            Self.point(2, ms: -5, step: -3, .infinity),
            Self.point(3, ms: 9_000_000_000_000, step: Int(Int32.max) + 7, -.infinity),
            Self.point(4, ms: 0, step: 0, -0.0),
            Self.point(5, ms: 1, step: 2, 1e-300),
        ].map(MLflowMetricOrder.Keyed.init)
        for key in ["loss", "a \"quoted\"\\key\n\u{1}é"] {
            for token in [nil, "eyJvZmZzZXQiOiAyfQ=="] as [String?] {
                for shown in [points, []] {
                    let fast = MLflowRoutes.historyBytes(key: key, shown, nextPageToken: token)
                    let wire = MLflowMetricHistory(
                        metrics: shown.map {
                            MLflowMetric(
                                key: key,
                                value: $0.point.value,
                                timestamp: MLflowInt64($0.milliseconds),
                                step: MLflowInt64($0.step)
                            )
                        },
                        nextPageToken: token
                    )
                    let coded = try APIEncoder().bytes(wire)
                    #expect(try JSONParser.parse(fast) == JSONParser.parse(coded))
                    #expect(fast.last == UInt8(ascii: "\n"))
                }
            }
        }
        #expect(MLflowRoutes.historyBytes(key: "k", [], nextPageToken: nil) == Array("{}\n".utf8))
    }

    @Test("get-history's order is time, step, value with NaN as 0; index order is kept when it already is that order")
    func historyOrder() {
        let inOrder = [
            Self.point(0, ms: 1, step: 0, 5), Self.point(1, ms: 2, step: 0, 1), Self.point(2, ms: 2, step: 1, 0),
        ]
        let kept = MLflowMetricOrder.historyOrder(inOrder)
        #expect(kept.wasInOrder)
        #expect(kept.points.map(\.point.index) == [0, 1, 2])

        let mixed = [
            Self.point(0, ms: 3, step: 0, 1),
            Self.point(1, ms: 2, step: 5, 1),
            Self.point(2, ms: 2, step: 5, -1),
            Self.point(3, ms: 2, step: 5, .nan),
            Self.point(4, ms: 2, step: 5, .infinity),
            Self.point(5, ms: 2, step: 5, 0),
            Self.point(6, ms: 2, step: 4, 100),
        ]
        let sorted = MLflowMetricOrder.historyOrder(mixed)
        #expect(!sorted.wasInOrder)
        #expect(sorted.points.map(\.point.index) == [6, 2, 5, 3, 1, 4, 0])
    }

    @Test("bulk-interval's sample: NTILE buckets in step order, their first points, and the last point")
    func sample() {
        let points = (0..<10).map { Self.point($0, ms: Int64(100 - $0), step: $0, Double($0)) }
        #expect(MLflowMetricOrder.sample(points, maxResults: 4).map(\.index) == [0, 3, 6, 9])
        #expect(MLflowMetricOrder.sample(points, maxResults: 3).map(\.index) == [0, 4, 9])
        #expect(MLflowMetricOrder.sample(points, maxResults: 1).map(\.index) == [9])
        #expect(MLflowMetricOrder.sample(points, maxResults: 10).map(\.index) == Array(0..<10))
        #expect(MLflowMetricOrder.sample(points, maxResults: 2500).map(\.index) == Array(0..<10))
        #expect(MLflowMetricOrder.sample(points, maxResults: 0).map(\.index) == [9])
        #expect(MLflowMetricOrder.sample([], maxResults: 5).isEmpty)
        // Logged out of step order, sampled in step order.
        #expect(MLflowMetricOrder.sample(points.reversed(), maxResults: 4).map(\.index) == [0, 3, 6, 9])
    }

    @Test("page tokens: Quill's carry the last index, MLflow's the offset only; malformed ones are refused")
    func pageTokens() throws {
        let token = MLflowHistoryPageToken(offset: 25_000, lastIndex: 24_999)
        #expect(try MLflowHistoryPageToken.parse(token.text) == token)
        #expect(
            String(decoding: Data(base64Encoded: token.text) ?? Data(), as: UTF8.self)
                == "{\"offset\": 25000, \"quill_index\": 24999}"
        )
        #expect(
            try MLflowHistoryPageToken.parse("eyJvZmZzZXQiOiAyfQ==")
                == MLflowHistoryPageToken(offset: 2, lastIndex: nil)
        )
        #expect(
            try MLflowHistoryPageToken.parse("eyJvZmZzZXQiOiAyfQ") == MLflowHistoryPageToken(offset: 2, lastIndex: nil)
        )
        let negative = Data("{\"offset\": -9223372036854775808}".utf8).base64EncodedString()
        #expect(try MLflowHistoryPageToken.parse(negative).offset == 0)
        for bad in [
            "", "!!!", "bm90IGpzb24=", Data("{\"offset\": 0}".utf8).base64EncodedString(),
            Data("{\"offset\": []}".utf8).base64EncodedString(),
        ] {
            #expect(throws: MLflowHTTPError.self, "\(bad)") { try MLflowHistoryPageToken.parse(bad) }
        }
    }

    @Test("query strings are form-decoded: + is a space, escapes are bytes, repeated names keep every value")
    func formQuery() {
        let query = MLflowFormQuery("path=0%2Fabc%2Fartifacts%2Fa+b%2B&run_ids=x&run_ids=y&empty=&flag&bad=%zz+1")
        #expect(query.first("path") == "0/abc/artifacts/a b+")
        #expect(query.all("run_ids") == ["x", "y"])
        #expect(query.first("empty") == "")
        #expect(query.first("flag") == "")
        #expect(query.first("bad") == "%zz 1")
        #expect(query.first("none") == nil)
        #expect(MLflowFormQuery(nil).all("x").isEmpty)
    }

    @Test("paths: traversal refused, empty and dot components dropped, run artifacts recognized")
    func artifactPaths() throws {
        let path = try MLflowArtifactPath("0/abc/artifacts/./a//b/")
        #expect(path.components == ["0", "abc", "artifacts", "a", "b"])
        #expect(path.artifactPath == "a/b")
        #expect(try MLflowArtifactPath("0/abc/artifacts").artifactPath == "")
        #expect(try MLflowArtifactPath("0/abc/other/x").artifactPath == nil)
        #expect(try MLflowArtifactPath("0/abc").runText == "abc")
        for bad in ["../x", "a/../b", "/abs", "a\\b", "a#b"] {
            #expect(throws: MLflowHTTPError.self, "\(bad)") { try MLflowArtifactPath(bad) }
        }
        let raw = try MLflowArtifactPath(
            rawPath: "/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts/a%20b/100%25.txt",
            after: "mlflow-artifacts/artifacts/"
        )
        #expect(raw.artifactPath == "a b/100%.txt")
    }

    @Test("a folder lists its files and folders once, by code point, stored files only")
    func folderEntries() {
        func stored(_ path: String, _ status: ArtifactStatus = .uploaded, size: Int64 = 1) -> StoredArtifact {
            StoredArtifact(
                run: RunID("abcd1234") ?? RunID("zzzz9999")!,
                path: path,
                status: status,
                size: status == .uploaded ? size : nil,
                sha256: nil,
                loggedAt: Date(),
                updatedAt: Date()
            )
        }
        let artifacts = [
            stored("a.txt", size: 3), stored("a/b", size: 4), stored("a/c/d"), stored("B"),
            stored("pending.bin", .pending),
            stored("failed/x", .failed), stored("é"), stored("z"),
        ]
        let root = MLflowArtifactFolder.entries(artifacts, in: "")
        #expect(root.map(\.name) == ["B", "a", "a.txt", "z", "é"])
        #expect(root.map(\.isDir) == [false, true, false, false, false])
        #expect(root.map(\.size) == [1, nil, 3, 1, 1])
        #expect(MLflowArtifactFolder.entries(artifacts, in: "a").map(\.name) == ["b", "c"])
        #expect(MLflowArtifactFolder.entries(artifacts, in: "a.txt").isEmpty)
        #expect(MLflowArtifactFolder.entries(artifacts, in: "failed").isEmpty)
        #expect(MLflowArtifactFolder.isFolder(artifacts, "a/c"))
        #expect(!MLflowArtifactFolder.isFolder(artifacts, "a/b"))
    }

    @Test("downloads are typed and named as MLflow's server types and names them")
    func contentTypesAndNames() {
        #expect(MLflowMimeType.type(for: "x.json") == "text/plain")
        #expect(MLflowMimeType.type(for: "dir/MLmodel") == "text/plain")
        #expect(MLflowMimeType.type(for: "plot.PNG") == "image/png")
        #expect(MLflowMimeType.type(for: "a b") == "application/octet-stream")
        #expect(MLflowMimeType.type(for: ".json") == "application/octet-stream")
        #expect(MLflowMimeType.type(for: "model.pkl") == "application/octet-stream")
        #expect(MLflowRoutes.mlflowAttachment("x.json") == "attachment; filename=x.json")
        #expect(MLflowRoutes.mlflowAttachment("a \"b\".txt") == "attachment; filename=\"a \\\"b\\\".txt\"")
        #expect(
            MLflowRoutes.mlflowAttachment("日本語")
                == "attachment; filename=download; filename*=UTF-8''%E6%97%A5%E6%9C%AC%E8%AA%9E"
        )
    }
}

import Foundation
import QuillCore
import QuillTesting
import Testing

@Suite("quill sweep against a real quill serve", .serialized)
struct SweepCommandTests {
    /// Runs `quill sweep --server URL ARGS…` and returns the result.
    func sweep(_ cluster: JobCluster, _ arguments: [String]) throws -> BuiltProducts.Result {
        try BuiltProducts.run(
            BuiltProducts.path("quill"),
            ["sweep", "--server", cluster.url] + arguments,
            environment: cluster.quill.environment
        )
    }

    /// The jobs on the server, oldest first.
    func jobs(_ cluster: JobCluster) throws -> [JSONValue] {
        (try cluster.get("/api/v1/jobs?limit=1000")["jobs"]?.arrayValue ?? []).reversed()
    }

    @Test("a 2x2 grid queues 4 jobs with their values in the argv, the config and the name")
    func grid() throws {
        let cluster = try JobCluster()
        defer { cluster.stop() }
        let result = try sweep(
            cluster,
            [
                "--json", "--grid", "lr=0.1,0.01", "--grid", "bs=32,64", "--project", "vision", "--tag", "team=ml",
                "--config", "epochs=3", "--priority", "5", "--", "python", "train.py", "--lr", "{lr}", "--bs", "{bs}",
                "--out", "runs/{{lr}}-{lr}", "}}x",
            ]
        )
        #expect(result.status == 0, "\(result.stderr)")
        let printed = try JSONParser.parse(result.stdout)
        #expect(printed["seed"] == .null)
        let listed = try #require(printed["jobs"]?.arrayValue)
        #expect(listed.count == 4)
        let jobs = try jobs(cluster)
        #expect(jobs.count == 4)
        let expected: [(String, String, JSONValue, JSONValue)] = [
            ("0.1", "32", 0.1, 32), ("0.1", "64", 0.1, 64), ("0.01", "32", 0.01, 32), ("0.01", "64", 0.01, 64),
        ]
        for (index, (lr, bs, lrValue, bsValue)) in expected.enumerated() {
            let job = jobs[index]
            #expect(
                job["argv"]
                    == .array(
                        ["python", "train.py", "--lr", lr, "--bs", bs, "--out", "runs/{lr}-\(lr)", "}x"].map(
                            JSONValue.string
                        )
                    )
            )
            #expect(job["config"] == ["epochs": 3, "lr": lrValue, "bs": bsValue])
            #expect(job["name"]?.stringValue == "python lr=\(lr) bs=\(bs)")
            #expect(job["tags"]?["team"] == "ml")
            #expect(job["priority"] == 5)
            #expect(listed[index]["job_id"] == job["id"])
            #expect(listed[index]["run_id"] == job["run_id"])
            #expect(listed[index]["values"] == ["lr": lrValue, "bs": bsValue])
        }
        // One sweep tag shared by the four, and the project given.
        #expect(Set(jobs.compactMap { $0["tags"]?["sweep"]?.stringValue }).count == 1)

        // The table: job, run and values.
        let table = try sweep(cluster, ["--grid", "x=a,b", "--name", "t", "--", "echo", "{x}"])
        #expect(table.status == 0, "\(table.stderr)")
        let lines = table.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.split(separator: " ", omittingEmptySubsequences: true) == ["JOB", "RUN", "X"])
        #expect(lines.count == 3)
        #expect(lines[1].hasSuffix("  a"))
        #expect(try self.jobs(cluster).suffix(2).map { $0["name"]?.stringValue } == ["t x=a", "t x=b"])
    }

    @Test("--random N with a seed draws the same distinct combinations again; N at its extremes")
    func random() throws {
        let cluster = try JobCluster()
        defer { cluster.stop() }
        let grid = ["--grid", "a=1,2,3,4", "--grid", "b=x,y,z"]
        let command = ["--", "echo", "{a}", "{b}"]
        func draw(_ extra: [String]) throws -> [JSONValue] {
            let result = try sweep(cluster, ["--json"] + grid + extra + command)
            #expect(result.status == 0, "\(result.stderr)")
            return try JSONParser.parse(result.stdout)["jobs"]?.arrayValue?.compactMap { $0["values"] } ?? []
        }
        let first = try draw(["--random", "5", "--seed", "42"])
        let again = try draw(["--random", "5", "--seed", "42"])
        #expect(first.count == 5)
        #expect(first == again)
        #expect(Set(first.map { JSONWriter.string($0) }).count == 5)
        let other = try draw(["--random", "5", "--seed", "43"])
        #expect(other != first)
        // The whole grid drawn at random is every combination once.
        #expect(Set(try draw(["--random", "12", "--seed", "1"]).map { JSONWriter.string($0) }).count == 12)
        #expect(try draw(["--random", "1", "--seed", String(Int.max)]).count == 1)
        #expect(try draw(["--random", "1", "--seed", String(Int.min)]).count == 1)
        // Without --seed a seed is chosen and printed, and it draws the same jobs again.
        let unseeded = try sweep(cluster, ["--json", "--random", "3"] + grid + command)
        let seed = try #require(try JSONParser.parse(unseeded.stdout)["seed"]?.intValue)
        let unseededValues = try JSONParser.parse(unseeded.stdout)["jobs"]?.arrayValue?.compactMap { $0["values"] }
        #expect(try draw(["--random", "3", "--seed", String(seed)]) == unseededValues)
        let submitted = try jobs(cluster).count

        for (count, message) in [
            ("0", "1 or more"), ("-1", "1 or more"), ("13", "more than the grid's 12"),
            (String(Int.max), "more than the grid's 12"),
        ] {
            let refused = try sweep(cluster, grid + ["--random", count] + command)
            #expect(refused.status == 64, "\(count): \(refused.stderr)")
            #expect(refused.errorLines.first?.contains(message) == true, "\(count): \(refused.stderr)")
        }
        let seedAlone = try sweep(cluster, grid + ["--seed", "1"] + command)
        #expect(seedAlone.status == 64)
        #expect(seedAlone.stderr.contains("--seed seeds --random"))
        #expect(try jobs(cluster).count == submitted)
    }

    @Test("an unknown placeholder, an unused key or a malformed grid is one usage error and queues nothing")
    func placeholderErrors() throws {
        let cluster = try JobCluster()
        defer { cluster.stop() }
        let cases: [([String], String)] = [
            (
                ["--grid", "lr=1,2", "--", "train", "--lr", "{lrr}"],
                "unknown placeholder {lrr} in '{lrr}'; the grid has {lr}"
            ),
            (["--grid", "lr=1,2", "--grid", "bs=3", "--", "train", "{lr}"], "--grid bs is not used in the command"),
            (["--grid", "lr=1,2", "--", "train", "{lr"], "has a { without its }"),
            (["--grid", "lr=1,2", "--", "train", "{}", "{lr}"], "unknown placeholder {}"),
            (["--grid", "lr=1", "--grid", "lr=2", "--", "train", "{lr}"], "--grid lr is given twice"),
            (["--grid", "lr", "--", "train"], "--grid takes key=v1,v2"),
            (["--grid", "lr=1,,2", "--", "train", "{lr}"], "has an empty value"),
            (["--grid", "lr=1,1", "--", "train", "{lr}"], "lists '1' twice"),
            (["--", "train"], "give at least one --grid"),
            (["--grid", "lr=1", "--sort-by", "acc", "--", "train", "{lr}"], "add --wait"),
            (["--grid", "lr=1", "--wait", "--desc", "--", "train", "{lr}"], "add --sort-by"),
            (["--grid", "lr=1", "--max-attempts", "x", "--", "train", "{lr}"], "max-attempts"),
            (["--grid", "lr=1"], "give the command to run after --"),
        ]
        for (arguments, message) in cases {
            let result = try sweep(cluster, arguments)
            #expect(result.status == 64, "\(arguments): \(result.stderr)")
            #expect(result.errorLines.first?.contains(message) == true, "\(arguments): \(result.stderr)")
        }
        // Out-of-range submit options reach the server, which refuses the first job: nothing is queued.
        for (option, value) in [("--priority", String(Int.max)), ("--max-attempts", "0"), ("--gpus", "1025")] {
            let result = try sweep(cluster, ["--grid", "lr=1,2", option, value, "--", "train", "{lr}"])
            #expect(result.status != 0, "\(option) \(value)")
            #expect(result.errorLines.count == 1, "\(option) \(value): \(result.stderr)")
        }
        #expect(try jobs(cluster).isEmpty)
    }

    @Test("--wait shows progress, then the results sorted by the metric; a failed job shows its status")
    func waitAndRank() throws {
        let python = ProcessInfo.processInfo.environment["QUILL_TEST_PYTHON"] ?? "/usr/bin/python3"
        try #require(FileManager.default.isExecutableFile(atPath: python), "set QUILL_TEST_PYTHON")
        let cluster = try JobCluster()
        defer { cluster.stop() }
        try cluster.startWorker("w1", slots: 2)
        // Reports its argument as the run's summary value `acc`; a negative one fails the job instead.
        let script = cluster.quill.home.file("report.py")
        try """
        import json, os, sys, urllib.request
        value = float(sys.argv[1])
        if value < 0:
            sys.exit(2)
        url = os.environ["QUILL_TRACKING_URI"] + "/api/v1/runs/" + os.environ["QUILL_RUN_ID"]
        body = json.dumps({"summary": {"acc": value}}).encode()
        request = urllib.request.Request(url, data=body, method="PATCH", headers={"Content-Type": "application/json"})
        urllib.request.urlopen(request).read()
        """.write(toFile: script, atomically: true, encoding: .utf8)
        let grid = ["--grid", "x=0.5,0.9,-1,0.7"]
        let ranked = try sweep(
            cluster,
            ["--json", "--wait", "--sort-by", "acc", "--desc"] + grid + ["--", python, script, "{x}"]
        )
        #expect(ranked.status == 1, "\(ranked.stderr)")
        let jobs = try #require(try JSONParser.parse(ranked.stdout)["jobs"]?.arrayValue)
        #expect(jobs.map { $0["metric"] } == [0.9, 0.7, 0.5, .null])
        #expect(jobs.map { $0["status"] } == ["completed", "completed", "completed", "failed"])
        #expect(jobs.map { $0["values"]?["x"] } == [0.9, 0.7, 0.5, -1])

        let table = try sweep(cluster, ["--wait", "--sort-by", "acc"] + grid + ["--", python, script, "{x}"])
        #expect(table.status == 1, "\(table.stderr)")
        let lines = table.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(lines.first == ["JOB", "RUN", "STATUS", "X", "acc"])
        #expect(lines.dropFirst().map { $0.last } == ["0.5", "0.7", "0.9", "-"])
        #expect(lines.last?.contains("failed") == true)
        #expect(table.stderr.contains("sweep: 4 jobs:"))
        #expect(table.stderr.contains("4 jobs: 3 completed, 1 failed"))
        #expect(table.errorLines.last == "error: 1 of 4 jobs did not complete")
    }
}

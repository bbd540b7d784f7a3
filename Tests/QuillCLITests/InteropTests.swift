import Foundation
import QuillCore
import QuillTesting
import Testing

@Suite("Other languages and tools read and write run directories")
struct InteropTests {
    @Test("a Python script appending lines to metrics.jsonl logs into the run, NaN included")
    func pythonWriter() throws {
        let quill = QuillBinary()
        let script = """
            import json, os, math
            path = os.path.join(os.environ["QUILL_RUN_DIR"], "metrics.jsonl")
            with open(path, "a") as f:
                for step in range(5):
                    f.write(json.dumps({"_idx": step, "step": step, "loss": 1.0 / (step + 1), "bad": math.nan}) + "\\n")
            """
        let result = try quill.run("run", "--name", "py", "--", "python3", "-c", script)
        #expect(result.status == 0, "\(result.stderr)")
        let exported = try quill.json("metrics", "py", "--format", "json")
        let rows = try #require(exported.arrayValue)
        #expect(rows.count == 5)
        #expect(rows[4]["loss"]?.doubleValue == 0.2)
        #expect(rows[0]["bad"]?.doubleValue?.isNaN == true)
        // Quill keeps numbering after the Python rows.
        let directory = try quill.store.resolve("py").directory
        #expect(try MetricsFile.appendLocked(directory: directory, rows: [(5, ["loss": 0.1])]) == 5)
    }

    @Test(
        "whirr's own readers read a Quill run directory",
        .enabled(if: ProcessInfo.processInfo.environment["QUILL_TEST_PYTHON"] != nil, "set by scripts/test.sh")
    )
    func whirrReads() throws {
        let quill = QuillBinary()
        #expect(try quill.run("demo", "--steps", "10", "--delay-ms", "0", "--name", "for-whirr").status == 0)
        let run = try quill.store.resolve("for-whirr")
        let python = try #require(ProcessInfo.processInfo.environment["QUILL_TEST_PYTHON"])
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Interop/whirr_reads_quill.py").path
        let result = try BuiltProducts.run(python, [script, run.directory.path])
        #expect(result.status == 0, "\(result.stderr)")
        let seen = try JSONParser.parse(result.stdout)
        #expect(seen["id"] == .string(run.meta.id.rawValue))
        #expect(seen["name"] == "for-whirr")
        #expect(seen["status"] == "completed")
        #expect(seen["tags"] == ["demo", "team:quill"])
        #expect(seen["rows"] == 20)
        #expect(seen["first_idx"] == 0)
        #expect(seen["last_idx"] == 19)
        #expect(seen["steps"] == [0, 0, 1])
        #expect(seen["summary"]?["steps"] == 10)
    }
}

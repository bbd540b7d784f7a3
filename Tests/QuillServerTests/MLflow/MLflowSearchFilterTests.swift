import QuillAPI
import QuillCore
import Testing

@testable import QuillServer

@Suite("MLflow search filter grammar")
struct MLflowSearchFilterTests {
    typealias Filter = MLflowSearchFilter

    private func parse(_ text: String) throws -> [Filter.Comparison] {
        try Filter(parsing: text).comparisons
    }

    private func error(_ text: String) -> String? {
        do {
            _ = try Filter(parsing: text)
            return nil
        } catch {
            #expect(error.code == .invalidParameterValue)
            return error.message
        }
    }

    @Test("every comparator of each kind parses, keys unquoted and attribute aliases resolved")
    func comparators() throws {
        let cases: [(String, Filter.Comparison)] = [
            ("metrics.acc > 0.5", .init(kind: .metric, key: "acc", comparator: .greater, value: .number(0.5))),
            ("metric.acc >= -1", .init(kind: .metric, key: "acc", comparator: .greaterOrEqual, value: .number(-1))),
            ("metrics.acc < 1e3", .init(kind: .metric, key: "acc", comparator: .less, value: .number(1000))),
            ("metrics.acc <= .5", .init(kind: .metric, key: "acc", comparator: .lessOrEqual, value: .number(0.5))),
            ("metrics.acc = 1.", .init(kind: .metric, key: "acc", comparator: .equal, value: .number(1))),
            ("metrics.acc != 2", .init(kind: .metric, key: "acc", comparator: .notEqual, value: .number(2))),
            ("params.lr = '0.01'", .init(kind: .parameter, key: "lr", comparator: .equal, value: .text("0.01"))),
            ("param.lr != \"a\"", .init(kind: .parameter, key: "lr", comparator: .notEqual, value: .text("a"))),
            ("parameters.x LIKE 'a%'", .init(kind: .parameter, key: "x", comparator: .like, value: .text("a%"))),
            ("params.x ilike '%A'", .init(kind: .parameter, key: "x", comparator: .ilike, value: .text("%A"))),
            ("params.x IS NULL", .init(kind: .parameter, key: "x", comparator: .isNull, value: .none)),
            ("tags.x IS NOT NULL", .init(kind: .tag, key: "x", comparator: .isNotNull, value: .none)),
            (
                "tags.`mlflow.runName` = 'r'",
                .init(kind: .tag, key: "mlflow.runName", comparator: .equal, value: .text("r"))
            ),
            (
                "tags.mlflow.runName = 'r'",
                .init(kind: .tag, key: "mlflow.runName", comparator: .equal, value: .text("r"))
            ),
            ("params.\"a b\" = 'c'", .init(kind: .parameter, key: "a b", comparator: .equal, value: .text("c"))),
            ("params.`a b` = 'c'", .init(kind: .parameter, key: "a b", comparator: .equal, value: .text("c"))),
            ("`metrics`.a > 1", .init(kind: .metric, key: "a", comparator: .greater, value: .number(1))),
            (
                "status = 'FINISHED'",
                .init(kind: .attribute, key: "status", comparator: .equal, value: .text("FINISHED"))
            ),
            ("attr.status != 'X'", .init(kind: .attribute, key: "status", comparator: .notEqual, value: .text("X"))),
            ("run.run_name LIKE 'a%'", .init(kind: .attribute, key: "run_name", comparator: .like, value: .text("a%"))),
            ("`Run name` = 'x'", .init(kind: .attribute, key: "run_name", comparator: .equal, value: .text("x"))),
            (
                "attributes.`run name` = 'x'",
                .init(kind: .attribute, key: "run_name", comparator: .equal, value: .text("x"))
            ),
            ("created > 5", .init(kind: .attribute, key: "start_time", comparator: .greater, value: .number(5))),
            (
                "Created <= 5.5",
                .init(kind: .attribute, key: "start_time", comparator: .lessOrEqual, value: .number(5.5))
            ),
            (
                "attributes.end_time < 100",
                .init(kind: .attribute, key: "end_time", comparator: .less, value: .number(100))
            ),
            (
                "attributes.run_id IN ('a', 'b')",
                .init(kind: .attribute, key: "run_id", comparator: .in, value: .list(["a", "b"]))
            ),
            ("run_id NOT IN ('a')", .init(kind: .attribute, key: "run_id", comparator: .notIn, value: .list(["a"]))),
            (
                "attributes.user_id = 'u'",
                .init(kind: .attribute, key: "user_id", comparator: .equal, value: .text("u"))
            ),
            (
                "attributes.artifact_uri ILIKE '%x%'",
                .init(kind: .attribute, key: "artifact_uri", comparator: .ilike, value: .text("%x%"))
            ),
            ("datasets.name = 'x'", .init(kind: .dataset, key: "name", comparator: .equal, value: .text("x"))),
            ("metrics.a.b>1", .init(kind: .metric, key: "a.b", comparator: .greater, value: .number(1))),
        ]
        for (text, expected) in cases {
            #expect(try parse(text) == [expected], "\(text)")
        }
    }

    @Test("comparisons join with AND in any case, stray ANDs are ignored, the empty filter is none")
    func conjunctions() throws {
        #expect(try parse("metrics.a > 1 and metrics.b < 2 AND params.c = 'd'").count == 3)
        #expect(try parse("params.x='a'and params.y='b'").map(\.key) == ["x", "y"])
        #expect(try parse("metrics.a > 1 and and metrics.b > 2").count == 2)
        #expect(try parse("metrics.a > 1 AND").count == 1)
        #expect(try parse("").isEmpty)
        #expect(try Filter(parsing: nil).comparisons.isEmpty)
        // Quotes inside values stay as MLflow keeps them.
        #expect(try parse("params.x = 'it''s'").first?.value == .text("it''s"))
        #expect(try parse("tags.x = \"a'b\"").first?.value == .text("a'b"))
        #expect(try parse("params.x = ''").first?.value == .text(""))
    }

    @Test("errors carry MLflow's messages")
    func errors() {
        let cases: [(String, String)] = [
            ("   ", "Invalid filter '   '. Could not be parsed."),
            ("metrics.a > 1 or metrics.b > 2", "Invalid clause(s) in filter string: 'or'"),
            ("metrics.a", "Invalid clause(s) in filter string: 'metrics.a'"),
            ("metrics.a > +1", "Invalid clause(s) in filter string: 'metrics.a', '>', '+', '1'"),
            (
                "metrics.a > 1; metrics.b > 2",
                "Search filter contained multiple expression 'metrics.a > 1; metrics.b > 2'. Provide AND-ed expression list."
            ),
            (
                "foo.bar = 'x'",
                "Invalid entity type 'foo'. Valid values are ['metric', 'parameter', 'tag', 'attribute', 'dataset']"
            ),
            (
                "METRICS.a > 1",
                "Invalid entity type 'METRICS'. Valid values are ['metric', 'parameter', 'tag', 'attribute', 'dataset']"
            ),
            (
                "attributes.lifecycle_stage = 'active'",
                "Invalid attribute key 'lifecycle_stage' specified. Valid keys are '{'user_id', 'run name', 'end_time', 'run_id', 'start_time', 'Run name', 'status', 'Created', 'Run Name', 'artifact_uri', 'created', 'run_name'}'"
            ),
            ("metrics.acc = 'a'", "Expected numeric value type for metric. Found 'a'"),
            ("metrics.a > NaN", "Expected numeric value type for metric. Found NaN"),
            ("params.x = 1", "Expected a quoted string value for parameter (e.g. 'my-value'). Got value 1"),
            ("tags.x = 1", "Expected a quoted string value for tag (e.g. 'my-value'). Got value 1"),
            (
                "params.x = a",
                "Parameter value is either not quoted or unidentified quote types used for string value a. Use either single or double quotes."
            ),
            ("attributes.start_time > '5'", "Expected numeric value type for numeric attribute: start_time. Found '5'"),
            (
                "attributes.status IN ('A')",
                "Only ['run_id'] attributes support comparison with a list of quoted string values."
            ),
            ("params.x IN ('a')", "Expected a quoted string value for parameter (e.g. 'my-value'). Got value ('a')"),
            (
                "attributes.run_id IN ()",
                "While parsing a list in the query, expected a non-empty list of string values, but got empty list"
            ),
            (
                "attributes.run_id IN (1, 2)",
                "While parsing a list in the query, expected string value, punctuation, or whitespace, but got different type in list: (1, 2)"
            ),
            ("metrics.x IS NULL", "IS NULL / IS NOT NULL is only supported for tags and params, not for 'metric' 'x'"),
            (
                "params.x > 'a'",
                "Invalid comparator '>' not one of '{'!=', '=', 'LIKE', 'ILIKE', 'IS NULL', 'IS NOT NULL'}'"
            ),
            (
                "params.x <> 'a'",
                "Invalid comparator '<>' not one of '{'!=', '=', 'LIKE', 'ILIKE', 'IS NULL', 'IS NOT NULL'}'"
            ),
            ("metrics.a == 1", "Invalid comparator '==' not one of '{'>', '>=', '!=', '=', '<', '<='}"),
            ("metrics.a LIKE 1", "Invalid comparator 'LIKE' not one of '{'>', '>=', '!=', '=', '<', '<='}"),
            (
                "tags.t < 'a'",
                "Invalid comparator '<' not one of '{'!=', '=', 'LIKE', 'ILIKE', 'IS NULL', 'IS NOT NULL'}"
            ),
            ("status < 'a'", "Invalid comparator '<' not one of '{'!=', '=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'}'"),
            ("start_time LIKE 5", "Invalid comparator 'LIKE' not one of '{'!=', '=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'}"),
            ("params.x = 'a' 'b'", "Invalid clause(s) in filter string: ''b''"),
        ]
        for (text, message) in cases {
            #expect(error(text) == message, "\(text)")
        }
    }

    @Test("order_by clauses: direction, quoting, aliases, and MLflow's errors")
    func orderBy() throws {
        let order = try MLflowRunOrder(parsing: [
            "metrics.`val loss` DESC", "params.lr", "attributes.created asc", "tags.\"a b\" desc", "run_name",
        ])
        #expect(
            order.keys == [
                .init(kind: .metric, key: "val loss", ascending: false),
                .init(kind: .parameter, key: "lr", ascending: true),
                .init(kind: .attribute, key: "start_time", ascending: true),
                .init(kind: .tag, key: "a b", ascending: false),
                .init(kind: .attribute, key: "run_name", ascending: true),
            ]
        )
        func message(_ clauses: [String]) -> String? {
            do {
                _ = try MLflowRunOrder(parsing: clauses)
                return nil
            } catch {
                return error.message
            }
        }
        #expect(message(["metrics.a sideways"]) == "Invalid ordering key in order_by clause 'metrics.a sideways'.")
        #expect(message(["metrics.a > 1"]) == "Invalid order_by clause 'metrics.a > 1'. Could not be parsed.")
        #expect(
            message(["metrics.a", "metrics.a DESC"])
                == "`order_by` contains duplicate fields: ['metrics.a', 'metrics.a DESC']"
        )
        #expect(
            message(["attributes.created", "start_time"])?.hasPrefix("`order_by` contains duplicate fields") == true
        )
        #expect(message(["attributes.`run name`"])?.hasPrefix("Invalid attribute key 'run name' specified.") == true)
    }

    @Test("the Quill query of a filter: exact where the languages agree, wider where they differ")
    func translation() throws {
        func query(_ text: String) throws -> String? {
            try Filter(parsing: text).runQuery.map(String.init(describing:))
        }
        #expect(try query("metrics.acc > 0.5") == "metrics.acc.latest > 0.5")
        #expect(
            try query("params.opt = 'adam' and tags.team != 'nlp'") == "params.opt = \"adam\" and tags.team != \"nlp\""
        )
        #expect(try query("params.lr = '0.01'") == "params.lr = \"0.01\"")
        // Quill finds "1.0" equal to "1": the run is checked again in memory.
        #expect(try Filter(parsing: "params.lr != '1'").translatesExactly == false)
        #expect(try query("params.lr != '1'") == "params.lr = 0 or params.lr != 0")
        #expect(try query("params.x IS NULL") == "not (params.x = 0 or params.x != 0)")
        #expect(try query("tags.x LIKE 'a\\%'") == "tags.x like \"a\\\\\\\\%\"")
        #expect(try query("attributes.status = 'FAILED'") == "status in (\"failed\", \"crashed\")")
        #expect(try query("attributes.status != 'RUNNING'") == "not status in (\"running\")")
        #expect(try query("attributes.status = 'finished'") == "")
        #expect(
            try query("attributes.run_name ILIKE 'a%'") == "tags.mlflow.runName ilike \"a%\" or name ilike \"a%\""
        )
        #expect(try query("run_id IN ('ab', 'cd')") == "id in (\"ab\", \"cd\")")
        #expect(try query("tags.mlflow.runName = 'x'") == "tags.mlflow.runName = \"x\" or name = \"x\"")
        #expect(try query("attributes.end_time > 5") == nil)
        #expect(try query("created >= 1700000000000") == "created >= \"2023-11-14T22:13:19.999000Z\"")
        #expect(try Filter(parsing: "metrics.a > 1 and params.b = 'x'").translatesExactly)
    }
}

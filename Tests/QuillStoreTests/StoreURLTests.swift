import QuillCore
import QuillStore
import Testing

@Suite("Store URLs")
struct StoreURLTests {
    @Test(
        "sqlite:///abs, sqlite:PATH, sqlite://rel and plain paths name SQLite files",
        arguments: [
            ("sqlite:///var/lib/quill.db", "/var/lib/quill.db"),
            ("sqlite:/var/lib/quill.db", "/var/lib/quill.db"),
            ("sqlite:data/quill.db", "data/quill.db"),
            ("sqlite://data/quill.db", "data/quill.db"),
            ("SQLite:///x.db", "/x.db"),
            ("./quill.db", "./quill.db"),
            ("/srv/quill/quill.db", "/srv/quill/quill.db"),
            ("./odd:name.db", "./odd:name.db"),
            ("odd:name.db", "odd:name.db"),
        ]
    )
    func sqlite(text: String, path: String) throws {
        #expect(try StoreURL(parsing: text) == .sqlite(path: path))
    }

    @Test("the URL form names the file: sqlite:///abs for an absolute path, sqlite:rel for a relative one")
    func description() throws {
        #expect(StoreURL.sqlite(path: "/var/lib/quill.db").description == "sqlite:///var/lib/quill.db")
        #expect(StoreURL.sqlite(path: "data/quill.db").description == "sqlite:data/quill.db")
        for url in [StoreURL.sqlite(path: "/a/b.db"), .sqlite(path: "c.db")] {
            #expect(try StoreURL(parsing: url.description) == url)
        }
    }

    @Test(
        "postgres:// and postgresql:// URLs name a PostgreSQL database, with libpq's defaults",
        arguments: [
            ("postgres://localhost/quill", PostgresLocation(host: "localhost", database: "quill")),
            (
                "postgresql://u@localhost:5433/quill",
                PostgresLocation(host: "localhost", port: 5433, user: "u", database: "quill")
            ),
            (
                "postgres://ada:p%40ss@db.example:6543/runs?sslmode=require",
                PostgresLocation(
                    host: "db.example",
                    port: 6543,
                    user: "ada",
                    password: "p@ss",
                    database: "runs",
                    tls: .require
                )
            ),
            ("postgres://quill@[::1]/q", PostgresLocation(host: "::1", user: "quill", database: "q")),
            ("postgres://quill@db", PostgresLocation(host: "db", user: "quill", database: "quill")),
        ]
    )
    func postgres(text: String, location: PostgresLocation) throws {
        #expect(try StoreURL(parsing: text) == .postgres(location))
        if location.password == nil {
            #expect(try StoreURL(parsing: location.description) == .postgres(location))
        }
    }

    @Test("a PostgreSQL URL's description never shows its password")
    func passwordHidden() throws {
        let url = try StoreURL(parsing: "postgres://ada:secret@db/quill")
        #expect(!url.description.contains("secret"))
        #expect(url.description.contains("ada:***@db"))
    }

    @Test(
        "malformed PostgreSQL URLs and other schemes are refused; empty files are refused",
        arguments: [
            ("postgres:quill", "is not a PostgreSQL URL"),
            ("postgres:///quill", "names no host"),
            ("postgres://h:99999/quill", "is not a port"),
            ("postgres://h:x/quill", "is not a port"),
            ("postgres://h/quill?sslmode=verify-full", "sslmode 'verify-full' is not supported"),
            ("postgres://h/quill?application_name=x", "unknown parameter 'application_name'"),
            ("postgres://ada:secret@h:0/quill", "ada:***@h:0/quill"),
            ("mysql://localhost/quill", "unknown store scheme 'mysql:'"),
            ("s3://bucket/quill.db", "unknown store scheme 's3:'"),
            ("sqlite://", "names no file"),
            ("sqlite:", "names no file"),
            ("", "the store is empty"),
        ]
    )
    func refused(text: String, message: String) {
        do {
            let url = try StoreURL(parsing: text)
            Issue.record("'\(text)' parsed as \(url)")
        } catch let error as QuillError {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains(message), "\(error.message)")
            #expect(!error.message.contains("\n"))
            #expect(!error.message.contains("secret"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}

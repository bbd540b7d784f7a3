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
        "PostgreSQL says it is not available yet; other schemes are unknown; empty files are refused",
        arguments: [
            ("postgres://localhost/quill", "PostgreSQL stores (postgres://) are not available yet"),
            ("postgresql://u@localhost:5432/quill", "PostgreSQL stores (postgresql://) are not available yet"),
            ("postgres:quill", "PostgreSQL stores (postgres://) are not available yet"),
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
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}

import Foundation
import QuillCore
import QuillTesting
import Testing

@Suite("Local run store: names, lookup and crash detection")
struct LocalRunStoreTests {
    func makeRun(
        _ home: QuillHome,
        name: String,
        project: String = "p",
        host: HostInfo? = nil,
        heartbeat: Date? = nil
    ) throws -> RunDirectory {
        let directory = try home.makeRunDirectory()
        let id = try #require(RunID(directory.name))
        let reserved = try home.reserveRunName(name, project: Project(displayName: project), runID: id)
        var meta = RunMeta(
            id: id,
            name: reserved,
            project: Project(displayName: project),
            kind: .training,
            parent: nil,
            startedAt: Date()
        )
        meta.host = host
        if let heartbeat {
            meta.heartbeatAt = heartbeat
            meta.updatedAt = heartbeat
        }
        try directory.writeMeta(meta)
        return directory
    }

    func host(pid: Int32, hostname: String = "") -> HostInfo {
        HostInfo(
            hostname: hostname.isEmpty ? ProcessLiveness.hostname() : hostname,
            user: "u",
            pid: pid,
            processStartTicks: nil,
            os: "",
            swiftVersion: "",
            executable: "",
            commandLine: []
        )
    }

    @Test("a taken name gets the first free numeric suffix; names are per project")
    func nameDeduplication() throws {
        let temp = TemporaryDirectory()
        let home = QuillHome(path: temp.path)
        let project = Project(displayName: "p")
        let names = try (0..<4).map { _ in try home.reserveRunName("baseline", project: project, runID: RunID.random())
        }
        #expect(names == ["baseline", "baseline_1", "baseline_2", "baseline_3"])
        #expect(
            try home.reserveRunName("baseline", project: Project(displayName: "other"), runID: RunID.random())
                == "baseline"
        )
    }

    @Test("random names look like brave_pasta_123 and are unique")
    func randomNames() throws {
        let temp = TemporaryDirectory()
        let home = QuillHome(path: temp.path)
        let project = Project(displayName: "p")
        var seen = Set<String>()
        for _ in 0..<200 {
            let name = try home.reserveRunName(nil, project: project, runID: RunID.random())
            #expect(name.wholeMatch(of: /[a-z]+_[a-z]+_[0-9]{1,3}/) != nil, "\(name)")
            #expect(seen.insert(name).inserted)
        }
    }

    @Test("concurrent reservations of one name never hand it out twice")
    func concurrentNames() async throws {
        let temp = TemporaryDirectory()
        let home = QuillHome(path: temp.path)
        let names = await withTaskGroup(of: String?.self) { group in
            for _ in 0..<32 {
                group.addTask {
                    try? home.reserveRunName("race", project: Project(displayName: "p"), runID: RunID.random())
                }
            }
            var names: [String] = []
            for await name in group { if let name { names.append(name) } }
            return names
        }
        #expect(names.count == 32)
        #expect(Set(names).count == 32)
    }

    @Test("names with path characters cannot escape the names folder")
    func traversalNames() throws {
        let temp = TemporaryDirectory()
        let home = QuillHome(path: temp.path)
        let name = try home.reserveRunName("../../escape", project: Project(displayName: "p"), runID: RunID.random())
        #expect(name == "../../escape")
        #expect(!FileManager.default.fileExists(atPath: temp.path + "/escape"))
        let names = try FileManager.default.contentsOfDirectory(atPath: home.projectsPath + "/p/names")
        #expect(names == ["%2E.%2F..%2Fescape"])
    }

    @Test("runs are found by id, unique id prefix and name; ambiguity and absence say what to do")
    func resolve() throws {
        let temp = TemporaryDirectory()
        let home = QuillHome(path: temp.path)
        let store = LocalRunStore(home: home)
        let first = try makeRun(home, name: "alpha", host: host(pid: getpid()))
        _ = try makeRun(home, name: "alpha", project: "q", host: host(pid: getpid()))
        #expect(try store.resolve(first.name).directory == first)
        #expect(try store.resolve(String(first.name.prefix(7))).directory == first)
        #expect(try store.resolve("alpha", project: "p").directory == first)
        do {
            _ = try store.resolve("alpha")
            Issue.record("expected an ambiguity error")
        } catch let error as QuillError {
            #expect(error.code == .ambiguous)
            #expect(error.message.contains("--project"))
        }
        do {
            _ = try store.resolve("nope")
            Issue.record("expected not found")
        } catch let error as QuillError {
            #expect(error.code == .notFound)
            #expect(error.message.contains("quill runs"))
        }
    }

    @Test("a running run whose process is gone reads as crashed, and the first reader records it")
    func deadProcess() async throws {
        let temp = TemporaryDirectory()
        let home = QuillHome(path: temp.path)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        await process.ended()
        let directory = try makeRun(home, name: "dead", host: host(pid: process.processIdentifier))
        let store = LocalRunStore(home: home)
        let loaded = try store.load(directory, repair: false)
        #expect(loaded.meta.status == .crashed)
        #expect(try directory.readMeta().status == .running)
        _ = try store.load(directory)
        let onDisk = try directory.readMeta()
        #expect(onDisk.status == .crashed)
        #expect(onDisk.finishedAt != nil)
        #expect(try directory.readEvents().events.last?.fields["status"] == "crashed")
    }

    @Test("a running run of a live process stays running")
    func liveProcess() throws {
        let temp = TemporaryDirectory()
        let home = QuillHome(path: temp.path)
        let directory = try makeRun(home, name: "live", host: host(pid: getpid()))
        #expect(try LocalRunStore(home: home).load(directory).meta.status == .running)
    }

    @Test("a reused pid with another start time does not keep a dead run alive")
    func reusedPID() throws {
        let temp = TemporaryDirectory()
        let home = QuillHome(path: temp.path)
        var info = host(pid: getpid())
        info.processStartTicks = (ProcessLiveness.startTicks(of: getpid()) ?? 1) + 1
        let directory = try makeRun(home, name: "reused", host: info)
        #expect(try LocalRunStore(home: home).load(directory).meta.status == .crashed)
    }

    @Test("a run from another host is crashed only when its heartbeat is stale")
    func otherHost() throws {
        let temp = TemporaryDirectory()
        let home = QuillHome(path: temp.path)
        let fresh = try makeRun(home, name: "fresh", host: host(pid: 1, hostname: "elsewhere"), heartbeat: Date())
        let stale = try makeRun(
            home,
            name: "stale",
            host: host(pid: 1, hostname: "elsewhere"),
            heartbeat: Date(timeIntervalSinceNow: -3600)
        )
        let store = LocalRunStore(home: home)
        #expect(try store.load(fresh).meta.status == .running)
        #expect(try store.load(stale).meta.status == .crashed)
    }

    @Test("a queued run (a job's, as a server reads it) is never crashed or stale, and not final")
    func queuedIsNeverCrashed() async throws {
        let temp = TemporaryDirectory()
        let home = QuillHome(path: temp.path)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        await process.ended()
        let dead = try makeRun(home, name: "dead", host: host(pid: process.processIdentifier))
        let stale = try makeRun(
            home,
            name: "stale",
            host: host(pid: 1, hostname: "elsewhere"),
            heartbeat: Date(timeIntervalSinceNow: -3600)
        )
        for directory in [dead, stale] {
            _ = try directory.updateMeta { $0.status = .queued }
        }
        let store = LocalRunStore(home: home)
        for directory in [dead, stale] {
            #expect(try store.load(directory).meta.status == .queued)
            #expect(try directory.readMeta().status == .queued, "nothing repaired")
        }
        #expect(store.list().runs.map(\.meta.status) == [.queued, .queued])
        #expect(!RunStatus.queued.isTerminal)
        #expect(RunStatus.allCases.filter { !$0.isTerminal } == [.queued, .running])
    }

    @Test("listing skips unreadable runs and reports them")
    func unreadable() throws {
        let temp = TemporaryDirectory()
        let home = QuillHome(path: temp.path)
        _ = try makeRun(home, name: "good", host: host(pid: getpid()))
        try temp.write("runs/broken/meta.json", "{not json")
        let (runs, unreadable) = LocalRunStore(home: home).list()
        #expect(runs.map(\.meta.name) == ["good"])
        #expect(unreadable.count == 1)
        #expect(unreadable[0].contains("broken"))
    }
}

import Foundation

/// The folder Quill keeps its runs and projects in.
///
/// `QUILL_HOME` names it; without it, `~/.quill`. Runs live in `runs/<run_id>/`, projects in
/// `projects/<slug>/project.json`, and the names taken in a project in `projects/<slug>/names/`.
public struct QuillHome: Sendable, Hashable {
    /// The folder.
    public let path: String

    /// Wraps a folder path.
    public init(path: String) {
        self.path = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
    }

    /// The home named by `QUILL_HOME`, else `~/.quill`.
    public static func fromEnvironment(_ environment: [String: String]? = nil) -> QuillHome {
        let environment = environment ?? ProcessInfo.processInfo.environment
        if let explicit = environment["QUILL_HOME"], !explicit.isEmpty {
            return QuillHome(path: explicit)
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return QuillHome(path: home + "/.quill")
    }

    /// `runs/`.
    public var runsPath: String { path + "/runs" }
    /// `projects/`.
    public var projectsPath: String { path + "/projects" }

    /// The directory of a run.
    public func runDirectory(_ id: RunID) -> RunDirectory {
        RunDirectory(path: runsPath + "/" + id.rawValue)
    }

    /// Gets or creates a project by display name, recording it in `projects/<slug>/project.json`.
    @discardableResult
    public func project(named displayName: String) throws -> Project {
        let project = Project(displayName: displayName)
        let folder = projectsPath + "/" + project.slug
        let file = folder + "/project.json"
        if FileIO.exists(file) { return project }
        try FileIO.makeDirectory(folder + "/names")
        let json: JSONValue = [
            "display_name": .string(project.displayName), "slug": .string(project.slug),
            "created_at": .string(Timestamp.string(Date())),
        ]
        // Exclusive create: when two processes race, the first one's record stays.
        let fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd >= 0 {
            defer { close(fd) }
            try FileIO.writeAll(fd, JSONWriter.pretty(json), path: file)
        } else if errno != EEXIST {
            throw QuillError.posix("creating", path: file, errno: errno)
        }
        return project
    }

    /// Creates a new, empty run directory with a fresh random id.
    public func makeRunDirectory() throws -> RunDirectory {
        try FileIO.makeDirectory(runsPath)
        for _ in 0..<64 {
            let id = RunID.random()
            let directory = runDirectory(id)
            if mkdir(directory.path, 0o755) == 0 {
                try FileIO.makeDirectory(directory.artifactsPath)
                return directory
            }
            if errno != EEXIST { throw QuillError.posix("creating run directory", path: directory.path, errno: errno) }
        }
        throw QuillError(.io, "could not find a free run id in '\(runsPath)'")
    }

    /// Reserves a unique run name in a project and returns it.
    ///
    /// With no requested name a readable random one is drawn (`brave_pasta_123`). A name already taken
    /// gets the first free numeric suffix (`baseline_1`, `baseline_2`). Reservation is an exclusive file
    /// create in `projects/<slug>/names/`, so two processes never get the same name.
    public func reserveRunName(_ requested: String?, project: Project, runID: RunID) throws -> String {
        let folder = projectsPath + "/" + project.slug + "/names"
        try FileIO.makeDirectory(folder)
        func tryReserve(_ name: String) throws -> Bool {
            let file = folder + "/" + RunNames.fileName(for: name)
            let fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd >= 0 {
                defer { close(fd) }
                try FileIO.writeAll(fd, Array(runID.rawValue.utf8), path: file)
                return true
            }
            if errno == EEXIST { return false }
            throw QuillError.posix("reserving run name", path: file, errno: errno)
        }
        if let requested = requested?.trimmingWhitespace(), !requested.isEmpty {
            if try tryReserve(requested) { return requested }
            var suffix = 1
            while true {
                let candidate = "\(requested)_\(suffix)"
                if try tryReserve(candidate) { return candidate }
                suffix += 1
            }
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<1000 {
            let candidate = RunNames.random(using: &generator)
            if try tryReserve(candidate) { return candidate }
        }
        throw QuillError(.io, "could not draw a free random run name in project '\(project.displayName)'; pass a name")
    }
}

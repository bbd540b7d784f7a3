import QuillCore
import QuillStore

/// Who may do what with jobs and devices.
///
/// A job belongs to a project: reading it needs read access to the project, submitting, cancelling and
/// retrying need write access (a job the caller may not read is 404, as a run is). Workers claim jobs of every
/// project and see their commands, so the worker routes (register, claim, heartbeat, output, finish) need an
/// administrator's API key, or single-user mode; so does unregistering a device. Any signed-in caller may list
/// devices.
extension Authorization {
    /// The job's project, when the caller may read the job.
    func readJob(_ job: Job, _ caller: Caller) async throws -> StoredProject {
        try await jobProject(job, caller, .read)
    }

    /// The job's project, when the caller may change the job (cancel, retry).
    func writeJob(_ job: Job, _ caller: Caller) async throws -> StoredProject {
        try await jobProject(job, caller, .write)
    }

    /// The ids of the projects whose jobs the caller may list, or `nil` for every project.
    func readableJobProjects(_ caller: Caller) async throws -> [Int64]? {
        if case .singleUser = caller { return nil }
        return try await readableProjects(caller).map(\.id)
    }

    /// Allows the worker routes: an administrator, or anyone in single-user mode.
    func runWorker(_ caller: Caller) throws {
        switch caller {
        case .anonymous:
            throw QuillError(
                .unauthorized,
                "a worker needs an administrator's API key; start it with QUILL_API_KEY set or after `quill login`"
            )
        case .user(let user) where !user.isAdmin:
            throw QuillError(
                .forbidden,
                "only an administrator's API key may run a worker; ask an administrator for one"
            )
        case .user, .singleUser:
            return
        }
    }

    /// Allows listing devices: any signed-in caller, or anyone in single-user mode.
    func readDevices(_ caller: Caller) throws {
        if caller == .anonymous {
            throw QuillError(.unauthorized, "devices need a signed-in user; set QUILL_API_KEY or run `quill login`")
        }
    }

    private func jobProject(_ job: Job, _ caller: Caller, _ access: Access) async throws -> StoredProject {
        try requireWriter(caller, access)
        let notFound = QuillError(.notFound, "job \(job.id) not found; list jobs with `quill jobs`")
        guard let project = try await store.project(id: job.spec.projectID) else { throw notFound }
        try check(caller, access, project, notFound: notFound)
        return project
    }
}

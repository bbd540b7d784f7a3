import ArgumentParser
import Foundation
import Logging
import QuillAPI
import QuillClient
import QuillCore
import QuillJobs
import QuillSlurm
import QuillStore
import ServiceLifecycle
import UnixSignals

/// `quill worker --server URL`: runs jobs from a server's queue on this machine.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run jobs from a server's queue on this machine.",
        discussion: """
            Registers this machine as a device (name, host, CPUs, memory, GPUs from nvidia-smi, labels), claims \
            the jobs it can run and runs each in its working directory with QUILL_JOB_ID, QUILL_RUN_ID, \
            QUILL_RUN_DIR, QUILL_TRACKING_URI and, for GPU jobs, CUDA_VISIBLE_DEVICES set. QUILL_RUN_DIR is a \
            run directory of the job's run: the Swift SDK inside the job logs into it, and any program that \
            appends JSON lines to $QUILL_RUN_DIR/metrics.jsonl is logging; the worker streams its metrics, \
            events and files under artifacts/ to the server once a second, and the output to the job's run log. SIGINT or SIGTERM stop it: running jobs are stopped and handed back to the queue, \
            and the device unregisters. The server must have no users, or the key must be an administrator's.
            """
    )

    @Option(help: ArgumentHelp("The server (default: $QUILL_TRACKING_URI).", valueName: "url"))
    var server: String?

    @Option(help: "The device name (default: this host's name).")
    var name: String?

    @Option(help: "Jobs run at once (default 1; 16 with --executor slurm, where a slot follows a SLURM job).")
    var slots: Int?

    @Option(
        help: ArgumentHelp(
            "local: run jobs as processes here; slurm: also submit the jobs that ask for SLURM (quill submit --executor slurm) as batch jobs and follow them (needs sbatch/squeue here, SLURM_CONF when not the system's, and the runs directory on a filesystem the nodes share). Batch scripts run each command under this quill (`quill run --attach`), so it must be on a filesystem the nodes share too; QUILL_SLURM_QUILL names another (an absolute path on the nodes). QUILL_PREEMPT_MAX and QUILL_CANCELLED_IS_PREEMPTED set its preemption policy.",
            valueName: "local|slurm"
        )
    )
    var executor = "local"

    @Option(help: ArgumentHelp("GPU indices to offer, e.g. 0,1 (default: those nvidia-smi lists).", valueName: "list"))
    var gpus: String?

    @Option(help: ArgumentHelp("Labels jobs can ask for, e.g. a100,big.", valueName: "list"))
    var labels: String?

    @Option(help: ArgumentHelp("Where job run directories go (default: $QUILL_HOME/worker-runs).", valueName: "dir"))
    var runsDir: String?

    @Option(
        name: .customLong("share"),
        help: ArgumentHelp(
            "A folder whose files this worker sends when a run asks for a remote artifact (repeatable; by default a run may ask only for files of its own job run directory).",
            valueName: "dir"
        )
    )
    var shared: [String] = []

    @Option(
        help: ArgumentHelp(
            "Seconds the server waits without a heartbeat before it re-queues the jobs (default 10; 30 with --executor slurm).",
            valueName: "seconds"
        )
    )
    var lease: Double?

    @OptionGroup var homeOptions: HomeOptions

    func validate() throws {
        try ServerURL.check(server: server)
        guard (1...256).contains(slotCount) else { throw ValidationError("--slots must be 1 to 256") }
        guard ["local", "slurm"].contains(executor) else {
            throw ValidationError("--executor takes local or slurm, not '\(executor)'")
        }
        if executor == "slurm" {
            do {
                _ = try SlurmPreemptionPolicy(environment: ProcessInfo.processInfo.environment)
            } catch let error as QuillError {
                throw ValidationError(error.message)
            }
            if let quill = ProcessInfo.processInfo.environment["QUILL_SLURM_QUILL"], !quill.isEmpty,
                !quill.hasPrefix("/")
            {
                throw ValidationError(
                    "QUILL_SLURM_QUILL must be an absolute path to quill on the nodes, not '\(quill)'"
                )
            }
        }
        guard (2...3600).contains(leaseSeconds) else { throw ValidationError("--lease must be 2 to 3600 seconds") }
        for folder in shared where folder.isEmpty || folder.utf8.contains(0) {
            throw ValidationError("--share takes a folder, not '\(folder)'")
        }
        if let gpus, Self.indices(gpus) == nil {
            throw ValidationError("--gpus takes GPU indices separated by commas, e.g. 0,1, not '\(gpus)'")
        }
    }

    /// The lease in seconds: as given, else 10 (30 with --executor slurm, whose many jobs share one connection
    /// pool for renewals and uploads).
    var leaseSeconds: Double { lease ?? (executor == "slurm" ? 30 : 10) }

    /// The slots: as given, else 1 (16 with --executor slurm).
    var slotCount: Int { slots ?? (executor == "slurm" ? 16 : 1) }

    /// The quill SLURM batch scripts run commands under: `QUILL_SLURM_QUILL`, else this worker's own executable.
    static var slurmQuill: String {
        ProcessInfo.processInfo.environment["QUILL_SLURM_QUILL"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ProcessCapture.currentExecutable()
    }

    static func indices(_ text: String) -> [Int]? {
        let parts = text.split(separator: ",", omittingEmptySubsequences: true)
        let values = parts.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard values.count == parts.count, values.allSatisfy({ (0...1024).contains($0) }) else { return nil }
        return values
    }

    func run() async throws {
        let client = try ServerClient(server: server)
        let deviceName =
            name ?? ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "worker"
        let listed = DeviceProbe.nvidiaGPUs()
        let offered: [DeviceGPU]? = gpus.flatMap(Self.indices).map { indices in
            indices.map { index in listed.first { $0.index == index } ?? DeviceGPU(index: index) }
        }
        var offeredLabels =
            labels.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? []
        if executor == "slurm", !offeredLabels.contains(SlurmJobSpec.label) { offeredLabels.append(SlurmJobSpec.label) }
        let device = DeviceProbe.local(name: deviceName, labels: offeredLabels, slots: slotCount, gpus: offered)
        // Absolute: batch scripts name their output files by it.
        let runsDirectory = URL(fileURLWithPath: runsDir ?? homeOptions.quillHome.path + "/worker-runs")
            .standardizedFileURL
            .path
        var configuration = WorkerConfiguration(
            device: device,
            runsDirectory: runsDirectory,
            trackingURI: { [base = client.baseURL] in base }
        )
        configuration.sharedDirectories = shared
        configuration.lease = .milliseconds(Int64(leaseSeconds * 1000))
        configuration.heartbeatInterval = .milliseconds(Int64(min(2, leaseSeconds / 5) * 1000))
        if executor == "slurm" {
            // A SLURM job's run directory changes slowly; fewer uploads leave the connections to lease renewals.
            configuration.uploadInterval = .seconds(2)
        }
        configuration.claimWait = .seconds(5)
        var logger = Logger(label: "quill.worker")
        logger.logLevel = .info
        let jobExecutor: any Executor =
            executor == "slurm"
            ? SlurmExecutor(
                client: SlurmClient(),
                policy: try SlurmPreemptionPolicy(environment: ProcessInfo.processInfo.environment),
                scriptsDirectory: runsDirectory + "/slurm",
                quillExecutable: Self.slurmQuill,
                // Well inside the lease: a job waiting for the rest of its array renews nothing meanwhile.
                gatherWindow: .milliseconds(Int64(min(3, leaseSeconds / 4) * 1000))
            )
            : LocalProcessExecutor()
        let worker = Worker(
            configuration: configuration,
            channel: HTTPJobChannel(client: client.client),
            executor: jobExecutor,
            uploads: HTTPRunDirectoryUploads(
                serverURL: { [base = client.baseURL] in base },
                apiKey: client.client.apiKey
            ),
            logger: logger
        )
        Console.print(
            "quill worker \(deviceName): taking jobs from \(client.baseURL) (\(slotCount) slot(s)\(executor == "slurm" ? ", SLURM" : ""))"
        )
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: worker)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
    }
}

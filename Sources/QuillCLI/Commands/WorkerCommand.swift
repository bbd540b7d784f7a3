import ArgumentParser
import Foundation
import Logging
import QuillAPI
import QuillClient
import QuillCore
import QuillJobs
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

    @Option(help: "Jobs run at once.")
    var slots = 1

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
            "Seconds the server waits without a heartbeat before it re-queues the jobs.",
            valueName: "seconds"
        )
    )
    var lease: Double = 10

    @OptionGroup var homeOptions: HomeOptions

    func validate() throws {
        try ServerURL.check(server: server)
        guard (1...256).contains(slots) else { throw ValidationError("--slots must be 1 to 256") }
        guard (2...3600).contains(lease) else { throw ValidationError("--lease must be 2 to 3600 seconds") }
        for folder in shared where folder.isEmpty || folder.utf8.contains(0) {
            throw ValidationError("--share takes a folder, not '\(folder)'")
        }
        if let gpus, Self.indices(gpus) == nil {
            throw ValidationError("--gpus takes GPU indices separated by commas, e.g. 0,1, not '\(gpus)'")
        }
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
        let device = DeviceProbe.local(
            name: deviceName,
            labels: labels.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? [],
            slots: slots,
            gpus: offered
        )
        var configuration = WorkerConfiguration(
            device: device,
            runsDirectory: runsDir ?? homeOptions.quillHome.path + "/worker-runs",
            trackingURI: { [base = client.baseURL] in base }
        )
        configuration.sharedDirectories = shared
        configuration.lease = .milliseconds(Int64(lease * 1000))
        configuration.heartbeatInterval = .milliseconds(Int64(min(2, lease / 5) * 1000))
        configuration.claimWait = .seconds(5)
        var logger = Logger(label: "quill.worker")
        logger.logLevel = .info
        let worker = Worker(
            configuration: configuration,
            channel: HTTPJobChannel(client: client.client),
            uploads: HTTPRunDirectoryUploads(
                serverURL: { [base = client.baseURL] in base },
                apiKey: client.client.apiKey
            ),
            logger: logger
        )
        Console.print("quill worker \(deviceName): taking jobs from \(client.baseURL) (\(slots) slot(s))")
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

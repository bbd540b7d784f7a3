import QuillCore
package import QuillStore

/// How a ``Worker`` runs: the device it registers as, its timings and where job run directories go.
package struct WorkerConfiguration: Sendable {
    /// The device the worker registers as (its name, slots, GPUs and labels are what it claims with).
    package var device: NewDevice
    /// How long the worker holds its attempts and stays online without renewing; a worker silent this long is
    /// presumed dead and its jobs re-queued.
    package var lease: Duration = .seconds(10)
    /// How often it renews leases, heartbeats and uploads output.
    package var heartbeatInterval: Duration = .seconds(1)
    /// How often a job's run directory is uploaded while the job runs (with ``Worker``'s `uploads`).
    package var uploadInterval: Duration = .seconds(1)
    /// How long one claim waits for a job (long-poll; the REST API allows up to 5 seconds per request).
    package var claimWait: Duration = .seconds(5)
    /// How long a stopped command has between SIGTERM and SIGKILL.
    package var stopGrace: Duration = .seconds(10)
    /// Where each job's run directory is made (`<runsDirectory>/<run id>`, given as `QUILL_RUN_DIR`).
    package var runsDirectory: String
    /// The folders whose files the worker sends when a run asks for a remote artifact (`--share`); a file outside
    /// them, after resolving symlinks and `..`, is refused (see ``SharedDirectories``); each run may also ask for the
    /// files of its own run directory in ``runsDirectory``.
    package var sharedDirectories: [String] = []
    /// How long the worker holds a remote artifact request it claimed before the server hands it out again.
    package var remoteArtifactLease: Duration = .seconds(600)
    /// The server URL given to jobs as `QUILL_TRACKING_URI`, when there is one (asked per job: an embedded
    /// worker learns its server's port only once the server listens).
    package var trackingURI: @Sendable () -> String?

    /// A configuration with default timings.
    package init(device: NewDevice, runsDirectory: String, trackingURI: @escaping @Sendable () -> String? = { nil }) {
        self.device = device
        self.runsDirectory = runsDirectory
        self.trackingURI = trackingURI
    }

    /// What the worker claims with.
    package var capabilities: WorkerCapabilities {
        WorkerCapabilities(
            name: device.name,
            slots: device.slots,
            gpus: device.gpus.map(\.index),
            labels: device.labels
        )
    }
}

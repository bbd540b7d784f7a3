import Foundation
import QuillCore
import Synchronization

/// Samples CPU, memory, process RSS and (where `nvidia-smi` exists) GPUs on a background thread, writing
/// each sample to the run's `system.jsonl`.
///
/// A missing `nvidia-smi`, or a `/proc` file it cannot read, is normal: those values are left out.
// @unchecked Sendable: `running` is a Mutex; `previousCPU` and `hasGPU` are touched only by the
// sampler thread (`start` reads the first CPU figures before that thread exists).
final class SystemSampler: @unchecked Sendable {
    private let interval: Duration
    private let running = Mutex<BackgroundLoop?>(nil)
    private var previousCPU: (busy: UInt64, total: UInt64)?
    private var hasGPU: Bool

    init(interval: Duration) {
        self.interval = max(interval, .milliseconds(10))
        self.hasGPU = ProcessCapture.findExecutable("nvidia-smi") != nil
    }

    func start(writingTo run: Run) {
        previousCPU = Self.readCPU()
        let interval = interval
        let loop = BackgroundLoop.start(name: "quill-system-sampler", after: interval) { [self] stopping in
            if stopping { return nil }
            try? run.logSystem(sample())
            return interval
        }
        running.withLock { $0 = loop }
    }

    /// Stops sampling and waits for a sample being taken to be written.
    func stop() {
        guard let loop = running.withLock({ $0 }) else { return }
        loop.stop()
        loop.join()
    }

    /// Takes one sample now.
    func sample() -> [String: Double] {
        var values: [String: Double] = [:]
        if let cpu = Self.readCPU() {
            if let previous = previousCPU, cpu.total > previous.total {
                values["cpu_percent"] = Double(cpu.busy - previous.busy) / Double(cpu.total - previous.total) * 100
            }
            previousCPU = cpu
        }
        if let memory = Self.readMemory() {
            values["memory_total_gb"] = memory.total / 1_073_741_824
            values["memory_used_gb"] = (memory.total - memory.available) / 1_073_741_824
            values["memory_percent"] = (memory.total - memory.available) / memory.total * 100
        }
        if let rss = Self.readRSS() {
            values["process_rss_mb"] = rss / 1_048_576
        }
        if hasGPU {
            values.merge(Self.readGPUs()) { _, new in new }
        }
        return values
    }

    private static func readCPU() -> (busy: UInt64, total: UInt64)? {
        guard let bytes = try? FileIO.read("/proc/stat"),
            let line = String(decoding: bytes.prefix(512), as: UTF8.self).split(separator: "\n").first,
            line.hasPrefix("cpu ")
        else { return nil }
        let numbers = line.split(separator: " ").dropFirst().compactMap { UInt64($0) }
        guard numbers.count >= 4 else { return nil }
        let total = numbers.reduce(0, +)
        let idle = numbers[3] + (numbers.count > 4 ? numbers[4] : 0)
        return (total - idle, total)
    }

    private static func readMemory() -> (total: Double, available: Double)? {
        guard let bytes = try? FileIO.read("/proc/meminfo") else { return nil }
        var total: Double?
        var available: Double?
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let kilobytes = Double(fields[1]) else { continue }
            if fields[0] == "MemTotal:" { total = kilobytes * 1024 }
            if fields[0] == "MemAvailable:" { available = kilobytes * 1024 }
        }
        guard let total, let available, total > 0 else { return nil }
        return (total, available)
    }

    private static func readRSS() -> Double? {
        guard let bytes = try? FileIO.read("/proc/self/statm") else { return nil }
        let fields = String(decoding: bytes, as: UTF8.self).split(separator: " ")
        guard fields.count > 1, let pages = Double(fields[1]) else { return nil }
        return pages * Double(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Per-GPU utilization, memory and temperature from `nvidia-smi`.
    private static func readGPUs() -> [String: Double] {
        guard
            let text = ProcessCapture.text(
                "nvidia-smi",
                [
                    "--query-gpu=index,utilization.gpu,memory.used,memory.total,temperature.gpu",
                    "--format=csv,noheader,nounits",
                ]
            )
        else { return [:] }
        var values: [String: Double] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == 5, let index = Int(fields[0]) else { continue }
            values["gpu\(index)_util_percent"] = Double(fields[1])
            values["gpu\(index)_memory_used_mb"] = Double(fields[2])
            values["gpu\(index)_memory_total_mb"] = Double(fields[3])
            values["gpu\(index)_temperature_c"] = Double(fields[4])
        }
        return values
    }
}

import Foundation
import QuillCore
package import QuillStore

/// What this machine offers as a device: host name, CPUs, memory and, where `nvidia-smi` is present, its GPUs.
package enum DeviceProbe {
    /// This machine as a device named `name`, with labels and slots.
    package static func local(name: String, labels: [String], slots: Int, gpus: [DeviceGPU]? = nil) -> NewDevice {
        NewDevice(
            name: name,
            host: ProcessInfo.processInfo.hostName,
            cpus: ProcessInfo.processInfo.activeProcessorCount,
            memoryBytes: Int64(clamping: ProcessInfo.processInfo.physicalMemory),
            gpus: gpus ?? nvidiaGPUs(),
            labels: labels,
            slots: slots
        )
    }

    /// The GPUs `nvidia-smi` lists, or none when it is missing or fails.
    package static func nvidiaGPUs() -> [DeviceGPU] {
        guard ProcessCapture.findExecutable("nvidia-smi") != nil,
            let text = ProcessCapture.text(
                "nvidia-smi",
                ["--query-gpu=index,name,memory.total", "--format=csv,noheader,nounits"]
            )
        else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == 3, let index = Int(fields[0]) else { return nil }
            let mebibytes = Int64(fields[2])
            return DeviceGPU(index: index, name: fields[1], memoryBytes: mebibytes.map { $0 &* 1_048_576 })
        }
    }
}

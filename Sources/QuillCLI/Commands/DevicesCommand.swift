import ArgumentParser
import Foundation
import QuillAPI
import QuillClient
import QuillCore

/// `quill devices [NAME]`: the workers registered with a server.
struct DevicesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "List the devices (workers) of a server with their status, resources and jobs."
    )

    @OptionGroup var options: AccountServerOptions

    @Argument(help: "Show only this device.")
    var name: String?

    func run() async throws {
        let server = try ServerClient(server: options.server)
        let devices: [APIDevice]
        let json: JSONValue
        if let name {
            let (device, answer) = try server.call(APIDevice.self, "GET", APIPath.device(name))
            devices = [device]
            json = answer
        } else {
            let (list, answer) = try server.call(APIDeviceList.self, "GET", APIPath.devices)
            devices = list.devices
            json = answer
        }
        if options.json { return Console.printJSON(json) }
        var table = Table(
            headers: ["NAME", "STATUS", "HOST", "CPUS", "MEMORY", "GPUS", "SLOTS", "LABELS", "JOBS", "LAST SEEN"],
            rightAligned: [3, 6]
        )
        for device in devices {
            table.append([
                device.name, device.status, device.host, String(device.cpus), Formatting.bytes(device.memoryBytes),
                device.gpus.isEmpty ? "-" : device.gpus.map { $0.name ?? "gpu\($0.index)" }.joined(separator: ","),
                String(device.slots), device.labels.joined(separator: ","),
                device.runningJobs.map(String.init).joined(separator: ","), Formatting.time(device.lastSeen),
            ])
        }
        Console.print(devices.isEmpty ? "no devices; start one with `quill worker --server URL`" : table.render())
    }
}

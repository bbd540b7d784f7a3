package import QuillCore

/// Lists and maps kept as JSON text by every backend (the same text, so `quill db copy` moves it as it is).
package enum JSONColumn {
    /// Strings as a JSON array.
    package static func text(_ strings: [String]) -> String {
        JSONWriter.string(.array(strings.map(JSONValue.string)))
    }

    /// A map of strings as a JSON object.
    package static func text(_ map: [String: String]) -> String {
        JSONWriter.string(.object(map.mapValues(JSONValue.string)))
    }

    /// Integers as a JSON array.
    package static func text(_ numbers: [Int]) -> String {
        JSONWriter.string(.array(numbers.map(JSONValue.int)))
    }

    /// The strings of a JSON array (none when the text is missing or not an array).
    package static func strings(_ text: String?) -> [String] {
        guard let text, case .array(let values)? = try? JSONParser.parse(text) else { return [] }
        return values.compactMap(\.stringValue)
    }

    /// The integers of a JSON array (none when the text is missing or not an array).
    package static func ints(_ text: String?) -> [Int] {
        guard let text, case .array(let values)? = try? JSONParser.parse(text) else { return [] }
        return values.compactMap(\.intValue)
    }

    /// The string values of a JSON object.
    package static func stringMap(_ text: String?) -> [String: String] {
        object(text).compactMapValues(\.stringValue)
    }

    /// The values of a JSON object (none when the text is missing or not an object).
    package static func object(_ text: String?) -> [String: JSONValue] {
        guard let text, case .object(let values)? = try? JSONParser.parse(text) else { return [:] }
        return values
    }

    /// A device's GPUs as JSON text: `[{"index": 0, "name": "A100", "memory_bytes": 85899345920}, …]`.
    package static func text(_ gpus: [DeviceGPU]) -> String {
        JSONWriter.string(
            .array(
                gpus.map { gpu in
                    var fields: [String: JSONValue] = ["index": .int(gpu.index)]
                    if let name = gpu.name { fields["name"] = .string(name) }
                    if let memory = gpu.memoryBytes { fields["memory_bytes"] = .int(Int(memory)) }
                    return .object(fields)
                }
            )
        )
    }

    /// A device's GPUs from JSON text (entries without an index are skipped).
    package static func gpus(_ text: String?) -> [DeviceGPU] {
        guard let text, case .array(let values)? = try? JSONParser.parse(text) else { return [] }
        return values.compactMap { value in
            guard case .object(let fields) = value, let index = fields["index"]?.intValue else { return nil }
            return DeviceGPU(
                index: index,
                name: fields["name"]?.stringValue,
                memoryBytes: fields["memory_bytes"]?.intValue.map(Int64.init)
            )
        }
    }
}

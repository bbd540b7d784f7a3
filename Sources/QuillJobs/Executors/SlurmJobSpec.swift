import Foundation
import QuillCore
package import QuillSlurm
package import QuillStore

/// How a job asks to run on SLURM, kept in the job's tags and labels (existing columns of both stores, so no
/// schema change; the job's run gets the tags too and so records how it ran):
///
/// - the tag `quill.executor=slurm` and the tag `quill.slurm`, the ``QuillSlurm/SlurmParameters`` as JSON;
/// - the label `slurm`, so only workers that submit to SLURM (`quill worker --executor slurm`) claim it;
/// - for one job of a sweep submitted as one array job, the tag `quill.slurm.array=KEY:COUNT:MAX` (the sweep,
///   its size, its `--max-parallel` or 0);
/// - once submitted, the run's tag `quill.slurm.job_id` names the SLURM job (`123`, or `123_4` for a task).
package enum SlurmJobSpec {
    /// The tag naming the executor.
    package static let executorTag = "quill.executor"
    /// The executor tag's value for SLURM.
    package static let executorName = "slurm"
    /// The tag holding the parameters as JSON.
    package static let parametersTag = "quill.slurm"
    /// The tag grouping a sweep's jobs into one array job.
    package static let arrayTag = "quill.slurm.array"
    /// The run's tag naming its SLURM job.
    package static let jobIDTag = "quill.slurm.job_id"
    /// The label a SLURM worker offers and a SLURM job needs.
    package static let label = "slurm"

    /// One job of an array.
    package struct ArrayMembership: Sendable, Hashable {
        /// What the array's jobs share (the sweep).
        package var key: String
        /// How many jobs the array has.
        package var count: Int
        /// The array's throttle, or `nil` for none.
        package var maxParallel: Int?

        /// A membership.
        package init(key: String, count: Int, maxParallel: Int?) {
            self.key = key
            self.count = count
            self.maxParallel = maxParallel
        }

        /// The tag's value, `KEY:COUNT:MAX`.
        package var tagValue: String { "\(key):\(count):\(maxParallel ?? 0)" }

        /// Parses a tag's value.
        package init?(tagValue: String) {
            let parts = tagValue.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 3, !parts[0].isEmpty, let count = Int(parts[1]), count >= 1, let max = Int(parts[2]),
                max >= 0
            else { return nil }
            self.init(key: String(parts[0]), count: count, maxParallel: max == 0 ? nil : max)
        }
    }

    /// Adds what makes a job run on SLURM with `parameters` to its tags and labels.
    ///
    /// - Throws: ``QuillCore/QuillError`` with code `invalidArgument` for invalid parameters.
    package static func apply(
        _ parameters: SlurmParameters,
        array: ArrayMembership? = nil,
        tags: inout [String: String],
        labels: inout [String]
    ) throws {
        try parameters.validate()
        tags[executorTag] = executorName
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        tags[parametersTag] = String(decoding: try encoder.encode(parameters), as: UTF8.self)
        if let array { tags[arrayTag] = array.tagValue }
        if !labels.contains(label) { labels.append(label) }
    }

    /// The SLURM parameters of a job that runs on SLURM, `nil` for any other job.
    ///
    /// - Throws: ``QuillCore/QuillError`` with code `invalidArgument` when its `quill.slurm` tag is not valid
    ///   parameters.
    package static func parameters(of spec: NewJob) throws -> SlurmParameters? {
        guard spec.tags[executorTag] == executorName else { return nil }
        guard let text = spec.tags[parametersTag] else { return SlurmParameters() }
        let parameters: SlurmParameters
        do {
            parameters = try JSONDecoder().decode(SlurmParameters.self, from: Data(text.utf8))
        } catch {
            throw QuillError(
                .invalidArgument,
                "the job's \(parametersTag) tag is not SLURM parameters as JSON: '\(text)'"
            )
        }
        try parameters.validate()
        return parameters
    }

    /// The array a job belongs to, when it is one of a sweep's.
    package static func array(of spec: NewJob) -> ArrayMembership? {
        spec.tags[arrayTag].flatMap(ArrayMembership.init(tagValue:))
    }
}

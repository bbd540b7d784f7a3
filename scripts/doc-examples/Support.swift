// Stand-ins for the functions and types the documented examples leave to the reader (`trainStep()`, a
// dataset, a model). Every example in README.md and Docs/*.md is compiled against Quill with this file
// next to it; nothing else is added to an example, so an example that stops compiling fails the check.
import Foundation
import QuillSteps

/// One training step of the reader's model: returns its loss and accuracy.
func trainStep() -> (Double, Double) {
    (Double.random(in: 0.1...1), Double.random(in: 0.5...1))
}

/// A checkpoint the reader's script restored, with the step it was saved at.
struct Checkpoint {
    var step = 100
}

/// The checkpoint the README's resume example continues from.
let checkpoint = Checkpoint()

/// The reader's dataset, as a cached step.
struct Dataset: Step {
    var samples = 8

    func create(_ context: StepContext) async throws {
        let rows = (0..<samples).map { Double($0) }
        try JSONEncoder().encode(rows).write(to: URL(fileURLWithPath: context.file("rows.json")))
    }

    func load(_ context: StepContext) async throws -> [Double] {
        try JSONDecoder().decode([Double].self, from: Data(contentsOf: URL(fileURLWithPath: context.file("rows.json"))))
    }
}

/// The reader's model.
struct Model: Codable {
    var weight: Double

    init(weight: Double) { self.weight = weight }

    init(contentsOf path: String) throws {
        self = try JSONDecoder().decode(Model.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    func write(to path: String) throws {
        try JSONEncoder().encode(self).write(to: URL(fileURLWithPath: path))
    }
}

/// The reader's training function.
func train(_ rows: [Double], lr: Double) -> Model {
    Model(weight: rows.reduce(0, +) * lr)
}

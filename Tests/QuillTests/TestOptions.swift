import Foundation
import Quill
import QuillCore
import QuillTesting

/// Options for a test run in its own home: no capture, no sampler, no signal handling, no attaching.
func testOptions(_ temp: TemporaryDirectory) -> RunOptions {
    var options = RunOptions(home: QuillHome(path: temp.path))
    options.captureGit = false
    options.captureDependencies = false
    options.systemMetricsInterval = nil
    options.handleSignals = false
    options.attachToEnvironmentRun = false
    return options
}

// SHA-256 throughput: `QuillCore.SHA256` (swift-crypto, BoringSSL on Linux) against `ReferenceSHA256`, the
// pure-Swift implementation Quill used before issue 10, side by side in one process.
//
//   quill-hash-bench [--mib 1024] [--repeats 5] [--dir DIR]
//
// Fills a buffer of `--mib` MiB with pseudo-random bytes, then for each repeat hashes it in memory with
// both implementations (one `update` call), and writes it to a file in `--dir` (default: a new temporary
// folder, removed at the end) and hashes the file with both (1 MiB reads; the file is in the page cache,
// so this measures hashing plus the kernel copy, not the disk). The two always agree or the bench fails.
// Prints one JSON object with the median, min and max wall-clock throughput of each case in MiB/s, and the
// median throughput per CPU second of the hashing thread (`cpu_median_mib_s`, the figure that `openssl speed`
// reports; steadier on a loaded machine).
import Foundation
import QuillCore

func argument(_ name: String, in arguments: [String]) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

/// Nanoseconds on a clock: `CLOCK_MONOTONIC` for wall time, `CLOCK_THREAD_CPUTIME_ID` for the CPU time (user and
/// system) of the calling thread, which all the hashing runs on.
func now(_ clock: clockid_t = CLOCK_MONOTONIC) -> UInt64 {
    var time = timespec()
    clock_gettime(clock, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

/// Hashes a file in 1 MiB reads with the reference implementation, as the former `SHA256.hex(ofFileAt:)` did.
func referenceHex(ofFileAt path: String) -> String {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    precondition(fd >= 0, "cannot open \(path): errno \(errno)")
    defer { close(fd) }
    var hash = ReferenceSHA256()
    let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
    defer { chunk.deallocate() }
    while true {
        let count = read(fd, chunk.baseAddress, chunk.count)
        if count < 0, errno == EINTR { continue }
        precondition(count >= 0, "cannot read \(path): errno \(errno)")
        if count == 0 { break }
        hash.update(UnsafeRawBufferPointer(rebasing: chunk[0..<count]))
    }
    return hash.hexDigest()
}

let arguments = CommandLine.arguments
let mebibytes = Int(argument("--mib", in: arguments) ?? "1024") ?? 1024
let repeats = Int(argument("--repeats", in: arguments) ?? "5") ?? 5
let ownDirectory = argument("--dir", in: arguments) == nil
let directory = argument("--dir", in: arguments) ?? NSTemporaryDirectory() + "quill-hash-bench-\(getpid())"
try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
defer { if ownDirectory { try? FileManager.default.removeItem(atPath: directory) } }

let byteCount = mebibytes << 20
let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: byteCount, alignment: 64)
defer { buffer.deallocate() }
var state: UInt64 = 0x9E37_79B9_7F4A_7C15
for index in 0..<(byteCount / 8) {  // xorshift64*: incompressible, and every page touched before timing
    state ^= state >> 12
    state ^= state << 25
    state ^= state >> 27
    buffer.storeBytes(of: state &* 0x2545_F491_4F6C_DD1D, toByteOffset: index * 8, as: UInt64.self)
}
let bytes = UnsafeRawBufferPointer(buffer)
let file = directory + "/data.bin"
guard FileManager.default.createFile(atPath: file, contents: Data(bytes)) else {
    fatalError("cannot write \(file)")
}

var times: [String: [Double]] = [:]
var cpu: [String: [Double]] = [:]
/// Runs `body` once, adds its wall time and its CPU time in seconds to `times[name]` and `cpu[name]`, and
/// returns the digest it computed. On a shared machine the CPU time is the steadier figure: it does not
/// count the time the thread waited for a core.
func measure(
    _ name: String,
    _ times: inout [String: [Double]],
    _ cpu: inout [String: [Double]],
    _ body: () throws -> String
) rethrows -> String {
    let start = now()
    let startCPU = now(CLOCK_THREAD_CPUTIME_ID)
    let digest = try body()
    cpu[name, default: []].append(Double(now(CLOCK_THREAD_CPUTIME_ID) - startCPU) / 1e9)
    times[name, default: []].append(Double(now() - start) / 1e9)
    return digest
}

for _ in 0..<repeats {
    let reference = measure("reference_memory", &times, &cpu) {
        var hash = ReferenceSHA256()
        hash.update(bytes)
        return hash.hexDigest()
    }
    let crypto = measure("swift_crypto_memory", &times, &cpu) {
        var hash = SHA256()
        hash.update(bytes)
        return hash.hexDigest()
    }
    let referenceFile = measure("reference_file", &times, &cpu) { referenceHex(ofFileAt: file) }
    let cryptoFile = try measure("swift_crypto_file", &times, &cpu) { try SHA256.hex(ofFileAt: file).sha256 }
    precondition(Set([reference, crypto, referenceFile, cryptoFile]).count == 1, "the digests differ")
}

var results: [String: [String: Double]] = [:]
for (name, seconds) in times {
    let sorted = seconds.sorted()
    let sortedCPU = (cpu[name] ?? []).sorted()
    let rate = { (time: Double) in (Double(mebibytes) / time * 10).rounded() / 10 }
    results[name] = [
        "median_mib_s": rate(sorted[sorted.count / 2]),
        "min_mib_s": rate(sorted[sorted.count - 1]),
        "max_mib_s": rate(sorted[0]),
        "median_s": (sorted[sorted.count / 2] * 1000).rounded() / 1000,
        "cpu_median_mib_s": rate(sortedCPU[sortedCPU.count / 2]),
    ]
}
let report: [String: Any] = ["mib": mebibytes, "repeats": repeats, "results": results]
let json = try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys])
print(String(decoding: json, as: UTF8.self))

// swift-tools-version: 6.2
// Quill's benchmarks, a package of their own so users of Quill never build the benchmark framework.
// Run from this folder: swift package --disable-sandbox benchmark
import PackageDescription

let package = Package(
    name: "QuillBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "quill", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "QuillBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Quill", package: "quill"),
                .product(name: "QuillCore", package: "quill"),
            ],
            path: "Benchmarks/QuillBenchmarks",
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "benchmark")
            ]
        )
    ]
)

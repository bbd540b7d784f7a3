// swift-tools-version: 6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .treatWarning("ExplicitSendable", as: .error),
]

/// Link flags that put the Swift runtime and Foundation, from their static archives, inside a shared library.
/// `-static-stdlib` alone links the runtime but not everything Foundation and the concurrency runtime need when
/// the modules were compiled for dynamic linking, so the archives are named once, as one group.
let staticSwiftRuntime: [String] =
    ["-static-stdlib", "-Xlinker", "--start-group"]
    + [
        "swiftCore", "swift_Concurrency", "swiftSynchronization", "swift_StringProcessing", "swift_RegexParser",
        "swiftDispatch", "dispatch", "BlocksRuntime", "swiftGlibc", "Foundation", "FoundationEssentials",
        "FoundationInternationalization", "CoreFoundation", "_FoundationICU", "_FoundationCShims",
        "_FoundationCollections", "FoundationNetworking", "_CFURLSessionInterface",
        "swiftSwiftOnoneSupport",
        // URLSession's transport: the system's libcurl, by its run-time name (Debian ships no libcurl.so link
        // without the -dev package).
        ":libcurl.so.4",
    ].flatMap { ["-Xlinker", "-l\($0)"] }
    + ["-Xlinker", "--end-group"]

let package = Package(
    name: "quill",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "QuillCore", targets: ["QuillCore"]),
        // QuillAPI: the wire types `Quill.Client` answers with, importable by name.
        .library(name: "Quill", targets: ["Quill", "QuillAPI"]),
        .library(name: "QuillStore", targets: ["QuillStore"]),
        .library(name: "QuillSteps", targets: ["QuillSteps"]),
        .executable(name: "quill", targets: ["QuillTool"]),
        // The C ABI the Python package loads with ctypes: a shared library with the Swift runtime inside.
        .library(name: "QuillC", type: .dynamic, targets: ["QuillC"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.34.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0", traits: []),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        .target(
            name: "QuillCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "QuillAPI",
            dependencies: ["QuillCore"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "QuillClient",
            dependencies: ["QuillCore", "QuillAPI"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Quill",
            dependencies: [
                "QuillCore",
                "QuillAPI",
                "QuillClient",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "QuillC",
            dependencies: ["QuillCore", "QuillAPI", "QuillClient", "Quill"],
            swiftSettings: swiftSettings,
            // The Swift runtime and Foundation are linked into libQuillC.so itself, so Python loads it on a
            // machine without Swift. Link flags only: no module is compiled differently, so nothing rebuilds.
            linkerSettings: [.unsafeFlags(staticSwiftRuntime, .when(platforms: [.linux]))]
        ),
        .target(
            name: "QuillStore",
            dependencies: [
                "QuillCore",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "QuillBlobs",
            dependencies: [
                "QuillCore",
                "QuillStore",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "QuillStoreSQLite",
            dependencies: [
                "QuillCore",
                "QuillStore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "QuillStorePostgres",
            dependencies: [
                "QuillCore",
                "QuillStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "QuillSlurm",
            dependencies: ["QuillCore"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "QuillJobs",
            dependencies: [
                "QuillCore",
                "QuillStore",
                "QuillSlurm",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "QuillSteps",
            dependencies: [
                "QuillCore",
                "QuillSlurm",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "QuillServer",
            dependencies: [
                "QuillCore",
                "QuillAPI",
                "QuillStore",
                "QuillSteps",
                "QuillJobs",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            // The dashboard: HTML, CSS and ES modules with no build step, served as they are.
            resources: [.copy("Resources/Dashboard")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "QuillImport",
            dependencies: [
                "QuillCore",
                "QuillAPI",
                "QuillClient",
                "QuillStore",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "QuillCLI",
            dependencies: [
                "QuillCore",
                "Quill",
                "QuillAPI",
                "QuillClient",
                "QuillStore",
                "QuillStoreSQLite",
                "QuillStorePostgres",
                "QuillBlobs",
                "QuillServer",
                "QuillSteps",
                "QuillJobs",
                "QuillSlurm",
                "QuillImport",
                // `quill db copy` reads the SQLite file and writes PostgreSQL at the SQL level (COPY).
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "QuillTool",
            dependencies: ["QuillCLI"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "QuillTesting",
            dependencies: [
                "QuillCore", "QuillStore", "QuillStorePostgres", "QuillSlurm",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "QuillCoreTests",
            dependencies: ["QuillCore", "QuillTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "QuillAPITests",
            dependencies: ["QuillAPI", "QuillCore"],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "QuillClientTests",
            dependencies: ["QuillClient", "QuillAPI", "QuillCore", "QuillTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "QuillTests",
            dependencies: ["Quill", "QuillAPI", "QuillClient", "QuillCore", "QuillTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "QuillStoreSQLiteTests",
            dependencies: [
                "QuillStoreSQLite", "QuillStore", "QuillCore", "QuillTesting",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "QuillStorePostgresTests",
            dependencies: [
                "QuillStorePostgres", "QuillStoreSQLite", "QuillStore", "QuillCore", "QuillTesting", "QuillBlobs",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "QuillBlobsTests",
            dependencies: ["QuillBlobs", "QuillStore", "QuillStoreSQLite", "QuillCore", "QuillTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "QuillStoreTests",
            dependencies: ["QuillStore", "QuillCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "QuillServerTests",
            dependencies: [
                "QuillAPI", "QuillBlobs", "QuillCore", "QuillServer", "QuillStore", "QuillStorePostgres",
                "QuillStoreSQLite", "QuillTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "QuillJobsTests",
            dependencies: [
                "QuillJobs", "QuillStore", "QuillStoreSQLite", "QuillCore", "QuillTesting",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "QuillSlurmTests",
            dependencies: ["QuillSlurm", "QuillCore", "QuillTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "QuillStepsTests",
            dependencies: [
                "QuillSteps", "QuillSlurm", "QuillCore", "QuillTesting",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "QuillImportTests",
            dependencies: [
                "QuillImport", "QuillStore", "QuillStoreSQLite", "QuillBlobs", "QuillCore", "QuillTesting",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            exclude: ["Scripts"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "QuillCLITests",
            dependencies: [
                "QuillCLI", "Quill", "QuillAPI", "QuillClient", "QuillCore", "QuillSteps", "QuillTesting",
                "QuillStore", "QuillStoreSQLite", "QuillStorePostgres",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)

// The example and the benchmark executables are built only when asked for, as Hummingbird does with
// ENABLE_HB_BENCHMARKS, so that a plain `swift build` and every package depending on Quill skip them:
//     QUILL_EXTRAS=1 swift run quill-steps-example
// scripts/test.sh sets it, so CI builds them (without warnings) and tests the example.
if let extras = Context.environment["QUILL_EXTRAS"], !extras.isEmpty, extras != "0" {
    package.products += [
        .executable(name: "quill-peer-bench", targets: ["QuillPeerBench"]),
        .executable(name: "quill-steps-example", targets: ["QuillStepsExample"]),
        .executable(name: "quill-sdk-example", targets: ["QuillSDKExample"]),
        .executable(name: "quill-search-bench", targets: ["QuillSearchBench"]),
        .executable(name: "quill-mlflow-search-bench", targets: ["QuillMLflowSearchBench"]),
        .executable(name: "quill-steps-bench", targets: ["QuillStepsBench"]),
        .executable(name: "quill-hash-bench", targets: ["QuillHashBench"]),
    ]
    package.targets += [
        .executableTarget(
            name: "QuillStepsExample",
            dependencies: ["QuillSteps", "QuillSlurm", .product(name: "Logging", package: "swift-log")],
            path: "Examples/StepsExample",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "QuillSDKExample",
            dependencies: ["Quill", "QuillCore"],
            path: "Examples/SDKExample",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "QuillPeerBench",
            dependencies: ["Quill", "QuillCore"],
            path: "bench/peers/QuillPeerBench",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "QuillStepsBench",
            dependencies: ["QuillSteps", .product(name: "Logging", package: "swift-log")],
            path: "bench/steps/QuillStepsBench",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "QuillSearchBench",
            dependencies: [
                "QuillCore",
                "QuillStore",
                "QuillStoreSQLite",
                "QuillStorePostgres",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "bench/search/QuillSearchBench",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "QuillMLflowSearchBench",
            dependencies: ["QuillCore", "QuillServer", "QuillStore", "QuillStoreSQLite"],
            path: "bench/search/QuillMLflowSearchBench",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "QuillHashBench",
            dependencies: ["QuillCore"],
            path: "bench/hash/QuillHashBench",
            swiftSettings: swiftSettings
        ),
    ]
}

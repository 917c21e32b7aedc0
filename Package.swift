// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "idcard-ocr",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "idcard-ocr", targets: ["idcard-ocr"]),
        /// The contract's types: job, result, dead letter, error codes, the JSON value.
        .library(name: "IDCardContract", targets: ["IDCardContract"]),
        /// Swift producers enqueue jobs and read results through this library.
        .library(name: "IDCardQueue", targets: ["IDCardQueue"]),
        .library(name: "IDCardRecognition", targets: ["IDCardRecognition"]),
        .library(name: "IDCardWorker", targets: ["IDCardWorker"]),
        /// `idcard-ocr serve`: the 1429-1 API and the HTTP jobs API in front of the queue.
        .library(name: "IDCardServe", targets: ["IDCardServe"]),
        /// `idcard-ocr dashboard`: operators' web view and actions, personal data masked.
        .library(name: "IDCardDashboard", targets: ["IDCardDashboard"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        /// glibc's `mallopt`, for the worker to return large buffers to the system.
        .systemLibrary(name: "CMalloc"),
        /// The contract's types (docs/contract.md), with no Redis and no HTTP: what the queue and
        /// the recognizers share, and what a producer in Swift needs to read a result.
        .target(name: "IDCardContract"),
        .target(
            name: "IDCardQueue",
            dependencies: [
                "IDCardContract",
                "CHiredis",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "IDCardRecognition",
            dependencies: [
                "IDCardContract",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "IDCardWorker",
            dependencies: [
                "IDCardContract",
                "IDCardQueue",
                "IDCardRecognition",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        /// The HTTP front: requests become jobs, the fleet's results become answers.
        .target(
            name: "IDCardServe",
            dependencies: [
                "IDCardContract",
                "IDCardQueue",
                "IDCardRecognition",
                "IDCardWorker",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        /// The operators' web dashboard: queues, workers, dead letters, results (masked), actions.
        .target(
            name: "IDCardDashboard",
            dependencies: [
                "IDCardContract",
                "IDCardQueue",
                "IDCardWorker",
                // Its form parser, shared with the 1429-1 API's.
                "IDCardServe",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "idcard-ocr",
            dependencies: [
                "IDCardContract",
                "IDCardQueue",
                "IDCardRecognition",
                "IDCardWorker",
                "IDCardServe",
                "IDCardDashboard",
                "CMalloc",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        /// Test support only: a Redis launcher and a fake of the paid 1429-1 API.
        /// Never linked into the worker, so no user can pick the fake as a provider.
        .target(
            name: "IDCardTestSupport",
            dependencies: [
                "IDCardContract",
                "IDCardQueue",
                // Its HTTPS servers load certificates as serve does.
                "IDCardServe",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "showapi-fake",
            dependencies: [
                "IDCardTestSupport",
                "IDCardServe",
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        /// The pure parts, tested without any server: `scripts/test --fast`.
        .testTarget(
            name: "IDCardUnitTests",
            dependencies: [
                "IDCardContract",
                "IDCardQueue",
                "IDCardRecognition",
                "IDCardWorker",
                "IDCardServe",
                "IDCardDashboard",
                "IDCardTestSupport",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["Fixtures"]
        ),
        /// The integration tests: real redis-server, Sentinels, HTTP servers, worker processes.
        .testTarget(
            name: "IDCardOCRTests",
            dependencies: [
                "IDCardContract",
                "IDCardQueue",
                "IDCardRecognition",
                "IDCardWorker",
                "IDCardServe",
                "IDCardDashboard",
                "IDCardTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
    ]
)

/// libFuzzer targets: a `main` hands libFuzzer's driver the input function (SwiftPM renames an
/// executable's `main`, so libFuzzer's own cannot serve). Only `scripts/fuzz` builds them, with
/// IDOCR_FUZZ=1; a plain build never sees them. Only the project's own modules are instrumented
/// (`-sanitize=fuzzer,address`), in the same build directory as a plain build: the dependencies
/// already built there are reused, not built a second time with the sanitizers.
if Context.environment["IDOCR_FUZZ"] == "1" {
    let sanitizers = ["-sanitize=fuzzer,address"]
    for target in package.targets where ["IDCardContract", "IDCardQueue", "IDCardRecognition"].contains(target.name) {
        target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(sanitizers)]
    }
    package.targets.append(.systemLibrary(name: "CLibFuzzer", path: "Fuzz/CLibFuzzer"))
    // The job decoder also builds dead letters, which the queue writes.
    let fuzzTargets: [(name: String, path: String, dependencies: [Target.Dependency])] = [
        ("fuzz-job-decoder", "JobDecoder", ["IDCardQueue"]),
        ("fuzz-showapi-answer", "ShowAPIAnswer", []),
        ("fuzz-rapidocr-answer", "RapidOCRAnswer", []),
    ]
    for (name, path, dependencies) in fuzzTargets {
        package.targets.append(
            .executableTarget(
                name: name,
                dependencies: ["CLibFuzzer", "IDCardContract", "IDCardRecognition"] + dependencies,
                path: "Fuzz/\(path)",
                // lld: gold cannot link libFuzzer with Swift.
                swiftSettings: [.unsafeFlags(sanitizers)],
                linkerSettings: [.unsafeFlags(sanitizers + ["-Xclang-linker", "-fuse-ld=lld"])]
            )
        )
    }
}

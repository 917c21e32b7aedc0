import IDCardContract
import IDCardQueue
import IDCardServe
import IDCardWorker
import Testing

@Suite("Configuration and backoff")
struct ConfigurationTests {
    @Test("redis URLs with user, password and database")
    func redisURLs() throws {
        let plain = try RedisConfiguration(url: "redis://127.0.0.1:6379/0")
        #expect(plain.host == "127.0.0.1" && plain.port == 6379 && plain.database == 0 && plain.password == nil)
        let acl = try RedisConfiguration(url: "redis://worker:s%40cret@redis.internal:6380/3")
        #expect(
            acl.username == "worker" && acl.password == "s@cret" && acl.host == "redis.internal" && acl.port == 6380
                && acl.database == 3
        )
        let passwordOnly = try RedisConfiguration(url: "redis://:pw@localhost")
        #expect(passwordOnly.username == nil && passwordOnly.password == "pw" && passwordOnly.port == 6379)
        let tls = try RedisConfiguration(url: "rediss://host:6380/1")
        #expect(tls.tls == RedisConfiguration.TLS() && tls.port == 6380 && tls.database == 1)
        #expect(try RedisConfiguration(url: "redis://host:6379").tls == nil)
        let sentinels = try RedisConfiguration(url: "rediss+sentinel://s1:26380,s2/mymaster/0")
        #expect(sentinels.tls != nil && sentinels.sentinel?.nodes.count == 2)
        // TLS settings with a plain URL would be silently unused: refused.
        #expect(throws: RedisError.self) {
            try RedisConfiguration(url: "redis://host:6379", tls: RedisConfiguration.TLS(caFile: "ca.pem"))
        }
        #expect(throws: RedisError.self) { try RedisConfiguration(url: "redisx://host:6379") }
        #expect(throws: RedisError.self) { try RedisConfiguration(url: "redis://host:port/0") }
    }

    @Test("the environment overrides the contract's defaults; bad values name their variable")
    func environment() throws {
        let defaults = try WorkerConfiguration(environment: [:])
        #expect(defaults.provider == "rapidocr" && defaults.concurrency == 16 && defaults.maxAttempts == 5)
        #expect(
            defaults.resultTTL == 604_800 && defaults.shutdownGrace == 25 && defaults.metricsPort == 9464
                && defaults.rateLimit == 0
        )
        let set = try WorkerConfiguration(environment: [
            "IDOCR_CONCURRENCY": "4", "IDOCR_RATE_LIMIT": "50", "IDOCR_QUEUE": "q2", "IDOCR_DEDUPE_IMAGES": "0",
        ])
        #expect(set.concurrency == 4 && set.rateLimit == 50 && set.queue == "q2" && set.dedupeImages == false)
        #expect(set.rateGate?.interval == .microseconds(20_300))  // 1/50 s, spaced 1.5 % wider
        #expect(throws: ConfigurationError.self) { try WorkerConfiguration(environment: ["IDOCR_CONCURRENCY": "many"]) }
        var bad = WorkerConfiguration()
        bad.queue = "has{brace}"
        #expect(throws: ConfigurationError.self) { try bad.validate() }
        // Huge or tiny values are refused, naming the variable, instead of trapping later when they
        // become milliseconds.
        for (name, value) in [
            ("IDOCR_HEARTBEAT_TIMEOUT", "1e300"), ("IDOCR_RETRY_CAP", "1e300"), ("IDOCR_SHUTDOWN_GRACE", "1e300"),
            ("IDOCR_RATE_COOLDOWN", "1e300"), ("IDOCR_OCR_TIMEOUT", "1e300"), ("IDOCR_RATE_LIMIT", "1e-300"),
        ] {
            let error = #expect(throws: ConfigurationError.self) {
                try WorkerConfiguration(environment: [name: value]).validate()
            }
            #expect(error?.description.contains(name) == true)
        }
        for name in ["IDOCR_SERVE_ANSWER_TIMEOUT", "IDOCR_SERVE_MAX_WAIT", "IDOCR_SERVE_KEYS_RELOAD"] {
            var serve = try ServeConfiguration(environment: [name: "1e300"])
            serve.keysFile = "keys.txt"
            let error = #expect(throws: ConfigurationError.self) { try serve.validate() }
            #expect(error?.description.contains(name) == true)
        }
    }

    @Test("backoff doubles from the base up to the cap, with full jitter below it")
    func backoff() {
        let policy = RetryPolicy(base: .seconds(1), cap: .seconds(300))
        #expect(policy.ceiling(afterAttempt: 1) == .seconds(1))
        #expect(policy.ceiling(afterAttempt: 2) == .seconds(2))
        #expect(policy.ceiling(afterAttempt: 5) == .seconds(16))
        #expect(policy.ceiling(afterAttempt: 20) == .seconds(300))
        let delays = (0..<200).map { _ in policy.delay(afterAttempt: 4) }
        #expect(delays.allSatisfy { $0 >= .zero && $0 <= .seconds(8) })
        #expect(Set(delays).count > 50)  // jittered, not a constant
    }

    @Test("a TLS file that cannot be read stops the worker at its start, naming the setting")
    func unreadableFile() throws {
        var configuration = WorkerConfiguration()
        configuration.redisURL = "rediss://localhost:6380/0"
        configuration.redisTLS.caFile = "/nonexistent/ca.pem"
        #expect(throws: ConfigurationError.self) { _ = try configuration.redisConfiguration() }
        do {
            _ = try configuration.redisConfiguration()
        } catch {
            #expect(error.description.contains("IDOCR_REDIS_TLS"))
            #expect(error.description.contains("/nonexistent/ca.pem"))
        }
        configuration.redisURL = "redis://localhost:6379/0"
        #expect(throws: ConfigurationError.self) { _ = try configuration.redisConfiguration() }
    }
}

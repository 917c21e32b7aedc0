import IDCardQueue
import Testing

/// What the reaper expects of Redis's clock, from readings paired with the monotonic clock.
@Suite("Redis's clock, watched")
struct RedisClockWatchTests {
    @Test("the reaper's expectation of Redis's clock waits for steady readings: after the first, and after a step")
    func steadyExpectation() throws {
        var watch = RedisClockWatch()
        let start = ContinuousClock.now
        let redisStart: Int64 = 1_800_000_000_000_000
        func read(_ redis: Int64, at seconds: Int) -> Int64? {
            let at = start + .seconds(seconds)
            return watch.observe(redisMicroseconds: redis, sentAt: at, answeredAt: at, tolerance: .seconds(1))
        }
        // Instants convert to whole µs: within one.
        func near(_ value: Int64?, _ expected: Int64) -> Bool { value.map { abs($0 - expected) <= 1 } ?? false }
        #expect(read(redisStart, at: 0) == nil)
        #expect(watch.steadyExpectation(at: start + .seconds(2), steadyFor: .seconds(3)) == nil)
        #expect(near(watch.steadyExpectation(at: start + .seconds(3), steadyFor: .seconds(3)), redisStart + 3_000_000))
        // 60 s forward, read 4 s in: the new clock is adopted, and trusted 3 s later.
        #expect(near(read(redisStart + 64_000_000, at: 4), 60_000_000))
        #expect(watch.steadyExpectation(at: start + .seconds(6), steadyFor: .seconds(3)) == nil)
        #expect(near(watch.steadyExpectation(at: start + .seconds(7), steadyFor: .seconds(3)), redisStart + 67_000_000))
        watch.reset()
        #expect(watch.steadyExpectation(at: start + .seconds(60), steadyFor: .seconds(3)) == nil)
    }
}

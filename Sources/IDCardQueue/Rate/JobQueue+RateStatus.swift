import IDCardContract

extension JobQueue {
    /// The schedule at `keys` (this queue's, or a shared budget's: ``RateKeys``), read with
    /// Redis's clock. Read-only: looking never moves the schedule.
    public func rateStatus(keys rateKeys: RateKeys) async throws -> RateStatus {
        let state =
            try await redis.send(
                "HMGET",
                .string(rateKeys.rateState),
                "configured",
                "limit",
                "ceiling",
                "since",
                "reserved",
                "coolDownUntil"
            ).array ?? []
        let scheduled = try await redis.send("GET", .string(rateKeys.rate)).string.flatMap(Double.init)
            .flatMap { $0.isFinite && abs($0) < 1e18 ? $0 : nil }
        let time = try await redis.send("TIME").array ?? []
        guard state.count == 6, time.count == 2, let seconds = time[0].int, let micros = time[1].int else {
            throw RedisError.unexpectedReply("rate status: \(state) \(time)")
        }
        let now = Int64(seconds) * 1_000_000 + Int64(micros)
        // Finite numbers only: a value that is not one (written by hand) reads as absent.
        let number = { (index: Int) in state[index].string.flatMap(Double.init).flatMap { $0.isFinite ? $0 : nil } }
        let configured = number(0)
        var effective = configured
        if let configured, let limit = number(1), let ceiling = number(2), let since = number(3) {
            effective = RateAdaptation(limit: limit, ceiling: ceiling, since: Int64(exactly: since.rounded()) ?? now)
                .effectiveRate(at: now, configured: configured)
        }
        let coolDown = number(5).flatMap { Int64(exactly: $0.rounded()) }.map { $0 - now }.flatMap {
            $0 > 0 ? Duration.microseconds($0) : nil
        }
        return RateStatus(
            configured: configured,
            effective: effective,
            reserved: number(4).flatMap { Int(exactly: $0.rounded()) } ?? 0,
            coolDownRemaining: coolDown,
            scheduledAhead: .microseconds(max(0, Int64(scheduled ?? 0) - now))
        )
    }
}

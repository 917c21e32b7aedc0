/// Polls `condition` every 100 ms until it holds; throws once `timeout` seconds have passed.
/// For the test servers' own set-up, where no event says a state was reached (a replica in sync,
/// a Sentinel seeing its peers, a cluster agreeing on its slots).
func eventually(_ what: String, timeout: Double, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(timeout)
    while ContinuousClock.now < deadline {
        if (try? await condition()) == true { return }
        try await Task.sleep(for: .milliseconds(100))
    }
    throw TestSupportError("timed out waiting until \(what)")
}

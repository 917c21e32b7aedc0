/// `?wait=` of `GET /v1/jobs/{id}`: `10`, `10s`, `1.5s` or `500ms`; absent means no wait.
public enum WaitParameter {
    public struct Invalid: Error, Equatable {}

    public static func parse(_ text: String?) -> Result<Duration, Invalid> {
        guard let text, !text.isEmpty else { return .success(.zero) }
        let (number, scale): (Substring, Double) =
            text.hasSuffix("ms")
            ? (text.dropLast(2), 0.001) : text.hasSuffix("s") ? (text.dropLast(), 1) : (Substring(text), 1)
        guard let value = Double(number), value.isFinite, value >= 0 else { return .failure(Invalid()) }
        // Any wait past the server's limit is that limit: a huge number must not trap.
        return .success(ServeConfiguration.duration(value * scale))
    }
}

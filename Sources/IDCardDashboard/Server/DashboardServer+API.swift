import Hummingbird
import IDCardContract
import IDCardQueue

/// What the page's script polls: the numbers, and the history for the chart.
extension DashboardServer {
    func overviewJSON() async -> Response {
        await answer {
            var list: [JSONValue] = []
            for entry in queues { list.append(try await snapshot(entry).jsonValue) }
            return .object(["queues": .array(list)])
        }
    }

    func statsJSON(_ context: Context) async -> Response {
        guard let entry = routeQueue(context) else {
            return json(.object(["error": "no such queue"]), status: .notFound)
        }
        return await answer { try await snapshot(entry).jsonValue }
    }

    /// `{"bucketMs": 10000, "samples": [{"t": ms, "pending": …}, …]}`, oldest first.
    func historyJSON(_ context: Context) async -> Response {
        guard let entry = routeQueue(context) else {
            return json(.object(["error": "no such queue"]), status: .notFound)
        }
        return await answer {
            let samples = try await entry.queue.history().map { sample -> JSONValue in
                var object: [String: JSONValue] = ["t": .int(sample.at)]
                for (name, count) in sample.counts { object[name] = .int(Int64(count)) }
                return .object(object)
            }
            return .object([
                "bucketMs": .int(Int64(JobQueue.historyBucket / .milliseconds(1))), "samples": .array(samples),
            ])
        }
    }

    /// `body`'s JSON, or 503 when Redis did not answer.
    private func answer(_ body: () async throws -> JSONValue) async -> Response {
        do {
            return json(try await body())
        } catch {
            return json(.object(["error": .string("Redis did not answer")]), status: .serviceUnavailable)
        }
    }
}

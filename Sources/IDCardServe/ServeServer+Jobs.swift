import Foundation
import Hummingbird
import IDCardContract
import NIOCore

/// The HTTP jobs API: `POST /v1/jobs` and `GET /v1/jobs/{id}` (with a long poll), described by
/// `/openapi.yaml`. Errors are `{"error": {"code", "message"}}` with an HTTP status.
extension ServeServer {
    func submitJobs(_ request: Request) async -> Response {
        let started = ContinuousClock.now
        return await admitted({ jsonError(.serviceUnavailable, "busy", "too many requests in flight; retry") }) {
            let response = await submitJobsResponse(request)
            finished(.submitJobs, response, started: started)
            return response
        }
    }

    func getJob(_ request: Request, id: String) async -> Response {
        let started = ContinuousClock.now
        return await admitted({ jsonError(.serviceUnavailable, "busy", "too many requests in flight; retry") }) {
            let response = await getJobResponse(request, id: id)
            finished(.getJob, response, started: started)
            return response
        }
    }

    private func finished(_ endpoint: ServeMetrics.Endpoint, _ response: Response, started: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - started
        metrics.answered(endpoint, code: String(response.status.code), after: elapsed)
        logger.info(
            "request answered",
            metadata: [
                "endpoint": .string(endpoint.rawValue), "code": .string(String(response.status.code)),
                "durationMs": .string(
                    String(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
                ),
            ]
        )
    }

    /// The key of a jobs API request: `Authorization: Bearer <key>`, `X-API-Key`, or `?appKey=`.
    private enum Caller {
        case client(APIClient)
        case refused(Response)
    }

    private func client(of request: Request) -> Caller {
        var key = request.headers[.authorization].flatMap { value -> String? in
            value.lowercased().hasPrefix("bearer ")
                ? String(value.dropFirst(7)).trimmingCharacters(in: .whitespaces) : nil
        }
        if key == nil, let name = HTTPFields.Element.Name("X-API-Key") { key = request.headers[name] }
        if key == nil { key = FormFields(parsing: Array((request.uri.query ?? "").utf8)).text("appKey") }
        switch check(key: key) {
        case .client(let client): return .client(client)
        case .missing:
            return .refused(jsonError(.unauthorized, "unauthorized", "give the API key as Authorization: Bearer <key>"))
        case .unknown: return .refused(jsonError(.unauthorized, "unauthorized", "this API key is not known"))
        case .disabled: return .refused(jsonError(.forbidden, "key_disabled", "this API key is disabled"))
        }
    }

    /// The client's request rate and, for `jobIDs`, its quota; `nil` to go on.
    private func limit(_ client: APIClient, jobIDs: [String]) async -> Response? {
        do {
            switch try await limiter.admit(client: client.name, limits: client.limits, jobIDs: jobIDs) {
            case .admitted: return nil
            case .tooManyRequests(let retryAfter):
                var response = jsonError(.tooManyRequests, "rate_limited", "over this key's requests per second")
                response.headers[.retryAfter] = String(max(1, Int(retryAfter.components.seconds + 1)))
                return response
            case .quotaExhausted:
                return jsonError(.tooManyRequests, "quota_exhausted", "this key's quota for the period is used up")
            }
        } catch {
            logger.warning("Redis step failed", metadata: ["reason": "\(error)"])
            return jsonError(.serviceUnavailable, "unavailable", "the queue cannot be reached; retry")
        }
    }

    private func submitJobsResponse(_ request: Request) async -> Response {
        let client: APIClient
        switch self.client(of: request) {
        case .client(let known): client = known
        case .refused(let refusal): return refusal
        }
        let body: ByteBuffer
        do {
            body = try await BodyReader.collect(
                request,
                upTo: configuration.maxBodyBytes,
                within: configuration.uploadTimeout
            )
        } catch {
            return error == .tooLarge
                ? jsonError(
                    .contentTooLarge,
                    "too_large",
                    "the body is over \(configuration.maxBodyBytes) bytes",
                    close: true
                )
                : jsonError(.requestTimeout, "too_slow", "the body did not arrive in time", close: true)
        }
        let submission: JobSubmission
        do {
            submission = try JobSubmission(
                body: Data(body.readableBytesView),
                client: client.name,
                replyPrefix: queue.keys.replyPrefix,
                maxBatch: configuration.maxBatch,
                intakeLimits: intakeLimits
            )
        } catch {
            switch error {
            case .notJobs(let message): return jsonError(.badRequest, "invalid_request", message)
            case .tooMany(let most):
                return jsonError(.contentTooLarge, "too_many_jobs", "at most \(most) jobs per request")
            case .invalid(let problems):
                let jobs: [JSONValue] = problems.map { problem in
                    var fields: [String: JSONValue] = [
                        "index": .int(Int64(problem.index)), "code": .string(problem.error.code.rawValue),
                        "message": .string(problem.error.message),
                    ]
                    if let id = problem.id { fields["id"] = .string(id) }
                    return .object(fields)
                }
                return json(
                    .unprocessableContent,
                    .object([
                        "error": .object([
                            "code": .string(ErrorCode.invalidJob.rawValue),
                            "message": .string("\(problems.count) of the jobs cannot be queued; none was"),
                            "jobs": .array(jobs),
                        ])
                    ])
                )
            }
        }
        if let refusal = await limit(client, jobIDs: submission.jobs.map(\.id)) { return refusal }
        do {
            try await queue.enqueue(submission.jobs)
        } catch {
            logger.warning("jobs not pushed", metadata: ["reason": "\(error)"])
            return jsonError(.serviceUnavailable, "unavailable", "the queue cannot be reached; retry (ids are kept)")
        }
        return json(.accepted, .object(["ids": .array(submission.ids.map { .string($0) })]))
    }

    private func getJobResponse(_ request: Request, id: String) async -> Response {
        let client: APIClient
        switch self.client(of: request) {
        case .client(let known): client = known
        case .refused(let refusal): return refusal
        }
        guard let tenant = TenantJobID(client: client.name, clientID: id) else {
            return jsonError(.badRequest, "invalid_request", "not a job id")
        }
        let wait: Duration
        switch WaitParameter.parse(FormFields(parsing: Array((request.uri.query ?? "").utf8)).text("wait")) {
        case .success(let asked): wait = min(asked, configuration.maxWait)
        case .failure: return jsonError(.badRequest, "invalid_request", "wait is seconds: 10, 10s or 500ms")
        }
        if let refusal = await limit(client, jobIDs: []) { return refusal }
        let deadline = ContinuousClock.now + wait
        var pause = Duration.milliseconds(50)
        while true {
            let stored: JobResult?
            do {
                stored = try await queue.result(id: tenant.queued)
            } catch {
                return jsonError(.serviceUnavailable, "unavailable", "the queue cannot be reached; retry")
            }
            if let stored {
                guard var result = opened(stored) else {
                    return jsonError(
                        .internalServerError,
                        "sealed",
                        "the result is sealed with a key serve was not given"
                    )
                }
                result.id = tenant.clientID
                return json(.ok, result.jsonValue)
            }
            let now = ContinuousClock.now
            guard now < deadline, !Task.isCancelled else { break }
            try? await Task.sleep(for: min(pause, deadline - now))
            pause = min(pause * 2, .milliseconds(500))
        }
        return jsonError(.notFound, "not_found", "no result yet (or it expired)")
    }

    func json(_ status: HTTPResponse.Status, _ value: JSONValue, close: Bool = false) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if close { headers[.connection] = "close" }
        return Response(
            status: status,
            headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(data: value.encoded()))
        )
    }

    func jsonError(_ status: HTTPResponse.Status, _ code: String, _ message: String, close: Bool = false) -> Response {
        json(status, .object(["error": .object(["code": .string(code), "message": .string(message)])]), close: close)
    }
}

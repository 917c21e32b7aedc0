import Foundation
import Hummingbird
import IDCardContract
import IDCardRecognition
import Logging
import NIOCore

/// `POST /1429-1`: a synchronous recognition, answered in the 1429-1 envelope.
extension ServeServer {
    /// What a 1429-1 request came to, for its answer, its log line and its metric.
    struct ShowAPIOutcome {
        /// The envelope, or `nil` when the request is refused at the HTTP level (413, 408).
        var answer: ShowAPIAnswer?
        var status: HTTPResponse.Status = .ok
        var client: String?
        var job: String?
    }

    func showAPI(_ request: Request) async -> Response {
        let started = ContinuousClock.now
        return await admitted({
            respond(ShowAPIOutcome(answer: .gateway(.systemError)), started: started, busy: true)
        }) {
            respond(await showAPIOutcome(request), started: started, busy: false)
        }
    }

    private func respond(_ outcome: ShowAPIOutcome, started: ContinuousClock.Instant, busy: Bool) -> Response {
        let elapsed = ContinuousClock.now - started
        let code: String
        if let answer = outcome.answer {
            code =
                answer.gateway == .success && answer.body["flag"] == .bool(false) ? "biz" : String(answer.gateway.code)
        } else {
            code = "http_\(outcome.status.code)"
        }
        metrics.answered(.showAPI, code: code, after: elapsed)
        var metadata: Logger.Metadata = [
            "endpoint": "1429-1", "code": .string(code),
            "durationMs": .string(
                String(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
            ),
        ]
        if let client = outcome.client { metadata["client"] = .string(client) }
        if let job = outcome.job { metadata["job"] = .string(job) }
        if let answer = outcome.answer { metadata["resId"] = .string(answer.id) }
        if busy { metadata["reason"] = "too many requests in flight" }
        logger.info("request answered", metadata: metadata)
        guard let answer = outcome.answer else {
            return Response(status: outcome.status, headers: [.connection: "close"])
        }
        return Response(
            status: .ok,
            headers: [.contentType: "application/json;charset=UTF-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(data: answer.encoded()))
        )
    }

    private func showAPIOutcome(_ request: Request) async -> ShowAPIOutcome {
        let query = FormFields(parsing: Array((request.uri.query ?? "").utf8))
        // The key is checked before a byte of the body is read, when the query has it (as the
        // 1429-1 documentation puts it); only a key in the form waits for the body.
        var client: APIClient?
        if query["appKey"] != nil {
            switch check(key: query.text("appKey")) {
            case .client(let known): client = known
            case .missing: return ShowAPIOutcome(answer: .gateway(.missingAppKey))
            case .unknown: return ShowAPIOutcome(answer: .gateway(.unknownAppKey))
            case .disabled: return ShowAPIOutcome(answer: .gateway(.disabledAppKey))
            }
        }
        var form: FormFields
        do {
            let body = try await BodyReader.collect(
                request,
                upTo: configuration.maxBodyBytes,
                within: configuration.uploadTimeout
            )
            form = FormFields(parsing: body.readableBytesView)
        } catch {
            return ShowAPIOutcome(answer: nil, status: error == .tooLarge ? .contentTooLarge : .requestTimeout)
        }
        form.addMissing(from: query)
        if client == nil {
            switch check(key: form.text("appKey")) {
            case .client(let known): client = known
            case .missing: return ShowAPIOutcome(answer: .gateway(.missingAppKey))
            case .unknown: return ShowAPIOutcome(answer: .gateway(.unknownAppKey))
            case .disabled: return ShowAPIOutcome(answer: .gateway(.disabledAppKey))
            }
        }
        guard let client else { return ShowAPIOutcome(answer: .gateway(.missingAppKey)) }
        var outcome = ShowAPIOutcome(client: client.name)
        outcome.answer = await recognize(form: form, client: client, outcome: &outcome)
        return outcome
    }

    private func recognize(form: FormFields, client: APIClient, outcome: inout ShowAPIOutcome) async -> ShowAPIAnswer {
        let job: Job
        do {
            job = try ShowAPIRequest(
                form: form,
                client: client.name,
                replyTo: inbox.list,
                replyPrefix: queue.keys.replyPrefix
            ).job
            // Refused here, before the queue: what no worker could recognize costs nobody anything.
            _ = try PreparedImage(job.image, limits: intakeLimits)
        } catch {
            // Still a request: a client sending what no job can be made of keeps to its rate too.
            if case .admitted? = try? await limiter.admit(client: client.name, limits: client.limits, jobIDs: []) {
                return .businessFailure(for: error.code)
            }
            return .gateway(.rateLimited)
        }
        outcome.job = job.id
        do {
            switch try await limiter.admit(client: client.name, limits: client.limits, jobIDs: [job.id]) {
            case .admitted: break
            case .tooManyRequests: return .gateway(.rateLimited)
            case .quotaExhausted: return .gateway(.quotaExhausted)
            }
            // Asked before: the stored success answers it (a client's retry after a timeout).
            if let stored = try await queue.result(id: job.id), stored.status == .succeeded {
                return opened(stored).map(ShowAPIAnswer.answer(for:)) ?? .gateway(.systemError)
            }
        } catch {
            logger.warning("Redis step failed", metadata: ["endpoint": "1429-1", "reason": "\(error)"])
            return .gateway(.systemError)
        }
        let ticket = inbox.expect(job.id)
        do {
            try await queue.enqueue(job)
        } catch {
            inbox.forget(ticket)
            logger.warning("job not pushed", metadata: ["endpoint": "1429-1", "reason": "\(error)"])
            return .gateway(.systemError)
        }
        guard let reply = await waitForReply(ticket) else { return .gateway(.timeout) }
        guard let result = try? JobResult.decode(reply), let opened = opened(result) else {
            return .gateway(.systemError)
        }
        return ShowAPIAnswer.answer(for: opened)
    }

    /// The job's result from the inbox, or `nil` after the answer timeout.
    private func waitForReply(_ ticket: ReplyInbox.Ticket) async -> Data? {
        let timeout = configuration.answerTimeout
        return await withTaskGroup(of: Data?.self) { group in
            group.addTask { await self.inbox.wait(for: ticket) }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}

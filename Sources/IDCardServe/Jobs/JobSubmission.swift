import Foundation
import IDCardContract
import IDCardRecognition

/// The body of `POST /v1/jobs`, made jobs: one job object, an array of them, or `{"jobs": [...]}`,
/// each in the contract's job JSON. A batch is all or nothing: one bad job refuses the request,
/// naming every bad one, and none is pushed.
public struct JobSubmission: Sendable {
    public let jobs: [Job]
    /// The ids as the client knows them, in the order given.
    public let ids: [String]

    /// One job the request cannot push, and why.
    public struct Problem: Sendable, Equatable {
        public var index: Int
        public var id: String?
        public var error: JobError
    }

    public enum Refusal: Error, Equatable {
        /// Not JSON, or not a job, a list of jobs or `{"jobs": [...]}`.
        case notJobs(String)
        case tooMany(Int)
        case invalid([Problem])
    }

    public init(
        body: Data,
        client: String,
        replyPrefix: String,
        maxBatch: Int,
        intakeLimits: IntakeLimits
    ) throws(Refusal) {
        let elements: [JSONValue]
        switch JSONValue.parse(body) {
        case .object(let fields)?:
            if let list = fields["jobs"] {
                guard case .array(let jobs) = list else { throw .notJobs("jobs must be an array of job objects") }
                elements = jobs
            } else {
                elements = [.object(fields)]
            }
        case .array(let jobs)?: elements = jobs
        case .some: throw .notJobs("the body must be a job object, an array of them, or {\"jobs\": [...]}")
        case nil: throw .notJobs("the body is not JSON")
        }
        guard !elements.isEmpty else { throw .notJobs("no job given") }
        guard elements.count <= maxBatch else { throw .tooMany(maxBatch) }

        var jobs: [Job] = []
        var ids: [String] = []
        var problems: [Problem] = []
        for (index, element) in elements.enumerated() {
            do {
                let (job, id) = try Self.job(
                    element,
                    client: client,
                    replyPrefix: replyPrefix,
                    intakeLimits: intakeLimits
                )
                jobs.append(job)
                ids.append(id)
            } catch {
                problems.append(Problem(index: index, id: ReceivedJob.validID(element["id"]), error: error))
            }
        }
        guard problems.isEmpty else { throw .invalid(problems) }
        self.jobs = jobs
        self.ids = ids
    }

    private static func job(
        _ element: JSONValue,
        client: String,
        replyPrefix: String,
        intakeLimits: IntakeLimits
    ) throws(JobError) -> (Job, String) {
        guard case .object(var fields) = element else { throw JobError(.invalidJob, "a job must be a JSON object") }
        guard fields["replyTo"] == nil || fields["replyTo"] == .null else {
            throw JobError(.invalidJob, "replyTo is for producers on Redis; poll GET /v1/jobs/{id}?wait= instead")
        }
        let clientID: String
        switch fields["id"] {
        case nil, .null?: clientID = TenantJobID.generated()
        case let value?:
            guard let id = ReceivedJob.validID(value) else {
                throw JobError(.invalidJob, "id must be 1-128 characters of A-Za-z0-9._:-")
            }
            clientID = id
        }
        guard let tenant = TenantJobID(client: client, clientID: clientID) else {
            throw JobError(
                .invalidJob,
                "id must be at most \(TenantJobID.maxLength(client: client)) characters for this key"
            )
        }
        fields["id"] = .string(tenant.queued)
        var job = try ReceivedJob(element: JSONValue.object(fields).encoded()).job(replyPrefix: replyPrefix)
        // What no worker could read (not an image, not an http(s) URL) is refused now, not queued.
        _ = try PreparedImage(job.image, limits: intakeLimits)
        if job.enqueuedAt == nil { job.enqueuedAt = .int(Timestamp.nowMilliseconds()) }
        return (job, clientID)
    }
}

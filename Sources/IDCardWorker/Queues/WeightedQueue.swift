import Foundation

/// One queue a worker process serves, and its weight among the others (`IDOCR_QUEUES`).
public struct WeightedQueue: Sendable, Equatable, CustomStringConvertible {
    public var name: String
    /// Weighted: the share of the process's job slots, over time, when every queue has jobs.
    /// Strict: the priority (the highest first).
    public var weight: Int

    public init(name: String, weight: Int = 1) {
        self.name = name
        self.weight = weight
    }

    public var description: String { "\(name):\(weight)" }

    /// How slots go to queues that all have jobs (`IDOCR_QUEUE_POLICY`).
    public enum Policy: String, Sendable, CaseIterable {
        /// Each queue gets slots in proportion to its weight: a queue of weight 1 still progresses
        /// under a flood on one of weight 6.
        case weighted
        /// A queue gets a slot only while no queue of a higher weight has a job waiting.
        case strict
    }

    /// Parses `realtime:6,default:3,bulk:1`; a queue without `:weight` weighs 1.
    public static func parse(list text: String) throws(ConfigurationError) -> [WeightedQueue] {
        var queues: [WeightedQueue] = []
        for entry in text.split(separator: ",") {
            let parts = entry.trimmingCharacters(in: .whitespaces).split(
                separator: ":",
                omittingEmptySubsequences: false
            )
            guard parts.count <= 2, let name = parts.first.map(String.init), WorkerConfiguration.isValidKeyPart(name)
            else {
                throw ConfigurationError("IDOCR_QUEUES: \"\(entry)\" is not name or name:weight")
            }
            let weight = parts.count == 2 ? Int(parts[1]) : 1
            guard let weight, (1...1000).contains(weight) else {
                throw ConfigurationError("IDOCR_QUEUES: the weight of \(name) must be a whole number 1...1000")
            }
            guard !queues.contains(where: { $0.name == name }) else {
                throw ConfigurationError("IDOCR_QUEUES names \(name) twice")
            }
            queues.append(WeightedQueue(name: name, weight: weight))
        }
        guard !queues.isEmpty else { throw ConfigurationError("IDOCR_QUEUES names no queue") }
        return queues
    }
}

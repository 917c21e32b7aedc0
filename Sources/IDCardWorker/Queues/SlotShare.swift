/// Which queue gets the process's next free job slot: a pure decision, tested without servers.
///
/// Weighted is stride scheduling: every grant of a slot to a queue moves that queue's pass on by
/// 1/weight, and the waiting queue with the lowest pass gets the next slot. Over time each queue
/// that always has jobs gets slots in proportion to its weight, whatever the concurrency: with
/// weights 6 and 1, one grant in seven goes to the light queue. A queue that was idle starts again
/// from the pass of the last grant, so idleness saves no credit for a later burst. Strict always
/// serves the heaviest waiting queue.
///
/// A slot whose job ended may go on with its queue's next job (handed over by the finish, in the
/// same round trip) only when no waiting queue has a better claim (``mayContinue(_:)``): else it
/// is let go, and the better claim takes it.
struct SlotShare: Sendable {
    let weights: [Int]
    let policy: WeightedQueue.Policy
    let capacity: Int
    private(set) var held: [Int]
    private(set) var waiting: [Bool]
    private var pass: [Double]
    private var lastPass = 0.0

    init(weights: [Int], policy: WeightedQueue.Policy, capacity: Int) {
        self.weights = weights
        self.policy = policy
        self.capacity = capacity
        held = Array(repeating: 0, count: weights.count)
        waiting = Array(repeating: false, count: weights.count)
        pass = Array(repeating: 0, count: weights.count)
    }

    var free: Int { capacity - held.reduce(0, +) }

    /// Queue `queue` wants up to `count` slots: granted at once as far as slots are free (then no
    /// queue is waiting), else `0`, and it waits for ``release(_:)`` to pick it.
    mutating func request(_ queue: Int, count: Int) -> Int {
        let granted = min(max(free, 0), count)
        if granted > 0 {
            for _ in 0..<granted { charge(queue) }
            return granted
        }
        if !waiting[queue] {
            waiting[queue] = true
            pass[queue] = max(pass[queue], lastPass)
        }
        return 0
    }

    /// Queue `queue` no longer waits (it stops).
    mutating func withdraw(_ queue: Int) {
        waiting[queue] = false
    }

    /// A slot of `queue` is let go. Returns the waiting queue it now belongs to, if any (already
    /// granted and no longer waiting).
    mutating func release(_ queue: Int) -> Int? {
        held[queue] -= 1
        guard let next = bestWaiting() else { return nil }
        waiting[next] = false
        charge(next)
        return next
    }

    /// Whether a slot of `queue` whose job ended may take `queue`'s next job; when it may, the
    /// slot counts as granted again (weighted: its pass moves on).
    mutating func mayContinue(_ queue: Int) -> Bool {
        if let rival = bestWaiting(), beats(rival, queue) { return false }
        if policy == .weighted {
            lastPass = pass[queue]
            pass[queue] += 1 / Double(weights[queue])
        }
        return true
    }

    /// A job granted to `queue` went back unpaid (the rate budget was full): its grant no longer
    /// counts against the queue's share.
    mutating func refund(_ queue: Int) {
        guard policy == .weighted else { return }
        pass[queue] -= 1 / Double(weights[queue])
    }

    private mutating func charge(_ queue: Int) {
        held[queue] += 1
        lastPass = pass[queue]
        pass[queue] += 1 / Double(weights[queue])
    }

    private func bestWaiting() -> Int? {
        var best: Int?
        for queue in waiting.indices where waiting[queue] {
            if let current = best, !beats(queue, current) { continue }
            best = queue
        }
        return best
    }

    /// Whether `queue` has a better claim to a slot than `other`.
    private func beats(_ queue: Int, _ other: Int) -> Bool {
        switch policy {
        case .strict:
            return weights[queue] > weights[other]
        case .weighted:
            if pass[queue] != pass[other] { return pass[queue] < pass[other] }
            return weights[queue] > weights[other]
        }
    }
}

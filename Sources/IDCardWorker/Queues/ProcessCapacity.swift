import IDCardQueue
import NIOConcurrencyHelpers

/// What the queues one process serves share (`IDOCR_QUEUES`): its `IDOCR_CONCURRENCY` job slots,
/// handed out by weight (``SlotShare``), and the fleet's rate budget, one schedule in Redis for
/// every queue that calls the same account.
///
/// Each queue has its own ``WorkerService`` (its keys, registration, dead list, metrics); they ask
/// this for slots before each take and before each job a finish would hand over. A process of one
/// queue has one of these too, with all the slots.
public final class ProcessCapacity: Sendable {
    public let queues: [WeightedQueue]
    public let policy: WeightedQueue.Policy
    /// The fleet's rate budget every queue here calls under; `nil` without a limit.
    public let rateGate: RateGate?
    private let state: NIOLockedValueBox<State>
    private let turns: NIOLockedValueBox<Turns>

    /// Turns at the rate budget: one job of the process books a rate slot at a time, the next
    /// chosen by the queues' claims (a ``SlotShare`` of one slot), so that the budget, when it is
    /// what the jobs wait for, is split by the weights.
    private struct Turns {
        var share: SlotShare
        /// Per queue, the jobs waiting for a turn, oldest first.
        var waiters: [[(id: Int, continuation: CheckedContinuation<Bool, Never>)]]
        var nextID = 0
    }

    private struct State {
        var share: SlotShare
        /// The job loop of each queue waiting for a slot; resumed with the slots granted.
        var waiters: [Int: CheckedContinuation<Int, Never>] = [:]
        /// Queues whose job loops stop: they get no more slots.
        var stopped: Set<Int> = []
        /// No queue takes a job before this: the budget's next rate slots are all handed out.
        var heldUntil: ContinuousClock.Instant?
    }

    public init(
        queues: [WeightedQueue],
        policy: WeightedQueue.Policy = .weighted,
        concurrency: Int,
        rateGate: RateGate?
    ) {
        self.queues = queues
        self.policy = policy
        self.rateGate = rateGate
        state = NIOLockedValueBox(
            State(share: SlotShare(weights: queues.map(\.weight), policy: policy, capacity: concurrency))
        )
        turns = NIOLockedValueBox(
            Turns(
                share: SlotShare(weights: queues.map(\.weight), policy: policy, capacity: 1),
                waiters: Array(repeating: [], count: queues.count)
            )
        )
    }

    /// Waits for a job of `queue` to have the turn at the rate budget. Returns false, holding no
    /// turn, when the task is cancelled; else the caller must ``endRateTurn(_:)``.
    func awaitRateTurn(_ queue: Int) async -> Bool {
        let id = turns.withLockedValue { turns in
            defer { turns.nextID += 1 }
            return turns.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let now = turns.withLockedValue { turns -> Bool? in
                    if Task.isCancelled { return false }
                    if turns.share.request(queue, count: 1) == 1 { return true }
                    turns.waiters[queue].append((id, continuation))
                    return nil
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            let cancelled = turns.withLockedValue { turns -> CheckedContinuation<Bool, Never>? in
                guard let index = turns.waiters[queue].firstIndex(where: { $0.id == id }) else { return nil }
                let waiter = turns.waiters[queue].remove(at: index)
                if turns.waiters[queue].isEmpty { turns.share.withdraw(queue) }
                return waiter.continuation
            }
            cancelled?.resume(returning: false)
        }
    }

    /// The job of `queue` holding the turn booked its slot (or gave up): the next turn goes to the
    /// queue with the best claim among those with jobs waiting.
    func endRateTurn(_ queue: Int) {
        let next = turns.withLockedValue { turns -> CheckedContinuation<Bool, Never>? in
            guard let next = turns.share.release(queue) else { return nil }
            let waiter = turns.waiters[next].removeFirst()
            // Still more of that queue's jobs waiting: it stays among those who wait.
            if !turns.waiters[next].isEmpty { _ = turns.share.request(next, count: 1) }
            return waiter.continuation
        }
        next?.resume(returning: true)
    }

    /// Whether queue `queue`'s job loop waits for a slot now (for tests).
    func isWaiting(_ queue: Int) -> Bool { state.withLockedValue { $0.waiters[queue] != nil } }

    /// The index of the queue named `name`, if this process serves it.
    func index(of name: String) -> Int? { queues.firstIndex { $0.name == name } }

    /// Waits until queue `queue` may take jobs: returns how many (1 up to `count`), or 0 once the
    /// queue stops (``withdraw(_:)``) or the task is cancelled.
    func acquire(_ queue: Int, upTo count: Int) async -> Int {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Int, Never>) in
                let granted = state.withLockedValue { state -> Int? in
                    // Checked under the lock the cancellation handler takes too: either it sees this
                    // wait, or this sees the cancellation.
                    if state.stopped.contains(queue) || Task.isCancelled { return 0 }
                    let granted = state.share.request(queue, count: count)
                    if granted > 0 { return granted }
                    state.waiters[queue] = continuation
                    return nil
                }
                if let granted { continuation.resume(returning: granted) }
            }
        } onCancel: {
            withdraw(queue, stopping: false)
        }
    }

    /// Queue `queue` lets `count` slots go: a job ended, or (`unused`) a take brought fewer jobs
    /// than it was granted slots, whose grants then do not count against its share: an idle
    /// queue's looks at its empty list must not push its claim back.
    func release(_ queue: Int, count: Int = 1, unused: Bool = false) {
        guard count > 0 else { return }
        let woken = state.withLockedValue { state -> [(CheckedContinuation<Int, Never>, Int)] in
            var woken: [(CheckedContinuation<Int, Never>, Int)] = []
            for _ in 0..<count {
                if unused { state.share.refund(queue) }
                if let next = state.share.release(queue), let waiter = state.waiters.removeValue(forKey: next) {
                    woken.append((waiter, 1))
                }
            }
            return woken
        }
        for (waiter, granted) in woken { waiter.resume(returning: granted) }
    }

    /// Whether a slot of `queue` whose job just ended may go on with the queue's next job, or must
    /// be let go for a queue with a better claim. While takes are held (the budget is full) no
    /// slot goes on: the next jobs are taken when it frees, in the order of the queues' claims,
    /// rather than by whichever slot's job happened to end first.
    func mayContinue(_ queue: Int) -> Bool {
        state.withLockedValue { state in
            if let held = state.heldUntil, held > .now { return false }
            return state.share.mayContinue(queue)
        }
    }

    /// No queue here takes a job before this (``holdTaking(for:refunding:)``).
    var takingHeldUntil: ContinuousClock.Instant? { state.withLockedValue(\.heldUntil) }

    /// The rate budget's slots are handed out beyond its horizon (``RateGate/Reservation/later(_:)``):
    /// every queue here holds its takes for `wait` (they share the budget, and would meet the same
    /// full schedule), and the grant of `queue`'s job, which goes back unpaid, is not counted
    /// against its share.
    func holdTaking(for wait: Duration, refunding queue: Int) {
        state.withLockedValue { state in
            state.heldUntil = max(state.heldUntil ?? .now, .now + wait)
            state.share.refund(queue)
        }
    }

    /// Queue `queue`'s job loop stops (or its wait was cancelled): its wait ends with 0 slots.
    func withdraw(_ queue: Int, stopping: Bool = true) {
        let waiter = state.withLockedValue { state in
            if stopping { state.stopped.insert(queue) }
            state.share.withdraw(queue)
            return state.waiters.removeValue(forKey: queue)
        }
        waiter?.resume(returning: 0)
    }
}

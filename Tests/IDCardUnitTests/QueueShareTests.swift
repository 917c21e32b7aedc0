import Testing

@testable import IDCardWorker

/// How one process's job slots are shared by its queues (`IDOCR_QUEUES`), without servers.
@Suite("Weighted queues")
struct QueueShareTests {
    @Test("IDOCR_QUEUES: names and weights, a weight of 1 by default; mistakes named")
    func parsing() throws {
        #expect(
            try WeightedQueue.parse(list: "realtime:6, default:3,bulk")
                == [
                    .init(name: "realtime", weight: 6), .init(name: "default", weight: 3),
                    .init(name: "bulk", weight: 1),
                ]
        )
        for wrong in ["", ",", "a:0", "a:x", "a:1:2", "a{b}:1", "a:1,a:2", "a:1001"] {
            #expect(throws: ConfigurationError.self, "\(wrong)") { try WeightedQueue.parse(list: wrong) }
        }
        let configuration = try WorkerConfiguration(environment: [
            "IDOCR_QUEUES": "realtime:6,bulk:1", "IDOCR_QUEUE_POLICY": "strict", "IDOCR_PROVIDER": "showapi",
        ])
        #expect(configuration.queue == "realtime" && configuration.servedQueues.count == 2)
        #expect(configuration.queuePolicy == .strict)
        // Several queues share the provider's budget, in a slot of its own; one queue keeps its own.
        #expect(configuration.rateKeys.rate == "idocr:{rate:showapi}:rate")
        #expect(WorkerConfiguration().rateKeys.rate == "idocr:{idcard}:rate")
        #expect(throws: ConfigurationError.self) {
            try WorkerConfiguration(environment: ["IDOCR_QUEUE_POLICY": "fair"])
        }
    }

    /// Every queue always has jobs, and its job loop always waits for another slot: each slot, when
    /// its job ends, either goes on with its queue or is let go to the best waiting queue, which
    /// then starts a job. Returns the jobs started per queue.
    static func run(_ weights: [Int], policy: WeightedQueue.Policy, capacity: Int, jobs: Int) -> [Int] {
        var share = SlotShare(weights: weights, policy: policy, capacity: capacity)
        var slots: [Int] = []
        var started = Array(repeating: 0, count: weights.count)
        for queue in weights.indices {
            let granted = share.request(queue, count: capacity)
            slots += Array(repeating: queue, count: granted)
            started[queue] += granted
        }
        var step = 0
        while started.reduce(0, +) < jobs {
            let index = step % slots.count
            step += 1
            let queue = slots[index]
            if share.mayContinue(queue) {
                started[queue] += 1
                continue
            }
            let next = share.release(queue)
            let regranted = share.request(queue, count: 1)
            #expect(regranted == 0)  // it still has jobs: it waits
            if let next {
                slots[index] = next
                started[next] += 1
                // Its job loop asks for another slot at once, as it still has jobs.
                let more = share.request(next, count: 1)
                #expect(more == 0)
            }
        }
        return started
    }

    @Test("weighted: each queue's share of the jobs is its weight's, at any concurrency", arguments: [1, 2, 8, 64])
    func weightedShares(capacity: Int) {
        let started = Self.run([6, 3, 1], policy: .weighted, capacity: capacity, jobs: 10_000)
        let total = Double(started.reduce(0, +))
        for (queue, weight) in [6, 3, 1].enumerated() {
            let share = Double(started[queue]) / total
            #expect(abs(share - Double(weight) / 10) < 0.01, "queue \(queue): \(share) of \(total)")
        }
    }

    @Test("strict: the heaviest queue with jobs gets every slot; the next only once it has none")
    func strict() {
        let started = Self.run([6, 3, 1], policy: .strict, capacity: 4, jobs: 1_000)
        // The first grants went to whoever asked first; from then on only the heaviest.
        #expect(started[0] >= 1_000 - 4 && started[2] == 0)
        var share = SlotShare(weights: [6, 3, 1], policy: .strict, capacity: 1)
        let first = share.request(2, count: 1)
        let (middle, heaviest) = (share.request(1, count: 1), share.request(0, count: 1))
        #expect(first == 1 && middle == 0 && heaviest == 0)
        let goesOn = share.mayContinue(2)
        #expect(!goesOn)
        let handedTo = share.release(2)
        #expect(handedTo == 0)
        let again = share.request(2, count: 1)
        #expect(again == 0)
        let next = share.release(0)
        #expect(next == 1)  // the heavier of those waiting
    }

    @Test("weighted: a queue back from idleness has banked no credit, and a lone queue keeps every slot")
    func noBankedCredit() {
        var share = SlotShare(weights: [1, 1], policy: .weighted, capacity: 1)
        let granted = share.request(0, count: 1)
        #expect(granted == 1)
        var wentOn = 0
        for _ in 0..<1_000 where share.mayContinue(0) { wentOn += 1 }
        #expect(wentOn == 1_000)  // nobody waits: it goes on
        let waits = share.request(1, count: 1)
        #expect(waits == 0)
        // Equal weights now alternate, rather than queue 1 taking a thousand in a row.
        var order: [Int] = []
        var current = 0
        for _ in 0..<6 {
            if share.mayContinue(current) {
                order.append(current)
                continue
            }
            let next = share.release(current)
            let waiting = share.request(current, count: 1)
            #expect(waiting == 0)
            current = next ?? current
            order.append(current)
        }
        #expect(order.filter { $0 == 1 }.count <= 4 && order.filter { $0 == 0 }.count >= 2, "\(order)")
    }

    @Test("an idle queue's looks at its empty list do not count against its share")
    func idleLooksAreFree() async {
        let capacity = ProcessCapacity(
            queues: [WeightedQueue(name: "busy"), WeightedQueue(name: "idle")],
            concurrency: 1,
            rateGate: nil
        )
        // The idle queue's loop takes a slot, finds nothing and lets it go, a hundred times.
        for _ in 0..<100 {
            let granted = await capacity.acquire(1, upTo: 1)
            capacity.release(1, count: granted, unused: true)
        }
        let busy = await capacity.acquire(0, upTo: 1)
        #expect(busy == 1)
        await withTaskGroup(of: Int.self) { group in
            group.addTask { await capacity.acquire(1, upTo: 1) }  // jobs came: it waits for the slot
            while !capacity.isWaiting(1) { try? await Task.sleep(for: .milliseconds(1)) }
            // Equal weights, and the idle queue has had no job: the busy one's slot goes to it.
            #expect(!capacity.mayContinue(0))
            capacity.release(0)
            #expect(await group.next() == 1)
        }
    }
}

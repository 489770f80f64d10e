@testable import Engine
import Testing

@Suite struct SchedulerTests {
    func config(budget: Int = 2048, seqs: Int = 256, maxLen: Int = 512, block: Int = 4) -> SchedulerConfig {
        var c = SchedulerConfig()
        c.maxNumBatchedTokens = budget
        c.maxNumSeqs = seqs
        c.maxModelLen = maxLen
        c.blockSize = block
        return c
    }

    @Test func longPromptIsChunkedUnderTheBudgetThenDecodes() throws {
        let h = SchedulerHarness(config(budget: 32), numBlocks: 100)
        try h.add("a", prompt: 100, maxTokens: 3)
        let chunks = (0..<6).map { _ in h.step().requests.first?.numTokens ?? 0 }
        #expect(chunks == [32, 32, 32, 4, 1, 1])
        #expect(h.steps[3].requests[0].samples && !h.steps[2].requests[0].samples)
        #expect(h.finished["a"] == .length)
        #expect(h.scheduler.request("a") == nil)
    }

    @Test func runningRequestsGoFirstAndTheBudgetHolds() throws {
        let h = SchedulerHarness(config(budget: 10), numBlocks: 100)
        try h.add("a", prompt: 8, maxTokens: 5)
        h.step()
        try h.add("b", prompt: 20, maxTokens: 5)
        let out = h.step()
        #expect(out.requests.map(\.id) == ["a", "b"])
        #expect(out.requests.map(\.numTokens) == [1, 9])
        #expect(out.totalTokens <= 10)
    }

    @Test func maxNumSeqsCapsRunningRequests() throws {
        let h = SchedulerHarness(config(seqs: 2), numBlocks: 100)
        for i in 0..<4 { try h.add("r\(i)", prompt: 5) }
        #expect(h.step().requests.count == 2)
        #expect(h.scheduler.waiting.count == 2)
        h.runToCompletion()
        #expect(h.finished.count == 4)
    }

    @Test func kvPressurePreemptsTheNewestAndAdmitsNothingThatStep() throws {
        // 12 usable blocks of 4 tokens; three 12-token prompts fill 9, decodes need more.
        let h = SchedulerHarness(config(block: 4), numBlocks: 13)
        for i in 0..<3 { try h.add("r\(i)", prompt: 12, maxTokens: 12) }
        try h.add("late", prompt: 4, maxTokens: 1)
        h.runToCompletion()
        #expect(h.scheduler.numPreemptionsTotal > 0)
        let preemptStep = try #require(h.steps.first { $0.numPreemptions > 0 })
        #expect(!preemptStep.requests.contains { $0.newRequest != nil && $0.startPosition == 0 && $0.id == "late" })
        #expect(h.finished.count == 4 && h.finished.values.allSatisfy { $0 == .length })
        #expect(h.scheduler.kvCache.numFreeBlocks == 12)
    }

    @Test func priorityPolicyPreemptsTheLowestPriority() throws {
        var c = config(block: 4)
        c.policy = .priority
        let h = SchedulerHarness(c, numBlocks: 9)
        try h.add("low", prompt: 12, maxTokens: 8, priority: 5)
        try h.add("high", prompt: 12, maxTokens: 8, priority: 0)
        var victims: [RequestID] = []
        while h.scheduler.hasUnfinishedRequests {
            let before = h.scheduler.running.map(\.id)
            let out = h.step()
            if out.numPreemptions > 0 { victims += before.filter { id in !h.scheduler.running.contains { $0.id == id } && h.finished[id] == nil } }
        }
        #expect(!victims.isEmpty && victims.allSatisfy { $0 == "low" })
    }

    @Test func stopConditions() throws {
        let h = SchedulerHarness(config(), numBlocks: 100)
        h.token = { id, i in id == "eos" && i == 1 ? 2 : 50 }
        try h.add("eos", prompt: 3, maxTokens: 10, eos: [2])
        try h.add("ignore", prompt: 3, maxTokens: 3, eos: [50]) { $0.ignoreEOS = true }
        try h.add("min", prompt: 3, maxTokens: 10, eos: [50]) { $0.minTokens = 2 }
        try h.add("stopid", prompt: 3, maxTokens: 10) { $0.stopTokenIds = [50] }
        h.runToCompletion()
        #expect(h.finished == ["eos": .stop, "ignore": .length, "min": .stop, "stopid": .stop])
    }

    @Test func maxModelLenEndsWithLength() throws {
        let h = SchedulerHarness(config(maxLen: 10), numBlocks: 100)
        let r = try h.add("a", prompt: 7) { $0.maxTokens = nil }
        h.runToCompletion()
        #expect(h.finished["a"] == .length && r.numTokens == 10)
        #expect(throws: EngineError.self) { try h.add("long", prompt: 10) }
    }

    @Test func abortWorksWaitingAndRunning() throws {
        let h = SchedulerHarness(config(seqs: 1), numBlocks: 100)
        try h.add("run", prompt: 5, maxTokens: 50)
        try h.add("wait", prompt: 5, maxTokens: 50)
        h.step()
        h.scheduler.finish(["run", "wait"], reason: .abort, now: 2)
        #expect(!h.scheduler.hasUnfinishedRequests && h.scheduler.kvCache.numFreeBlocks == 99)
        // Nothing runs, so nothing is sent: the release rides on the next batch that runs.
        #expect(h.step().isEmpty)
        try h.add("next", prompt: 5, maxTokens: 5)
        #expect(h.step().releasedRequestIds == ["run"])
    }

    @Test func prefixHitsSkipComputation() throws {
        let h = SchedulerHarness(config(block: 4), numBlocks: 100)
        try h.add("a", prompt: 17, maxTokens: 1)
        h.runToCompletion()
        let again = Request(id: "b", promptTokenIds: h.steps[0].requests[0].newRequest!.promptTokenIds, sampling: .greedy)
        try h.scheduler.add(again, now: 10)
        let out = h.step()
        #expect(out.requests[0].startPosition == 16 && out.requests[0].numTokens == 1)
        #expect(again.numCachedTokens == 16)
        #expect(h.scheduler.stats.prefixCacheHits == 16)
    }

    @Test func pipelineDepthCapsEachBatch() throws {
        var c = config(budget: 64, seqs: 8)
        c.pipelineDepth = 2
        let h = SchedulerHarness(c, numBlocks: 200)
        for i in 0..<8 { try h.add("r\(i)", prompt: 20) }
        let out = h.step()
        #expect(out.totalTokens <= 32 && out.requests.count <= 4)
    }

    @Test func newRequestDataIsSentOnceAndAgainAfterPreemption() throws {
        let h = SchedulerHarness(config(block: 4), numBlocks: 13)
        let requests = try (0..<3).map { try h.add("r\($0)", prompt: 12, maxTokens: 12) }
        h.runToCompletion()
        #expect(requests.contains { $0.numPreemptions > 0 })
        for r in requests {
            let sends = h.steps.flatMap(\.requests).filter { $0.id == r.id && $0.newRequest != nil }
            // Sent when first scheduled and again after each preemption, with the outputs so far.
            #expect(sends.count == r.numPreemptions + 1)
            #expect(sends.dropFirst().allSatisfy { !$0.newRequest!.outputTokenIds.isEmpty || $0.startPosition == 0 })
        }
    }
}

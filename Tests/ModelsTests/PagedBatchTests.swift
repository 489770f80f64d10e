import Compute
import Models
import Testing

/// The paged path must not depend on how blocks are laid out or how a prompt is chunked:
/// scattered blocks, a prefill split in two steps, and a batch mixing a prefill chunk with a
/// decode give the same logits as one contiguous prefill.
@Suite struct PagedBatchTests {
    @Test func chunkedPrefillOnScatteredBlocksMatchesOneShot() throws {
        let model = try ModelLoader.load(directory: Fixtures.path("tiny-llama"))
        let promptA = try Fixtures.reference("tiny-llama").prompts[0].token_ids
        let promptB = try Fixtures.reference("tiny-llama").prompts[1].token_ids
        let expectedA = TextGenerator(model: model, blockSize: 4).promptLogits(promptA)
        let expectedB = TextGenerator(model: model, blockSize: 4).promptLogits(promptB)

        let blockSize = 4
        let caches = model.makeKVCaches(numBlocks: 32, blockSize: blockSize)
        // Sequence A on odd blocks counted down, B on even blocks counted up.
        let tableA: [Int32] = [31, 29, 27, 25, 23, 21, 19, 17]
        let tableB: [Int32] = [0, 2, 4, 6, 8, 10, 12, 14]
        func slots(_ table: [Int32], _ positions: Range<Int>) -> [Int32] {
            positions.map { table[$0 / blockSize] * Int32(blockSize) + Int32($0 % blockSize) }
        }
        // Step 1: first 5 tokens of A alone.
        let split = 5
        let step1 = ForwardBatch(
            tokens: Array(promptA[0..<split]), positions: Array(0..<split),
            sequences: [AttentionSequence(queryRows: 0..<split, firstPosition: 0, blockTable: tableA)],
            slotMapping: slots(tableA, 0..<split), logitRows: [split - 1])
        let logits1 = model.forward(step1, caches: caches)
        #expect(maxAbsDifference(row(logits1, 0), row(expectedA, split - 1)) < 1e-4)

        // Step 2: the rest of A and all of B, in one batch.
        let restA = promptA.count - split
        let step2 = ForwardBatch(
            tokens: Array(promptA[split...]) + promptB,
            positions: Array(split..<promptA.count) + Array(0..<promptB.count),
            sequences: [
                AttentionSequence(queryRows: 0..<restA, firstPosition: split, blockTable: tableA),
                AttentionSequence(queryRows: restA..<(restA + promptB.count), firstPosition: 0, blockTable: tableB),
            ],
            slotMapping: slots(tableA, split..<promptA.count) + slots(tableB, 0..<promptB.count),
            logitRows: [restA - 1, restA + promptB.count - 1])
        let logits2 = model.forward(step2, caches: caches)
        #expect(maxAbsDifference(row(logits2, 0), row(expectedA, promptA.count - 1)) < 1e-4)
        #expect(maxAbsDifference(row(logits2, 1), row(expectedB, promptB.count - 1)) < 1e-4)
    }

    private func row(_ t: Tensor, _ r: Int) -> [Float] {
        Array(UnsafeBufferPointer(start: t.row(r), count: t.rowLength))
    }
}

import Foundation
import ModelFormats
import Testing

@Suite struct GGUFFileTests {
    /// Every metadata value type, including nested arrays and empty ones.
    static let allValues: [(String, GGUFValue)] = [
        ("general.architecture", .string("llama")),
        ("test.u8", .uint8(200)),
        ("test.i8", .int8(-100)),
        ("test.u16", .uint16(60_000)),
        ("test.i16", .int16(-30_000)),
        ("test.u32", .uint32(4_000_000_000)),
        ("test.i32", .int32(-2_000_000_000)),
        ("test.f32", .float32(1.5)),
        ("test.bool.true", .bool(true)),
        ("test.bool.false", .bool(false)),
        ("test.string", .string("héllo ✓ ▁world")),
        ("test.string.empty", .string("")),
        ("test.u64", .uint64(.max)),
        ("test.i64", .int64(.min)),
        ("test.f64", .float64(.pi)),
        ("test.array.u8", .array(.uint8([0, 1, 255]))),
        ("test.array.i8", .array(.int8([-128, 0, 127]))),
        ("test.array.u16", .array(.uint16([1, 65535]))),
        ("test.array.i16", .array(.int16([-32768, 7]))),
        ("test.array.u32", .array(.uint32([1, 2, 3]))),
        ("test.array.i32", .array(.int32([-1, 3, 4]))),
        ("test.array.f32", .array(.float32([-1000, 0.25, 3e38]))),
        ("test.array.bool", .array(.bool([true, false, true]))),
        ("test.array.string", .array(.string(["<pad>", "", "▁the", "😀"]))),
        ("test.array.u64", .array(.uint64([.max, 0]))),
        ("test.array.i64", .array(.int64([.min, 42]))),
        ("test.array.f64", .array(.float64([1e-300, -2.5]))),
        ("test.array.empty", .array(.uint64([]))),
        ("test.array.nested", .array(.array([.int16([1, -2]), .string(["a", "bc"]), .array([.bool([true])]), .float32([])]))),
    ]

    static func sampleWriter() -> GGUFTestWriter {
        var w = GGUFTestWriter()
        for (k, v) in allValues { w.add(k, v) }
        w.addTensor("f32.matrix", type: .f32, ne: [4, 3])
        w.addTensor("f16.vector", type: .f16, ne: [8])
        w.addTensor("i8.odd", type: .i8, ne: [5])                // 5 bytes: the next tensor needs padding
        w.addTensor("q4_0.matrix", type: .q4_0, ne: [64, 2])     // 2 rows × 2 blocks × 18
        w.addTensor("q4_k.matrix", type: .q4_K, ne: [256, 3])    // 3 × 144
        w.addTensor("q8_0.vector", type: .q8_0, ne: [32])        // 34
        w.addTensor("bf16.cube", type: .bf16, ne: [2, 2, 2])
        w.addTensor("q6_k.4d", type: .q6_K, ne: [256, 1, 2, 1])  // 2 × 210
        return w
    }

    @Test func roundTripsEveryValueTypeAndTensorLayout() throws {
        let w = Self.sampleWriter()
        let layout = w.build()
        let f = try openGGUF(layout.bytes)
        #expect(f.version == 3)
        #expect(f.alignment == 32)
        #expect(f.fileSize == layout.bytes.count)
        #expect(f.metadata.keys == Self.allValues.map(\.0))
        for (k, v) in Self.allValues {
            #expect(f.metadata[k] == v, "\(k)")
        }
        #expect(f.architecture == "llama")

        #expect(f.dataOffset == layout.dataOffset)
        #expect(f.dataOffset % 32 == 0 && f.dataOffset >= layout.tensorInfoEnd)
        #expect(f.tensors.map(\.name) == w.tensors.map(\.name))
        let expectedBytes = [48, 16, 5, 72, 432, 34, 16, 420]
        for (i, (t, spec)) in zip(f.tensors, w.tensors).enumerated() {
            #expect(t.ne == spec.ne.map { Int($0) }, "\(t.name)")
            #expect(t.shape == t.ne.reversed(), "\(t.name)")
            #expect(t.type.rawValue == spec.typeID, "\(t.name)")
            #expect(UInt64(t.offset) == layout.tensorOffsets[i], "\(t.name)")
            #expect(t.offset % 32 == 0, "\(t.name)")
            #expect(t.fileOffset == f.dataOffset + t.offset)
            #expect(t.byteCount == expectedBytes[i], "\(t.name)")
            #expect(Array(t.bytes) == spec.data, "\(t.name)")
            #expect(t.byteCount == t.rowCount * t.rowBytes)
        }
        let q4k = try #require(f.tensor(named: "q4_k.matrix"))
        #expect(q4k.type == .q4_K && q4k.rowLength == 256 && q4k.rowCount == 3 && q4k.rowBytes == 144 && q4k.shape == [3, 256])
        let fourD = try #require(f.tensor(named: "q6_k.4d"))
        #expect(fourD.shape == [1, 2, 1, 256] && fourD.rowCount == 2 && fourD.elementCount == 512)
        #expect(f.tensor(named: "nope") == nil)
        #expect(throws: ModelFormatError.missingTensor(name: "nope", searched: f.path)) { try f.requireTensor(named: "nope") }
    }

    @Test func tensorDataConvertsPlainTypesOnly() throws {
        var w = GGUFTestWriter()
        let values: [Float] = [1, -2, 3.5, 0, 10, 11]
        w.addTensor("w", type: .f32, ne: [3, 2], data: values.flatMap { ggufLE($0.bitPattern) })
        w.addTensor("q", type: .q8_0, ne: [32])
        let f = try openGGUF(w.bytes)
        let td = try #require(f.tensor(named: "w")).tensorData()
        #expect(td.shape == [2, 3] && td.dtype == .f32)
        #expect(try td.floats() == values)
        #expect(throws: ModelFormatError.self) { try f.tensor(named: "q")!.tensorData() }
    }

    @Test func versionTwoWithCustomAlignment() throws {
        var w = GGUFTestWriter()
        w.version = 2
        w.alignment = 64
        w.add("general.alignment", .uint32(64))
        w.addTensor("a", type: .f32, ne: [3])
        w.addTensor("b", type: .f16, ne: [5])
        w.addTensor("c", type: .q8_0, ne: [32, 2])
        let layout = w.build()
        let f = try openGGUF(layout.bytes)
        #expect(f.version == 2 && f.alignment == 64)
        #expect(f.dataOffset == layout.dataOffset && f.dataOffset % 64 == 0)
        #expect(f.tensors.map(\.offset) == [0, 64, 128])
        #expect(Array(f.tensors[2].bytes) == w.tensors[2].data)
    }

    @Test func emptyFileWithNoTensors() throws {
        let f = try openGGUF(GGUFTestWriter().bytes)
        #expect(f.tensors.isEmpty && f.metadata.count == 0 && f.architecture == nil)
    }

    @Test func ggmlTypeTable() {
        let expected: [(GGMLType, UInt32, Int, Int)] = [
            (.f32, 0, 1, 4), (.f16, 1, 1, 2), (.q4_0, 2, 32, 18), (.q4_1, 3, 32, 20), (.q5_0, 6, 32, 22),
            (.q5_1, 7, 32, 24), (.q8_0, 8, 32, 34), (.q8_1, 9, 32, 36), (.q2_K, 10, 256, 84),
            (.q3_K, 11, 256, 110), (.q4_K, 12, 256, 144), (.q5_K, 13, 256, 176), (.q6_K, 14, 256, 210),
            (.q8_K, 15, 256, 292), (.iq4_NL, 20, 32, 18), (.iq4_XS, 23, 256, 136), (.bf16, 30, 1, 2),
            (.i8, 24, 1, 1), (.f64, 28, 1, 8), (.tq2_0, 35, 256, 66), (.mxfp4, 39, 32, 17),
        ]
        for (t, id, block, bytes) in expected {
            #expect(t.rawValue == id && t.blockSize == block && t.bytesPerBlock == bytes, "\(t)")
        }
        #expect(GGMLType(rawValue: 4) == nil && GGMLType(rawValue: 5) == nil && GGMLType(rawValue: 31) == nil)
        #expect(GGMLType.q8_0.rowBytes(elements: 640) == 680)
        #expect(GGMLType.q4_K.rowBytes(elements: 1024) == 576)
        #expect(GGMLType.q6_K.rowBytes(elements: 2048) == 1680)
        #expect(GGMLType.q4_0.rowBytes(elements: 100) == nil)
        #expect(GGMLType.f32.rowBytes(elements: -1) == nil)
        #expect(GGMLType.q8_K.rowBytes(elements: Int.max / 256 * 256) == nil)  // overflow, not a trap
        #expect(GGMLType.q4_K.name == "Q4_K" && GGMLType.q4_K.isQuantized && !GGMLType.bf16.isQuantized)
    }

    @Test func typedAccessors() throws {
        let f = try openGGUF(Self.sampleWriter().bytes)
        let m = f.metadata
        #expect(try m.string("general.architecture") == "llama")
        #expect(try m.int("test.u32") == 4_000_000_000 && m.int("test.i8") == -100 && m.int("test.i64") == Int(Int64.min))
        #expect(try m.float("test.f32") == 1.5 && m.float("test.u16") == 60_000)
        #expect(try m.bool("test.bool.true") == true)
        #expect(try m.stringArray("test.array.string") == ["<pad>", "", "▁the", "😀"])
        #expect(try m.intArray("test.array.u16") == [1, 65535])
        #expect(try m.floatArray("test.array.f32") == [-1000, 0.25, 3e38])
        #expect(try m.array("test.array.nested")?.count == 4)
        #expect(try m.int("missing") == nil && m.string("missing") == nil)
        #expect(throws: GGUFError.typeMismatch(path: f.path, key: "test.string", expected: "an integer that fits in Int", found: "STRING")) {
            try m.int("test.string")
        }
        // UInt64.max does not fit in Int: a mismatch, not a wrap or a trap.
        #expect(throws: GGUFError.self) { try m.int("test.u64") }
        #expect(throws: GGUFError.self) { try m.bool("test.u8") }
        #expect(throws: GGUFError.self) { try m.stringArray("test.array.u8") }
        #expect(throws: GGUFError.missingKey(path: f.path, key: "missing")) { try m.requiredInt("missing") }
        #expect(m["test.array.string"]?.typeName == "ARRAY<STRING>")
    }

    // MARK: - Malformed files

    @Test func badMagic() throws {
        var w = GGUFTestWriter()
        w.magic = Array("GGML".utf8)
        let e = #expect(throws: GGUFError.self) { try openGGUF(w.bytes) }
        guard case .badMagic(_, let found) = e else { Issue.record("got \(String(describing: e))"); return }
        #expect(found == Array("GGML".utf8))
        let safetensors = #expect(throws: GGUFError.self) { try openGGUF([8, 0, 0, 0, 0, 0, 0, 0] + Array("{}      ".utf8)) }
        #expect({ if case .badMagic = safetensors { true } else { false } }())
    }

    @Test func unsupportedVersions() throws {
        for (version, reported) in [(UInt32(1), UInt32(1)), (4, 4), (0, 0), (0x0300_0000, 3)] {
            var w = GGUFTestWriter()
            w.version = version
            let e = #expect(throws: GGUFError.self) { try openGGUF(w.bytes) }
            guard case .unsupportedVersion(_, let v, let reason) = e else { Issue.record("version \(version): got \(String(describing: e))"); continue }
            #expect(v == reported)
            if version == 1 { #expect(reason.contains("v1")) }
            if version == 0x0300_0000 { #expect(reason.contains("big-endian")) }
        }
    }

    /// Every proper prefix of a valid file fails cleanly, with the section where it ends.
    @Test func truncatedAtEveryLength() throws {
        let layout = Self.sampleWriter().build()
        let full = layout.bytes
        var kinds: [String: Int] = [:]
        for length in 0..<full.count {
            let e = #expect(throws: GGUFError.self, "length \(length)") { try openGGUF(Array(full.prefix(length))) }
            guard let e else { continue }
            switch e {
            case .truncated(_, let section, _):
                if length < layout.headerEnd {
                    #expect(section == "the header", "length \(length)")
                } else if length < layout.metadataEnd {
                    #expect(section.hasPrefix("metadata"), "length \(length): \(section)")
                } else if length < layout.tensorInfoEnd {
                    #expect(section.hasPrefix("tensor info"), "length \(length): \(section)")
                } else {
                    Issue.record("length \(length): truncated(\(section)) after the tensor infos")
                }
                kinds["truncated", default: 0] += 1
            case .absurdCount:
                // The counts in the header are checked against the file size before anything else.
                #expect(8 * 24 > length || Self.allValues.count * 13 > length, "length \(length)")
                kinds["truncated", default: 0] += 1
            case .tensorOutOfBounds:
                #expect(length >= layout.tensorInfoEnd, "length \(length)")
                kinds["outOfBounds", default: 0] += 1
            default:
                Issue.record("length \(length): unexpected \(e)")
            }
        }
        #expect(kinds["truncated", default: 0] == layout.tensorInfoEnd)
        #expect(kinds["outOfBounds", default: 0] == full.count - layout.tensorInfoEnd)

        // A specific message: cut inside the last key's value type names the key.
        let cut = layout.kvStarts[28] + 27
        let e = #expect(throws: GGUFError.self) { try openGGUF(Array(full.prefix(cut))) }
        #expect(e.map { "\($0)" }?.contains("ends inside metadata key 'test.array.nested'") == true, "\(String(describing: e))")
    }

    @Test func tensorDataPastTheEnd() throws {
        for offset: UInt64 in [1 << 20, UInt64.max - 31, 64] {
            var w = GGUFTestWriter()
            w.addTensor("a", type: .f32, ne: [8])
            w.addTensor("big", type: .f32, ne: [16])
            w.tensors[1].offsetOverride = offset
            let e = #expect(throws: GGUFError.self) { try openGGUF(w.bytes) }
            guard case .tensorOutOfBounds(_, let name, let o, let count, _) = e else { Issue.record("offset \(offset): got \(String(describing: e))"); continue }
            #expect(name == "big" && o == offset && count == 64)
        }
        // Dimensions that make a tensor larger than the file.
        var w = GGUFTestWriter()
        w.addTensor("huge", type: .q4_K, ne: [256, 1 << 40], data: [])
        let e = #expect(throws: GGUFError.self) { try openGGUF(w.bytes) }
        #expect({ if case .tensorOutOfBounds(_, "huge", _, _, _) = e { true } else { false } }())
    }

    @Test func unknownTensorType() throws {
        for id: UInt32 in [4, 31, 99, .max] {
            var w = GGUFTestWriter()
            w.addTensor("t", type: .f32, ne: [4])
            w.tensors[0].typeID = id
            let e = #expect(throws: GGUFError.self) { try openGGUF(w.bytes) }
            #expect(e == .unknownTensorType(path: e?.path ?? "", tensor: "t", typeID: id))
        }
    }

    @Test func absurdCountsAndLengths() throws {
        func expectAbsurd(_ w: GGUFTestWriter, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
            let e = #expect(throws: GGUFError.self, sourceLocation: sourceLocation) { try openGGUF(w.bytes) }
            guard case .absurdCount(_, let message, _, _) = e else {
                Issue.record("\(what): got \(String(describing: e))", sourceLocation: sourceLocation)
                return
            }
            #expect(message.contains(what), "\(message)", sourceLocation: sourceLocation)
        }
        var w = GGUFTestWriter()
        w.tensorCountOverride = 1 << 40
        expectAbsurd(w, "tensor count")
        w = GGUFTestWriter()
        w.kvCountOverride = .max
        expectAbsurd(w, "metadata key count")
        w = GGUFTestWriter()
        w.rawKVs = [ggufLE(UInt64(1) << 62) + Array("key".utf8)]
        expectAbsurd(w, "key length")
        w = GGUFTestWriter()
        w.rawKVs = [GGUFTestWriter.rawKV("s", type: 8, ggufLE(UInt64(1) << 62))]
        expectAbsurd(w, "string length")
        w = GGUFTestWriter()
        w.rawKVs = [GGUFTestWriter.rawKV("a", type: 9, ggufLE(UInt32(4)) + ggufLE(UInt64(1) << 61))]
        expectAbsurd(w, "array length")
        w = GGUFTestWriter()
        w.rawKVs = [GGUFTestWriter.rawKV("a", type: 9, ggufLE(UInt32(8)) + ggufLE(UInt64.max))]
        expectAbsurd(w, "array length")
        w = GGUFTestWriter()
        w.addTensor("t", type: .f32, ne: [4])
        w.tensors[0].name = ""
        w.rawKVs = []
        var bytes = w.bytes
        // Replace the tensor name length (0) with 2^63.
        let infoStart = w.build().tensorInfoStarts[0]
        bytes.replaceSubrange(infoStart..<infoStart + 8, with: ggufLE(UInt64(1) << 63))
        let e = #expect(throws: GGUFError.self) { try openGGUF(bytes) }
        #expect({ if case .absurdCount = e { true } else { false } }())
    }

    @Test func badDimensions() throws {
        func tensorError(_ configure: (inout GGUFTestWriter.Tensor) -> Void) -> GGUFError? {
            var w = GGUFTestWriter()
            w.addTensor("t", type: .f32, ne: [4])
            configure(&w.tensors[0])
            return #expect(throws: GGUFError.self) { try openGGUF(w.bytes) }
        }
        func reason(_ e: GGUFError?) -> String {
            if case .badTensor(_, "t", let r) = e { return r }
            return "not badTensor: \(String(describing: e))"
        }
        #expect(reason(tensorError { $0.ne = [1, 1, 1, 1, 1] }).contains("n_dims 5"))
        #expect(reason(tensorError { $0.nDimsOverride = 1_000_000 }).contains("n_dims"))
        #expect(reason(tensorError { $0.ne = [1 << 32, 1 << 32, 1 << 32] }).contains("overflows"))
        #expect(reason(tensorError { $0.ne = [0, 1 << 40, 1 << 40] }).contains("overflows"))
        #expect(reason(tensorError { $0.ne = [1 << 63] }).contains("too large"))
        #expect(reason(tensorError { $0.ne = [4, UInt64(Int.max / 3)] }).contains("overflows"))
        #expect(reason(tensorError { $0.ne = [100]; $0.typeID = GGMLType.q4_K.rawValue }).contains("not a multiple of the Q4_K block size 256"))
    }

    @Test func duplicateTensorNamesAndKeys() throws {
        var w = GGUFTestWriter()
        w.addTensor("blk.0.attn_q.weight", type: .f32, ne: [4])
        w.addTensor("blk.0.attn_q.weight", type: .f32, ne: [4])
        let e = #expect(throws: GGUFError.self) { try openGGUF(w.bytes) }
        #expect({ if case .duplicateTensor(_, "blk.0.attn_q.weight") = e { true } else { false } }())

        var k = GGUFTestWriter()
        k.add("general.name", .string("a"))
        k.add("general.name", .string("b"))
        let e2 = #expect(throws: GGUFError.self) { try openGGUF(k.bytes) }
        #expect({ if case .duplicateKey(_, "general.name") = e2 { true } else { false } }())
    }

    @Test func misalignedAndOverlappingTensors() throws {
        var w = GGUFTestWriter()
        w.addTensor("a", type: .f32, ne: [8])
        w.addTensor("b", type: .f32, ne: [8])
        w.tensors[1].offsetOverride = 4
        let e = #expect(throws: GGUFError.self) { try openGGUF(w.bytes) }
        #expect(e == .misalignedTensor(path: e?.path ?? "", tensor: "b", offset: 4, alignment: 32))

        w.tensors[1].offsetOverride = 0
        let e2 = #expect(throws: GGUFError.self) { try openGGUF(w.bytes) }
        #expect({ if case .badTensor(_, _, let r) = e2 { r.contains("overlaps") } else { false } }())
    }

    @Test func badMetadataValues() throws {
        func metadataError(_ raw: [UInt8]) -> GGUFError? {
            var w = GGUFTestWriter()
            w.rawKVs = [raw]
            return #expect(throws: GGUFError.self) { try openGGUF(w.bytes) }
        }
        func reason(_ e: GGUFError?) -> String {
            if case .badMetadata(_, _, let r) = e { return r }
            return "not badMetadata: \(String(describing: e))"
        }
        #expect(reason(metadataError(GGUFTestWriter.rawKV("k", type: 13, [0]))).contains("unknown value type 13"))
        #expect(reason(metadataError(GGUFTestWriter.rawKV("k", type: 9, ggufLE(UInt32(77)) + ggufLE(UInt64(0))))).contains("unknown array element type 77"))
        // An array-of-array bomb: 10,000 levels, one element each.
        var bomb: [UInt8] = []
        for _ in 0..<10_000 { bomb += ggufLE(UInt32(9)) + ggufLE(UInt64(1)) }
        bomb += ggufLE(UInt32(0)) + ggufLE(UInt64(0))
        #expect(reason(metadataError(GGUFTestWriter.rawKV("k", type: 9, bomb))).contains("nested"))

        for bad: GGUFValue in [.uint32(3), .uint32(0), .string("32"), .int32(-32), .uint64(1 << 40)] {
            var w = GGUFTestWriter()
            w.add("general.alignment", bad)
            let e = #expect(throws: GGUFError.self) { try openGGUF(w.bytes) }
            #expect({ if case .badMetadata(_, "general.alignment", _) = e { true } else { false } }(), "\(bad)")
        }
    }

    /// Random corruption of a valid file: every outcome is a clean error or a valid file, never a
    /// crash or a hang. Mostly hits the header, metadata and tensor infos, where the parser works.
    @Test func randomCorruptionNeverCrashes() throws {
        let layout = Self.sampleWriter().build()
        var rng = GGUFTestRNG(seed: 0x5eed)
        var opened = 0, failed = 0
        for _ in 0..<1500 {
            var bytes = layout.bytes
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let i = Int.random(in: 0..<layout.dataOffset, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: bytes[i] ^= UInt8(1 << Int.random(in: 0..<8, using: &rng))
                case 1: bytes[i] = 0xFF
                default: bytes[i] = UInt8.random(in: 0...255, using: &rng)
                }
            }
            if Bool.random(using: &rng) { bytes.removeLast(Int.random(in: 0..<bytes.count, using: &rng)) }
            do {
                let f = try openGGUF(bytes)
                for t in f.tensors { #expect(t.fileOffset + t.byteCount <= bytes.count) }
                opened += 1
            } catch is GGUFError {
                failed += 1
            }
        }
        #expect(opened + failed == 1500 && failed > 0)
    }

    @Test func errorMessagesAreOneLineAndNameTheFile() throws {
        let errors: [GGUFError] = [
            .badMagic(path: "/m/x.gguf", found: [0, 1, 0x47, 0x47]),
            .unsupportedVersion(path: "/m/x.gguf", version: 1, reason: "old"),
            .truncated(path: "/m/x.gguf", section: "metadata key 'general.name'", offset: 12),
            .absurdCount(path: "/m/x.gguf", what: "tensor count", count: 1 << 40, limit: 10),
            .badMetadata(path: "/m/x.gguf", key: "general.alignment", reason: "bad"),
            .duplicateKey(path: "/m/x.gguf", key: "k"),
            .missingKey(path: "/m/x.gguf", key: "k"),
            .typeMismatch(path: "/m/x.gguf", key: "k", expected: "STRING", found: "UINT32"),
            .unknownTensorType(path: "/m/x.gguf", tensor: "blk.0.attn_q.weight", typeID: 99),
            .badTensor(path: "/m/x.gguf", tensor: "blk.0.attn_q.weight", reason: "r"),
            .tensorOutOfBounds(path: "/m/x.gguf", tensor: "blk.0.attn_q.weight", offset: 64, byteCount: 10, dataSize: 5),
            .misalignedTensor(path: "/m/x.gguf", tensor: "blk.0.attn_q.weight", offset: 4, alignment: 32),
            .duplicateTensor(path: "/m/x.gguf", tensor: "blk.0.attn_q.weight"),
        ]
        for e in errors {
            let s = e.description
            #expect(s.hasPrefix("/m/x.gguf: ") && !s.contains("\n"), "\(s)")
            if case .badTensor = e { #expect(s.contains("'blk.0.attn_q.weight'")) }
            if case .tensorOutOfBounds = e { #expect(s.contains("'blk.0.attn_q.weight'")) }
        }
        #expect(errors[0].description.contains("\\x0\\x1GG"))
    }
}

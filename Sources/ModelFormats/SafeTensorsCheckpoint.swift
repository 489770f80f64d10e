import Foundation

/// All weights of a model directory: `model.safetensors`, or the shards that
/// `model.safetensors.index.json` lists in its `weight_map`.
public struct SafeTensorsCheckpoint: Sendable {
    public let directory: String
    public let files: [SafeTensorsFile]
    private let index: [String: TensorData]

    public init(directory: String) throws {
        self.directory = directory
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDir) else {
            throw ModelFormatError.missingFile(path: directory)
        }
        guard isDir.boolValue else {
            throw ModelFormatError.unreadable(path: directory, reason: "not a directory")
        }
        let indexPath = (directory as NSString).appendingPathComponent("model.safetensors.index.json")
        let singlePath = (directory as NSString).appendingPathComponent("model.safetensors")
        var files: [SafeTensorsFile] = []
        var index: [String: TensorData] = [:]
        if fm.fileExists(atPath: indexPath) {
            let weightMap = try Self.readWeightMap(indexPath)
            var opened: [String: SafeTensorsFile] = [:]
            for shard in Set(weightMap.values).sorted() {
                guard !shard.contains("/") else {
                    throw ModelFormatError.badConfig(path: indexPath, reason: "shard name '\(shard)' must be a file in the same directory")
                }
                let file = try SafeTensorsFile(path: (directory as NSString).appendingPathComponent(shard))
                opened[shard] = file
                files.append(file)
            }
            for (name, shard) in weightMap {
                guard let tensor = opened[shard]?.tensors[name] else {
                    throw ModelFormatError.missingTensor(name: name, searched: (directory as NSString).appendingPathComponent(shard))
                }
                index[name] = tensor
            }
        } else if fm.fileExists(atPath: singlePath) {
            let file = try SafeTensorsFile(path: singlePath)
            files = [file]
            index = file.tensors
        } else {
            throw ModelFormatError.missingFile(path: singlePath)
        }
        self.files = files
        self.index = index
    }

    public var tensorNames: [String] { index.keys.sorted() }

    public func contains(_ name: String) -> Bool { index[name] != nil }

    public func tensor(_ name: String) throws -> TensorData {
        guard let t = index[name] else { throw ModelFormatError.missingTensor(name: name, searched: directory) }
        return t
    }

    private static func readWeightMap(_ path: String) throws -> [String: String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelFormatError.unreadable(path: path, reason: "cannot open")
        }
        guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ModelFormatError.badConfig(path: path, reason: "not a JSON object")
        }
        guard let map = json["weight_map"] as? [String: String] else {
            throw ModelFormatError.badConfig(path: path, reason: "missing or malformed 'weight_map'")
        }
        return map
    }
}

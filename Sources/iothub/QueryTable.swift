import Foundation

/// The human view of query results. Twins (`SELECT *`, item type "twin") get the registry
/// columns; projections ("raw") one column per key seen in any item, `deviceId` and `moduleId`
/// first and the rest sorted (the JSON objects do not keep the SELECT's order).
enum QueryTable {
    static func make(_ items: [Any], itemType: String?) -> (headers: [String], rows: [[String]]) {
        let objects = items.compactMap { $0 as? [String: Any] }
        guard objects.count == items.count else {
            return (["VALUE"], items.map { [Output.cell($0)] })
        }
        if itemType == "twin" { return twins(objects) }
        let keys = Set(objects.flatMap(\.keys)).sorted { a, b in
            let (ra, rb) = (rank(a), rank(b))
            return ra != rb ? ra < rb : a < b
        }
        return (keys, objects.map { o in keys.map { Output.cell(o[$0]) } })
    }

    private static func twins(_ twins: [[String: Any]]) -> (headers: [String], rows: [[String]]) {
        let modules = twins.contains { ($0["moduleId"] as? String).map { !$0.isEmpty } ?? false }
        let headers = ["DEVICE"] + (modules ? ["MODULE"] : []) + ["STATUS", "CONNECTION", "VERSION"]
        let rows = twins.map { t in
            [Output.string(t["deviceId"])] + (modules ? [Output.string(t["moduleId"])] : [])
                + [Output.string(t["status"]), Output.string(t["connectionState"]), Output.string(t["version"])]
        }
        return (headers, rows)
    }

    private static func rank(_ key: String) -> Int {
        switch key {
        case "deviceId": 0
        case "moduleId": 1
        default: 2
        }
    }
}

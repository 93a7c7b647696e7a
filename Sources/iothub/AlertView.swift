import Foundation

/// The human view of an alert rule and of its history, from the hub's JSON.
enum AlertView {
    /// "Minimum < 1" (the operator as a symbol when the hub's name is known).
    static func condition(_ a: [String: Any]) -> String {
        let op = (a["operator"] as? String).map { AlertOperator(rawValue: $0)?.symbol ?? $0 } ?? "?"
        return "\(Output.string(a["aggregation"])) \(op) \(Output.number(a["threshold"]))"
    }

    static func actions(_ a: [String: Any]) -> String {
        let list = (a["actions"] as? [Any] ?? []).map(Output.string)
        return list.isEmpty ? "-" : list.joined(separator: ", ")
    }

    /// The state, or "disabled" for a rule that is not evaluated.
    static func state(_ a: [String: Any]) -> String {
        (a["enabled"] as? Bool) == false ? "disabled" : Output.string(a["state"] ?? "Unknown")
    }

    /// "alert NAME: METRIC OPERATOR THRESHOLD over WINDOW (AGGREGATION) → actions; state STATE".
    static func summary(_ a: [String: Any]) -> String {
        "alert \(Output.string(a["name"])): \(Output.string(a["metric"])) \(Output.string(a["operator"])) "
            + "\(Output.number(a["threshold"])) over \(Output.string(a["window"])) (\(Output.string(a["aggregation"]))) "
            + "→ \(actions(a)); state \(state(a))"
    }

    static func listRow(_ a: [String: Any]) -> [String] {
        [Output.string(a["name"]), Output.string(a["metric"]), condition(a), Output.string(a["window"]), state(a), actions(a)]
    }

    static func fields(_ a: [String: Any]) -> [(String, String)] {
        [("Name", Output.string(a["name"])),
         ("Metric", Output.string(a["metric"])),
         ("Condition", "\(Output.string(a["aggregation"])) \(Output.string(a["operator"])) \(Output.number(a["threshold"]))"),
         ("Window", Output.string(a["window"])),
         ("Enabled", DeviceView.yesNo(a["enabled"] ?? true)),
         ("State", state(a))]
            + (a["actions"] as? [Any] ?? []).enumerated().map { i, action in (i == 0 ? "Actions" : "", Output.string(action)) }
    }

    /// TIME STATE VALUE ACTIONS, the actions as "webhook ok; exec failed after 3 attempts: …".
    static func historyRow(_ h: [String: Any]) -> [String] {
        let outcomes = (h["actions"] as? [[String: Any]] ?? []).map { outcome -> String in
            let action = Output.string(outcome["action"])
            let kind = action.split(separator: ":", maxSplits: 1).first.map(String.init) ?? action
            var text = kind + ((outcome["ok"] as? Bool) == true ? " ok" : " failed")
            if let attempts = (outcome["attempts"] as? NSNumber)?.intValue, attempts > 1 { text += " after \(attempts) attempts" }
            if let error = outcome["error"] as? String, !error.isEmpty { text += ": \(error)" }
            return text
        }
        return [Output.string(h["time"]), Output.string(h["state"]), Output.number(h["value"]),
                outcomes.isEmpty ? "-" : outcomes.joined(separator: "; ")]
    }

    static func stateColour(_ state: String) -> String? {
        switch state {
        case "Fired": "31"
        case "Resolved": "32"
        default: nil
        }
    }
}

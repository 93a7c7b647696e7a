/// The result type of each scalar function, given its argument types; wrong argument types are
/// errors at the argument. A dynamic argument is accepted wherever a scalar is, and checked
/// when the row is read.
enum FunctionTypes {
    static func result(of function: LogFunction, _ types: [LogType], _ arguments: [LogExpression], at position: Int) throws(LogQueryError) -> LogType {
        func require(_ i: Int, _ allowed: [LogType], _ what: String) throws(LogQueryError) {
            guard !allowed.contains(types[i]), types[i] != .dynamic else { return }
            throw LogQueryError(.type, at: arguments[i].start, "\(function.rawValue)() needs \(what) as argument \(i + 1), found \(types[i].rawValue)")
        }
        switch function {
        case .ago:
            try require(0, [.timespan], "a timespan")
            return .datetime
        case .now:
            if !types.isEmpty { try require(0, [.timespan], "a timespan") }
            return .datetime
        case .bin:
            return try binType(types[0], types[1], at: position)
        case .todatetime: return .datetime
        case .totimespan: return .timespan
        case .tostring, .tolower, .toupper, .strcat: return .string
        case .toint, .tolong, .strlen: return .long
        case .todouble: return .real
        case .tobool: return .bool
        case .substring:
            for i in 1..<types.count { try require(i, [.long, .real], "a number") }
            return .string
        case .isempty, .isnotempty, .isnull, .isnotnull: return .bool
        case .iif:
            try require(0, [.bool], "a bool condition")
            return try unify(Array(types[1...]), function, at: position)
        case .coalesce:
            return try unify(types, function, at: position)
        case .not:
            try require(0, [.bool], "a bool")
            return .bool
        case .abs:
            try require(0, [.long, .real, .timespan], "a number or a timespan")
            return types[0] == .dynamic ? .real : types[0]
        case .round:
            try require(0, [.long, .real], "a number")
            if types.count == 2 { try require(1, [.long], "a whole number of digits") }
            return types[0] == .long ? .long : .real
        case .parseJSON: return .dynamic
        case .arrayLength:
            try require(0, [.dynamic], "a dynamic array")
            return .long
        case .count, .countif, .dcount, .sum, .avg, .min, .max, .any, .makeSet, .makeList, .argMax, .argMin:
            return try Aggregation.resultType(of: function, types.first, at: position)
        }
    }

    private static func binType(_ value: LogType, _ size: LogType, at position: Int) throws(LogQueryError) -> LogType {
        switch (value, size) {
        case (.long, .long): return .long
        case (.timespan, .timespan): return .timespan
        case (.datetime, .timespan), (.datetime, .dynamic): return .datetime
        case _ where (value.isNumeric || value == .dynamic) && (size.isNumeric || size == .dynamic): return .real
        default:
            throw LogQueryError(.type, at: position,
                                "bin() needs a number, a timespan or a datetime and a bin size (a timespan for datetimes), found \(value.rawValue) and \(size.rawValue)")
        }
    }

    /// The one type of several results (iif, coalesce): equal types, numbers as real, or dynamic.
    private static func unify(_ types: [LogType], _ function: LogFunction, at position: Int) throws(LogQueryError) -> LogType {
        let distinct = Set(types)
        if distinct.count == 1 { return types[0] }
        if distinct.contains(.dynamic) { return .dynamic }
        if distinct.allSatisfy(\.isNumeric) { return .real }
        let found = types.map(\.rawValue).joined(separator: " and ")
        throw LogQueryError(.type, at: position, "\(function.rawValue)() needs results of one type, found \(found)")
    }
}

/// A one-line chart of a series in eighth blocks (▁▂▃▄▅▆▇█), for a glance at a metric's shape
/// under its table. The lowest value is ▁ and the highest █; the caller labels both.
enum Sparkline {
    static let blocks: [Character] = Array("▁▂▃▄▅▆▇█")

    /// One block per value, nil (an interval without data) as a space. With more values than
    /// `width`, neighbouring values are averaged so that the line fits.
    static func render(_ values: [Double?], width: Int) -> String {
        let series = squeeze(values, to: max(width, 1))
        let present = series.compactMap { $0 }
        guard let low = present.min(), let high = present.max() else { return "" }
        return String(series.map { value -> Character in
            guard let value else { return " " }
            guard high > low else { return blocks[0] }
            let step = Int(((value - low) / (high - low) * Double(blocks.count - 1)).rounded())
            return blocks[min(max(step, 0), blocks.count - 1)]
        })
    }

    private static func squeeze(_ values: [Double?], to width: Int) -> [Double?] {
        guard values.count > width else { return values }
        return (0..<width).map { bucket in
            let slice = values[(bucket * values.count / width)..<((bucket + 1) * values.count / width)].compactMap { $0 }
            return slice.isEmpty ? nil : slice.reduce(0, +) / Double(slice.count)
        }
    }
}

import Foundation

/// A small SVG plotting surface: data coordinates mapped into a pixel frame, with axes and ticks.
struct Plot {
    let width: Double, height: Double
    let left = 62.0, right = 16.0, top = 14.0, bottom = 44.0
    let x: ClosedRange<Double>, y: ClosedRange<Double>
    private(set) var body = ""

    init(width: Double, height: Double, x: ClosedRange<Double>, y: ClosedRange<Double>) {
        self.width = width
        self.height = height
        self.x = x.lowerBound < x.upperBound ? x : (x.lowerBound - 1)...(x.upperBound + 1)
        self.y = y.lowerBound < y.upperBound ? y : (y.lowerBound - 1)...(y.upperBound + 1)
    }

    func px(_ v: Double) -> Double { left + (v - x.lowerBound) / (x.upperBound - x.lowerBound) * (width - left - right) }
    func py(_ v: Double) -> Double { top + (y.upperBound - v) / (y.upperBound - y.lowerBound) * (height - top - bottom) }

    mutating func add(_ element: String) { body += element }

    mutating func polyline(_ points: [(Double, Double)], color: String, width: Double = 2, dash: String? = nil) {
        let p = points.filter { $0.0.isFinite && $0.1.isFinite }.map { String(format: "%.2f,%.2f", px($0.0), py(min(max($0.1, y.lowerBound), y.upperBound))) }
        add("<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"\(width)\"" + (dash.map { " stroke-dasharray=\"\($0)\"" } ?? "") + " points=\"\(p.joined(separator: " "))\"/>")
    }

    mutating func segment(_ a: (Double, Double), _ b: (Double, Double), color: String, width: Double = 1.5, dash: String? = nil) {
        add(String(format: "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%@\" stroke-width=\"%.1f\"%@/>",
                   px(a.0), py(a.1), px(b.0), py(b.1), color, width, dash.map { " stroke-dasharray=\"\($0)\"" } ?? ""))
    }

    mutating func band(_ range: ClosedRange<Double>, color: String, opacity: Double) {
        let lo = max(range.lowerBound, x.lowerBound), hi = min(range.upperBound, x.upperBound)
        guard lo < hi else { return }
        add(String(format: "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%@\" opacity=\"%.2f\"/>",
                   px(lo), top, px(hi) - px(lo), height - top - bottom, color, opacity))
    }

    mutating func dot(_ p: (Double, Double), color: String, radius: Double = 4, label: String? = nil) {
        add(String(format: "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"%.1f\" fill=\"%@\"/>", px(p.0), py(p.1), radius, color))
        if let label { add(String(format: "<text x=\"%.2f\" y=\"%.2f\" font-size=\"11\">%@</text>", px(p.0) + 6, py(p.1) - 6, HTMLText.escape(label))) }
    }

    func rendered(xLabel: String, yLabel: String) -> String {
        var s = String(format: "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" font-family=\"sans-serif\" font-size=\"11\">", width, height)
        s += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#fff\" stroke=\"#444\"/>", left, top, width - left - right, height - top - bottom)
        s += body
        for k in 0...4 {
            let vx = x.lowerBound + Double(k) / 4 * (x.upperBound - x.lowerBound), vy = y.lowerBound + Double(k) / 4 * (y.upperBound - y.lowerBound)
            s += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%@</text>", px(vx), height - bottom + 15, Plot.tick(vx))
            s += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%@</text>", left - 5, py(vy) + 4, Plot.tick(vy))
        }
        s += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\">%@</text>", left + (width - left - right) / 2, height - 8, HTMLText.escape(xLabel))
        s += String(format: "<text x=\"13\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 13 %.1f)\">%@</text>", (height - bottom) / 2, (height - bottom) / 2, HTMLText.escape(yLabel))
        return s + "</svg>"
    }

    static func tick(_ v: Double) -> String {
        let a = abs(v)
        if a == 0 { return "0" }
        if a >= 1e4 || a < 1e-3 { return String(format: "%.2e", v) }
        return String(format: a >= 100 ? "%.0f" : a >= 1 ? "%.2f" : "%.3f", v)
    }

    /// Line segments of the level set `q = level` of a grid (marching squares, linear interpolation).
    static func contour(x: [Double], y: [Double], q: [[Double]], level: Double) -> [((Double, Double), (Double, Double))] {
        var segments: [((Double, Double), (Double, Double))] = []
        guard x.count > 1, y.count > 1 else { return [] }
        for i in 0..<(x.count - 1) {
            for j in 0..<(y.count - 1) {
                let corners = [(x[i], y[j], q[i][j]), (x[i + 1], y[j], q[i + 1][j]), (x[i + 1], y[j + 1], q[i + 1][j + 1]), (x[i], y[j + 1], q[i][j + 1])]
                var crossings: [(Double, Double)] = []
                for k in 0..<4 {
                    let a = corners[k], b = corners[(k + 1) % 4]
                    guard a.2.isFinite, b.2.isFinite, (a.2 - level) * (b.2 - level) < 0 else { continue }
                    let t = (level - a.2) / (b.2 - a.2)
                    crossings.append((a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1)))
                }
                if crossings.count == 2 { segments.append((crossings[0], crossings[1])) }
                if crossings.count == 4 { segments.append((crossings[0], crossings[1])); segments.append((crossings[2], crossings[3])) }
            }
        }
        return segments
    }
}

enum HTMLText {
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }
}

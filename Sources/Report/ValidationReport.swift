import Foundation
import PairsCore

/// `pairs validate` output: a JSON document and a self-contained HTML page with calibration plots.
public enum ValidationReport {
    public static func json(_ result: ValidationResult) -> JSON {
        func method(_ m: ValidationResult.Method) -> JSON {
            .object(["bias": .double(m.bias), "bias_over_exact_std": .double(m.biasOverExactStd),
                     "width_ratio_mean": .double(m.widthRatioMean), "width_ratio_median": .double(m.widthRatioMedian),
                     "coverage_68": .double(m.coverage68), "coverage_95": .double(m.coverage95), "at_edge": .double(m.atEdge)])
        }
        return .object([
            "simulator": .string(result.simulator), "model_digest": .string(result.modelDigest),
            "parameter_of_interest": .string(result.parameterOfInterest), "seed": .int(Int(truncatingIfNeeded: result.seed)),
            "rows": .array(result.rows.map { row in
                .object(["n": .int(row.size), "datasets": .int(row.datasets), "coverage_error_68": .double(row.coverageError68),
                         "head": method(row.head), "lr": row.lr.map(method) ?? .null,
                         "exact_profile": .object(["coverage_68": .double(row.exactProfileCoverage68), "coverage_95": .double(row.exactProfileCoverage95)])])
            }),
        ])
    }

    /// A Markdown table of the figures (for READMEs and closing notes).
    public static func markdown(_ result: ValidationResult) -> String {
        var lines = ["| N | data sets | head std ÷ exact | head cov. 68 / 95 % | LR width ÷ exact | LR cov. 68 / 95 % | exact profile cov. 68 / 95 % |",
                     "|---:|---:|---:|---:|---:|---:|---:|"]
        for r in result.rows {
            let lr = r.lr.map { String(format: "%.2f | %.1f / %.1f", $0.widthRatioMedian, 100 * $0.coverage68, 100 * $0.coverage95) } ?? "– | –"
            lines.append(String(format: "| %d | %d | %.2f | %.1f / %.1f | %@ | %.1f / %.1f |", r.size, r.datasets, r.head.widthRatioMedian,
                                100 * r.head.coverage68, 100 * r.head.coverage95, lr, 100 * r.exactProfileCoverage68, 100 * r.exactProfileCoverage95))
        }
        return lines.joined(separator: "\n")
    }

    public static func html(_ result: ValidationResult) -> String {
        let sizes = result.rows.map { Double($0.size) }
        let ratioSeries: [(String, String, [Double])] = [("head posterior std ÷ exact", "#1f77b4", result.rows.map(\.head.widthRatioMedian))]
            + (result.rows.first?.lr != nil ? [("LR 68 % half-width ÷ exact", "#d62728", result.rows.map { $0.lr!.widthRatioMedian })] : [])
        var coverage: [(String, String, [Double])] = [("head 68 %", "#1f77b4", result.rows.map(\.head.coverage68)),
                                                      ("head 95 %", "#aec7e8", result.rows.map(\.head.coverage95)),
                                                      ("exact profile 68 %", "#2ca02c", result.rows.map(\.exactProfileCoverage68))]
        if result.rows.first?.lr != nil {
            coverage += [("LR 68 %", "#d62728", result.rows.map { $0.lr!.coverage68 }), ("LR 95 %", "#ff9896", result.rows.map { $0.lr!.coverage95 })]
        }
        let table = markdown(result).split(separator: "\n").enumerated().compactMap { i, line -> String? in
            guard i != 1 else { return nil }
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            let tag = i == 0 ? "th" : "td"
            return "<tr>" + cells.map { "<\(tag)>\(escape($0))</\(tag)>" }.joined() + "</tr>"
        }.joined(separator: "\n")
        return """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>pairs validation: \(escape(result.simulator))</title>
        <style>body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;color:#222}table{border-collapse:collapse}
        td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}svg{margin:1em 0}</style></head><body>
        <h1>Validation of the <code>\(escape(result.simulator))</code> model</h1>
        <p>Model <code>\(escape(result.modelDigest))</code>; parameter of interest <code>\(escape(result.parameterOfInterest))</code>;
        seed \(result.seed). For each N, fresh data sets are simulated with θ from the prior; the head posterior and the composed
        likelihood-ratio profile are compared with the exact likelihood evaluated on a grid (nuisance marginalised for the posterior,
        profiled for the likelihood ratio). Coverage is the fraction of data sets whose true value lies in the interval.</p>
        <h2>Width relative to exact inference</h2>
        \(chart(x: sizes, series: ratioSeries, yRange: 0.5...1.5, bands: [(0.9, 1.1)], lines: [1], yLabel: "ratio"))
        <h2>Coverage</h2>
        \(chart(x: sizes, series: coverage, yRange: 0.4...1.0, bands: [(0.6527, 0.7127), (0.92, 0.98)], lines: [0.6827, 0.95], yLabel: "coverage"))
        <h2>Figures</h2>
        <table>\(table)</table>
        </body></html>

        """
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    /// A line chart over log10(N) as inline SVG, with shaded target bands and reference lines.
    static func chart(x: [Double], series: [(String, String, [Double])], yRange: ClosedRange<Double>, bands: [(Double, Double)],
                      lines: [Double], yLabel: String) -> String {
        let width = 720.0, height = 300.0, left = 60.0, right = 200.0, top = 20.0, bottom = 40.0
        let lx = x.map { log10($0) }
        let x0 = (lx.min() ?? 0) - 0.2, x1 = (lx.max() ?? 1) + 0.2
        func px(_ v: Double) -> Double { left + (log10(v) - x0) / (x1 - x0) * (width - left - right) }
        func py(_ v: Double) -> Double {
            let c = min(max(v, yRange.lowerBound), yRange.upperBound)
            return top + (yRange.upperBound - c) / (yRange.upperBound - yRange.lowerBound) * (height - top - bottom)
        }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-size=\"12\">"
        for (lo, hi) in bands {
            svg += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#eee\"/>", left, py(hi), width - left - right, py(lo) - py(hi))
        }
        for l in lines {
            svg += String(format: "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>", left, width - right, py(l), py(l))
        }
        svg += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#333\"/>", left, top, width - left - right, height - top - bottom)
        for v in x {
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%@</text>", px(v), height - bottom + 16, "10^\(Int(log10(v).rounded()))")
        }
        for k in 0...4 {
            let v = yRange.lowerBound + Double(k) / 4 * (yRange.upperBound - yRange.lowerBound)
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.2f</text>", left - 6, py(v) + 4, v)
        }
        svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">N (events per data set)</text>", left + (width - left - right) / 2, height - 6)
        svg += String(format: "<text x=\"14\" y=\"%.1f\" transform=\"rotate(-90 14 %.1f)\" text-anchor=\"middle\">%@</text>", height / 2, height / 2, yLabel)
        for (i, (name, color, values)) in series.enumerated() {
            let points = zip(x, values).map { String(format: "%.1f,%.1f", px($0), py($1)) }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(points)\"/>"
            for (v, y) in zip(x, values) { svg += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%@\"/>", px(v), py(y), color) }
            svg += String(format: "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%@\" stroke-width=\"2\"/>", width - right + 10, width - right + 30, top + 12 + 18 * Double(i), top + 12 + 18 * Double(i), color)
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\">%@</text>", width - right + 36, top + 16 + 18 * Double(i), escape(name))
        }
        return svg + "</svg>"
    }
}

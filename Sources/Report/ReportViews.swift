import Foundation

/// Human views of a saved `report.json`: the self-contained HTML page and the terminal summary. Both read the
/// JSON only (it is the source of truth), so `pairs report` can re-render any saved report.
public enum ReportViews {
    static func number(_ v: Double?) -> String {
        guard let v, v.isFinite else { return "–" }
        let a = abs(v)
        if a != 0 && (a >= 1e5 || a < 1e-3) { return String(format: "%.3e", v) }
        return String(format: a >= 100 ? "%.1f" : "%.4f", v)
    }

    static func interval(_ j: JSON) -> String {
        let d = j.doubles
        return d.count == 2 ? "[\(number(d[0])), \(number(d[1]))]" : "–"
    }

    // MARK: terminal

    /// A few lines for the end of `pairs run` / `pairs coordinator`: events, status, and the parameters of
    /// interest under both views.
    public static func summary(_ report: JSON) -> String {
        let shards = report["shards"].array
        let failed = shards.filter { $0["status"].string == "failed" }.count
        var lines = ["pairs: \(report["events_total"].int ?? 0) events from \(shards.count) shards (\(shards.count - failed) ok, \(failed) failed) — "
                     + (report["complete"].bool == true ? "complete"
                        : "PARTIAL: \(failed) of \(shards.count) shards failed, their unread events are not in the result")]
        let posterior = report["posterior"], likelihood = report["likelihood"]
        guard !posterior.isNull else { return (lines + ["no events merged: no inference"]).joined(separator: "\n") }
        let names = posterior["parameters"].array.compactMap(\.string)
        let pois = Set(posterior["poi"].array.compactMap(\.string))
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
        lines.append(pad("parameter", 16) + pad("posterior (head)", 34) + "profile likelihood (composed LR)")
        for (k, name) in names.enumerated() where pois.contains(name) {
            let mean = posterior["mean"][k].double, std = posterior["std"][k].double
            let i = posterior["intervals"][name]
            let profile = likelihood["profile"][name]
            lines.append(pad("\(name) (poi)", 16) + pad("\(number(mean)) ± \(number(std))", 34) + (likelihood.isNull ? "–" : "MLE \(number(likelihood["mle"][name].double))"))
            lines.append(pad("", 16) + pad("68 % \(interval(i["68"]))", 34) + (profile.isNull ? "" : "68 % \(interval(profile["intervals"]["68"]))"))
            lines.append(pad("", 16) + pad("95 % \(interval(i["95"]))", 34) + (profile.isNull ? "" : "95 % \(interval(profile["intervals"]["95"]))"
                                                                               + (profile["at_grid_edge"].bool == true ? " (reaches the prior edge)" : "")))
        }
        if posterior["n_outside_finetuned_range"].bool == true {
            let r = posterior["finetuned_n_range"].array.compactMap(\.int)
            lines.append("warning: N = \(report["events_total"].int ?? 0) is outside the set sizes the head was finetuned on (\(r.first ?? 0)…\(r.last ?? 0)): the posterior is an extrapolation")
        }
        let outside = posterior["outside_prior"].array.compactMap(\.string)
        if !outside.isEmpty { lines.append("warning: the posterior mean of \(outside.joined(separator: ", ")) lies outside the prior box; intervals are clipped to it") }
        return lines.joined(separator: "\n")
    }

    // MARK: HTML

    public static func html(_ report: JSON) -> String {
        let posterior = report["posterior"], likelihood = report["likelihood"], run = report["run"]
        let names = posterior["parameters"].array.compactMap(\.string)
        let pois = posterior["poi"].array.compactMap(\.string)
        let shards = report["shards"].array
        let failed = shards.filter { $0["status"].string == "failed" }
        var page = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>pairs report</title>
        <style>
        body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;max-width:1180px;margin:24px auto;padding:0 20px;color:#222;line-height:1.4}
        h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
        .meta{color:#555;font-size:13px}.badge{display:inline-block;padding:2px 8px;border-radius:10px;font-size:12px;font-weight:600}
        .ok{background:#e3f4e6;color:#1d6b2b}.bad{background:#fde8e6;color:#a0271c}.warn{background:#fff4d6;color:#7a5a00;padding:8px 12px;border-radius:6px;margin:8px 0}
        table{border-collapse:collapse;font-size:13px;margin:6px 0}td,th{border:1px solid #ddd;padding:4px 9px;text-align:right}th{background:#f6f6f6}
        td.l,th.l{text-align:left}.grid{display:flex;flex-wrap:wrap;gap:18px}.legend{font-size:12px;color:#555}
        code{font-size:12px}@media print{body{margin:0;max-width:none}h2{break-after:avoid}svg{break-inside:avoid}}
        </style></head><body>
        <h1>pairs report</h1>
        <div class="meta">model <code>\(HTMLText.escape(report["model"]["digest"].string ?? "?"))</code> · features \(HTMLText.escape(report["model"]["features"].array.compactMap(\.string).joined(separator: ", ")))<br>
        <b>\(report["events_total"].int ?? 0)</b> events from \(shards.count) shards (\(shards.count - failed.count) ok, \(failed.count) failed) ·
        wall time \(number(run["seconds"].double)) s · \(run["worker_count"].int ?? 0) workers · finished \(HTMLText.escape(run["finished"].string ?? ""))
        <span class="badge \(report["complete"].bool == true ? "ok\">complete" : "bad\">partial result")</span></div>

        """
        if posterior.isNull {
            return page + "<p>No events were merged: no inference.</p>" + failures(report) + "</body></html>\n"
        }
        if posterior["n_outside_finetuned_range"].bool == true {
            let r = posterior["finetuned_n_range"].array.compactMap(\.int)
            page += "<div class=\"warn\">N lies outside the set sizes the head was finetuned on (\(r.first ?? 0)…\(r.last ?? 0)): the posterior is an extrapolation.</div>\n"
        }
        let outside = posterior["outside_prior"].array.compactMap(\.string)
        if !outside.isEmpty {
            page += "<div class=\"warn\">The posterior mean of \(HTMLText.escape(outside.joined(separator: ", "))) lies outside the prior box; its intervals are clipped to the box.</div>\n"
        }
        page += "<h2>Results</h2>\n" + resultsTable(posterior, likelihood, names: names, pois: Set(pois))
        page += "<p class=\"legend\">Posterior: the PAIRS head's Gaussian on the mean embedding and log N (central intervals of its marginals). "
            + "Profile likelihood: the composed likelihood ratio log R(θ) = a(θ)·Σ t + N·b(θ)"
            + (likelihood["extended"].bool == true ? " + N log ν(θ) − ν(θ) (extended)" : "")
            + ", maximised over the nuisance parameters; intervals where −2Δ log R crosses 1 and 3.84 (Wilks).</p>\n"
        page += "<h2>Posterior marginals</h2>\n<div class=\"grid\">" + names.enumerated().map { marginal(posterior, likelihood, k: $0.offset, name: $0.element) }.joined() + "</div>\n"
        if names.count == 2 {
            page += "<h2>Joint (\(HTMLText.escape(names[0])), \(HTMLText.escape(names[1])))</h2>\n" + joint(posterior, likelihood, names: names)
        }
        if !likelihood.isNull {
            page += "<h2>Profile likelihood</h2>\n<div class=\"grid\">" + pois.map { profilePlot(likelihood, name: $0) }.joined() + "</div>\n"
        }
        page += failures(report) + shardTable(shards) + workerTable(run)
        page += "<p class=\"meta\">Run: started \(HTMLText.escape(run["started"].string ?? "")), coordinator \(HTMLText.escape(run["coordinator_host"].string ?? "")), "
            + "\(run["items"]["total"].int ?? 0) work items of \(run["rows_per_item"].int ?? 0) rows (\(run["items"]["released"].int ?? 0) re-queued, "
            + "\(run["items"]["duplicate_partials"].int ?? 0) duplicate partials, \(run["dropped_messages"].int ?? 0) dropped messages).</p>\n"
        return page + "</body></html>\n"
    }

    static func resultsTable(_ posterior: JSON, _ likelihood: JSON, names: [String], pois: Set<String>) -> String {
        var rows = "<table><tr><th class=\"l\">parameter</th><th>posterior mean ± std</th><th>posterior 68 %</th><th>posterior 95 %</th><th>MLE</th><th>profile 68 %</th><th>profile 95 %</th></tr>"
        for (k, name) in names.enumerated() {
            let i = posterior["intervals"][name], p = likelihood["profile"][name]
            rows += "<tr><td class=\"l\">\(HTMLText.escape(name))\(pois.contains(name) ? " <b>(poi)</b>" : "")</td>"
                + "<td>\(number(posterior["mean"][k].double)) ± \(number(posterior["std"][k].double))</td>"
                + "<td>\(interval(i["68"]))</td><td>\(interval(i["95"]))</td><td>\(number(likelihood["mle"][name].double))</td>"
                + "<td>\(p.isNull ? "–" : interval(p["intervals"]["68"]))</td><td>\(p.isNull ? "–" : interval(p["intervals"]["95"]) + (p["at_grid_edge"].bool == true ? " ⚑" : ""))</td></tr>"
        }
        return rows + "</table>\n"
    }

    static func marginal(_ posterior: JSON, _ likelihood: JSON, k: Int, name: String) -> String {
        guard let mean = posterior["mean"][k].double, let std = posterior["std"][k].double, std > 0 else { return "" }
        let lo = mean - 4.5 * std, hi = mean + 4.5 * std
        var plot = Plot(width: 360, height: 230, x: lo...hi, y: 0...(1.12 / (std * (2 * Double.pi).squareRoot())))
        let i = posterior["intervals"][name]
        if let r = i["95"].doubles.rangeValue { plot.band(r, color: "#1f77b4", opacity: 0.12) }
        if let r = i["68"].doubles.rangeValue { plot.band(r, color: "#1f77b4", opacity: 0.18) }
        plot.polyline((0...120).map { s in
            let x = lo + Double(s) / 120 * (hi - lo), z = (x - mean) / std
            return (x, exp(-0.5 * z * z) / (std * (2 * Double.pi).squareRoot()))
        }, color: "#1f77b4")
        if let mle = likelihood["mle"][name].double, (lo...hi).contains(mle) {
            plot.segment((mle, plot.y.lowerBound), (mle, plot.y.upperBound), color: "#d62728", dash: "5 3")
        }
        if let r = likelihood["profile"][name]["intervals"]["68"].doubles.rangeValue {
            let h = plot.y.upperBound * 0.94
            plot.segment((r.lowerBound, h), (r.upperBound, h), color: "#d62728", width: 3)
        }
        return plot.rendered(xLabel: name, yLabel: "posterior density")
    }

    static func joint(_ posterior: JSON, _ likelihood: JSON, names: [String]) -> String {
        let mean = posterior["mean"].doubles, cov = posterior["covariance"].array.map(\.doubles)
        guard mean.count == 2, cov.count == 2 else { return "" }
        let s0 = cov[0][0].squareRoot(), s1 = cov[1][1].squareRoot()
        var xr = (mean[0] - 4 * s0)...(mean[0] + 4 * s0), yr = (mean[1] - 4 * s1)...(mean[1] + 4 * s1)
        let grid = likelihood["grid"]
        let gx = grid["axes"][names[0]].doubles, gy = grid["axes"][names[1]].doubles, q = grid["q"].array.map(\.doubles)
        if let mx = gx.first, let Mx = gx.last, let my = gy.first, let My = gy.last {
            xr = min(xr.lowerBound, mx)...max(xr.upperBound, Mx)
            yr = min(yr.lowerBound, my)...max(yr.upperBound, My)
        }
        var plot = Plot(width: 560, height: 420, x: xr, y: yr)
        // Posterior: ellipses where the Gaussian's Δχ² (2 dof) is 2.30 (68 %) and 5.99 (95 %).
        let det = cov[0][0] * cov[1][1] - cov[0][1] * cov[1][0]
        for (level, dash) in [(2.2957, nil), (5.9915, "6 4")] as [(Double, String?)] where det > 0 {
            let a = cov[0][0], b = cov[0][1], c = cov[1][1]
            let tr = a + c, root = ((a - c) * (a - c) / 4 + b * b).squareRoot()
            let l1 = tr / 2 + root, l2 = tr / 2 - root, angle = atan2(l1 - a, b == 0 ? 1e-300 : b)
            let points = (0...160).map { s -> (Double, Double) in
                let t = Double(s) / 160 * 2 * Double.pi
                let u = (level * l1).squareRoot() * cos(t), v = (level * max(l2, 0)).squareRoot() * sin(t)
                return (mean[0] + u * cos(angle) - v * sin(angle), mean[1] + u * sin(angle) + v * cos(angle))
            }
            plot.polyline(points, color: "#1f77b4", dash: dash)
        }
        // Composed likelihood ratio: contours of −2Δ log R at the same levels, by marching squares.
        if !q.isEmpty {
            for (level, dash) in [(2.2957, nil), (5.9915, "6 4")] as [(Double, String?)] {
                for (a, b) in Plot.contour(x: gx, y: gy, q: q, level: level) { plot.segment(a, b, color: "#d62728", width: 2, dash: dash) }
            }
            if let m0 = likelihood["mle"][names[0]].double, let m1 = likelihood["mle"][names[1]].double { plot.dot((m0, m1), color: "#d62728", label: "MLE") }
        }
        plot.dot((mean[0], mean[1]), color: "#1f77b4", label: "posterior mean")
        return plot.rendered(xLabel: names[0], yLabel: names[1])
            + "<p class=\"legend\"><span style=\"color:#1f77b4\">blue</span>: posterior 68 % (solid) and 95 % (dashed) regions; "
            + "<span style=\"color:#d62728\">red</span>: −2Δ log R = 2.30 and 5.99 contours of the composed likelihood ratio.</p>\n"
    }

    static func profilePlot(_ likelihood: JSON, name: String) -> String {
        let p = likelihood["profile"][name], x = p["values"].doubles, q = p["q"].doubles
        guard x.count == q.count, let first = x.first, let last = x.last else { return "" }
        var plot = Plot(width: 560, height: 300, x: first...last, y: 0...max(6, min(q.filter(\.isFinite).max() ?? 6, 12)))
        if let r = p["intervals"]["95"].doubles.rangeValue { plot.band(r, color: "#d62728", opacity: 0.10) }
        if let r = p["intervals"]["68"].doubles.rangeValue { plot.band(r, color: "#d62728", opacity: 0.16) }
        for level in [1.0, 3.841] { plot.segment((first, level), (last, level), color: "#888", width: 1, dash: "4 3") }
        plot.polyline(Array(zip(x, q)), color: "#d62728")
        return plot.rendered(xLabel: name, yLabel: "−2Δ log R (profiled)")
    }

    static func failures(_ report: JSON) -> String {
        let f = report["failures"].array
        guard !f.isEmpty else { return "" }
        return "<h2>Failures (\(f.count))</h2>\n<table><tr><th class=\"l\">shard</th><th class=\"l\">reason</th></tr>"
            + f.map { "<tr><td class=\"l\">\(HTMLText.escape($0["shard"].string ?? ""))</td><td class=\"l\">\(HTMLText.escape($0["reason"].string ?? ""))</td></tr>" }.joined()
            + "</table>\n"
    }

    static func shardTable(_ shards: [JSON]) -> String {
        let shown = shards.prefix(40)
        return "<h2>Shards (\(shards.count))</h2>\n<table><tr><th class=\"l\">shard</th><th>events</th><th class=\"l\">status</th><th class=\"l\">digest</th></tr>"
            + shown.map { s in
                "<tr><td class=\"l\">\(HTMLText.escape(s["path"].string ?? ""))</td><td>\(s["events"].int ?? 0)</td><td class=\"l\">\(HTMLText.escape(s["status"].string ?? ""))</td>"
                    + "<td class=\"l\"><code>\(HTMLText.escape(String((s["digest"].string ?? "–").prefix(23))))…</code></td></tr>"
            }.joined() + "</table>" + (shards.count > shown.count ? "<p class=\"legend\">… and \(shards.count - shown.count) more (all in report.json).</p>" : "") + "\n"
    }

    static func workerTable(_ run: JSON) -> String {
        let workers = run["workers"].array
        guard !workers.isEmpty else { return "" }
        return "<h2>Workers (\(workers.count))</h2>\n<table><tr><th class=\"l\">worker</th><th class=\"l\">host</th><th>threads</th><th class=\"l\">BLAS</th><th>items</th><th>events</th><th>events/s per thread</th><th>read / embed / accumulate</th></tr>"
            + workers.map { w in
                let s = w["seconds"], read = s["read"].double ?? 0, embed = s["embed"].double ?? 0, acc = s["accumulate"].double ?? 0
                let busy = read + embed + acc, events = Double(w["events"].int ?? 0)
                let split = busy > 0 ? String(format: "%.0f / %.0f / %.0f %%", 100 * read / busy, 100 * embed / busy, 100 * acc / busy) : "–"
                return "<tr><td class=\"l\"><code>\(HTMLText.escape(w["id"].string ?? ""))</code></td><td class=\"l\">\(HTMLText.escape(w["host"].string ?? ""))</td>"
                    + "<td>\(w["threads"].int ?? 0)</td><td class=\"l\">\(HTMLText.escape(w["blas_core"].string ?? ""))</td><td>\(w["items"].int ?? 0)</td>"
                    + "<td>\(w["events"].int ?? 0)</td><td>\(busy > 0 ? String(format: "%.0f", events / busy) : "–")</td><td>\(split)</td></tr>"
            }.joined() + "</table>\n"
    }
}

extension Array where Element == Double {
    /// A two-element array as a range.
    var rangeValue: ClosedRange<Double>? { count == 2 && self[0] <= self[1] ? self[0]...self[1] : nil }
}

import Foundation

/// Grid settings of the likelihood scan (coordinator options; the workers never see them).
public struct ScanOptions: Sendable, Equatable {
    /// Points per parameter axis, by parameter name; others use `defaultResolution`.
    public var resolution: [String: Int]
    public var defaultResolution: Int
    /// Zoom onto the region within 12.5 log-units of the maximum (on by default: a fixed grid over the prior box
    /// cannot resolve the intervals of large data sets).
    public var zoom: Bool
    /// Multiplies the bundle's yield model (data taken at another luminosity than the model's).
    public var luminosityScale: Double

    public init(resolution: [String: Int] = [:], defaultResolution: Int = 81, zoom: Bool = true, luminosityScale: Double = 1) {
        self.resolution = resolution
        self.defaultResolution = defaultResolution
        self.zoom = zoom
        self.luminosityScale = luminosityScale
    }
}

/// The two views of one data set's pooled sums: the head's posterior and the composed likelihood-ratio scan.
public struct DatasetInference: Sendable {
    public struct Posterior: Sendable {
        public var gaussian: GaussianPosterior
        /// The mean lies outside the prior box (on these parameters); intervals are clipped to the box.
        public var outsidePrior: [String]
        /// N lies outside the set sizes the head was finetuned on.
        public var extrapolatedN: Bool
    }

    public struct Likelihood: Sendable {
        /// The scanned grid (after zooming) and log R on it, row-major.
        public var axes: [[Double]]
        public var logRatio: [Double]
        /// The maximum-likelihood estimate of every parameter (profile maxima, refined by a parabola).
        public var mle: [Double]
        /// Profiles of the parameters of interest, by index.
        public var profiles: [Int: LikelihoodScan.Profile]
        public var extended: Bool
    }

    public var parameters: [Parameter]
    public var events: Int
    public var posterior: Posterior
    public var likelihood: Likelihood?

    /// Computes both views from N and Σ t.
    public init(model: ModelBundle, pooled: PooledEmbedding, options: ScanOptions = ScanOptions()) {
        precondition(pooled.events > 0, "inference needs at least one event")
        let parameters = model.metadata.parameters
        self.parameters = parameters
        events = pooled.events
        let sum = pooled.sum
        let gaussian = GaussianPosterior.from(head: model.head, sum: sum, count: pooled.events, parameters: parameters)
        posterior = Posterior(gaussian: gaussian,
                              outsidePrior: zip(parameters, gaussian.mean).filter { !$0.bounds.contains($1) }.map(\.0.name),
                              extrapolatedN: !model.metadata.setSizeRange.contains(pooled.events))
        guard let lr = model.lrEstimator else {
            likelihood = nil
            return
        }
        let yield = model.metadata.yieldModel.map { y in
            YieldModel(intercept: y.intercept * options.luminosityScale, coefficients: y.coefficients.map { $0 * options.luminosityScale })
        }
        let resolution = parameters.map { options.resolution[$0.name] ?? options.defaultResolution }
        let scan = LikelihoodScan(bounds: parameters.map(\.bounds), resolution: resolution, zoom: options.zoom) {
            lr.logRatio($0, sum: sum, count: pooled.events, parameters: parameters, yield: yield)
        }
        var profiles: [Int: LikelihoodScan.Profile] = [:]
        var mle: [Double] = []
        for (d, p) in parameters.enumerated() {
            let profile = scan.profile(d)
            mle.append(profile.mle)
            if p.role == .poi { profiles[d] = profile }
        }
        likelihood = Likelihood(axes: scan.axes, logRatio: scan.values, mle: mle, profiles: profiles, extended: yield != nil)
    }
}

extension GaussianPosterior {
    /// Pearson correlation matrix.
    public var correlation: [[Double]] {
        let s = std
        return covariance.indices.map { i in covariance.indices.map { j in covariance[i][j] / (s[i] * s[j]) } }
    }
}

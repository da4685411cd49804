/// Whether a parameter is of interest or a nuisance to be profiled or marginalised.
public enum ParameterRole: String, Sendable, Codable, CaseIterable { case poi, nuisance }

/// A physics parameter θ_k with its uniform prior box.
public struct Parameter: Sendable, Equatable {
    public let name: String
    public let role: ParameterRole
    public let bounds: ClosedRange<Double>

    public init(name: String, role: ParameterRole, bounds: ClosedRange<Double>) {
        self.name = name
        self.role = role
        self.bounds = bounds
    }

    /// Centre and half-width of the prior box: networks see θ as u = (θ − centre) / halfWidth ∈ [−1, 1].
    public var centre: Double { (bounds.lowerBound + bounds.upperBound) / 2 }
    public var halfWidth: Double { (bounds.upperBound - bounds.lowerBound) / 2 }

    public func standardise(_ theta: Double) -> Double { (theta - centre) / halfWidth }
    public func unstandardise(_ u: Double) -> Double { centre + halfWidth * u }
}

/// Expected event count ν(θ) = c0 + Σ c_k θ_k (θ in physical units), for the extended likelihood.
public struct YieldModel: Sendable, Equatable {
    public let intercept: Double
    public let coefficients: [Double]

    public init(intercept: Double, coefficients: [Double]) {
        self.intercept = intercept
        self.coefficients = coefficients
    }

    public func expected(_ theta: [Double]) -> Double {
        zip(coefficients, theta).reduce(intercept) { $0 + $1.0 * $1.1 }
    }
}

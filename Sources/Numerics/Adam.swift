/// Adam with optional decoupled weight decay (AdamW, as PyTorch's `AdamW`), updating an MLP in place.
public struct Adam<T: BLASScalar>: Sendable {
    public var learningRate: Double
    public var beta1: Double
    public var beta2: Double
    public var epsilon: Double
    /// Decoupled weight decay λ: each step also shrinks weights (not biases) by lr·λ·w. 0 is plain Adam.
    public var weightDecay: Double
    @usableFromInline var stepCount = 0
    @usableFromInline var firstMoments: [[T]] = []
    @usableFromInline var secondMoments: [[T]] = []
    /// Steps taken so far.
    public var step: Int { stepCount }

    public init(learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8,
                weightDecay: Double = 0) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    /// One update of `model` from `gradients` (shaped like `model`), at `learningRate` unless overridden
    /// (e.g. by a `CosineSchedule`).
    @inlinable
    public mutating func update(_ model: inout MLP<T>, gradients: MLP<T>, learningRate override: Double? = nil) {
        precondition(gradients.layers.count == model.layers.count, "gradients are not shaped like the model")
        stepCount += 1
        let lr = override ?? learningRate
        let correction1 = 1 - pow(beta1, Double(stepCount)), correction2 = 1 - pow(beta2, Double(stepCount))
        var index = 0
        for l in model.layers.indices {
            model.layers[l].weight.withValues { w in
                apply(&w, gradients.layers[l].weight.values, slot: index, lr: lr, decay: weightDecay, c1: correction1, c2: correction2)
            }
            apply(&model.layers[l].bias, gradients.layers[l].bias, slot: index + 1, lr: lr, decay: 0, c1: correction1, c2: correction2)
            index += 2
        }
    }

    @inlinable
    mutating func apply(_ values: inout [T], _ gradient: [T], slot: Int, lr: Double, decay: Double, c1: Double, c2: Double) {
        precondition(values.count == gradient.count, "gradient size differs from parameter size")
        while firstMoments.count <= slot {
            firstMoments.append([])
            secondMoments.append([])
        }
        if firstMoments[slot].isEmpty {
            firstMoments[slot] = [T](repeating: 0, count: values.count)
            secondMoments[slot] = [T](repeating: 0, count: values.count)
        }
        let b1 = T(beta1), b2 = T(beta2), stepSize = T(lr / c1), rootC2 = T(c2.squareRoot()), eps = T(epsilon)
        let shrink = T(1 - lr * decay)
        firstMoments[slot].withUnsafeMutableBufferPointer { m in
            secondMoments[slot].withUnsafeMutableBufferPointer { v in
                for i in values.indices {
                    let g = gradient[i]
                    m[i] = b1 * m[i] + (1 - b1) * g
                    v[i] = b2 * v[i] + (1 - b2) * g * g
                    values[i] = values[i] * shrink - stepSize * m[i] / (v[i].squareRoot() / rootC2 + eps)
                }
            }
        }
    }
}

/// Cosine learning-rate decay from `peak` to `floor` over `totalSteps`, after a linear warm-up.
public struct CosineSchedule: Sendable {
    public var peak: Double
    public var floor: Double
    public var warmupSteps: Int
    public var totalSteps: Int

    public init(peak: Double, floor: Double = 0, warmupSteps: Int = 0, totalSteps: Int) {
        precondition(totalSteps > 0 && warmupSteps >= 0, "schedule needs positive total steps")
        self.peak = peak
        self.floor = floor
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
    }

    /// The learning rate for step `step` (0-based); stays at `floor` after `totalSteps`.
    public func learningRate(at step: Int) -> Double {
        if step < warmupSteps { return peak * Double(step + 1) / Double(warmupSteps) }
        let progress = min(1, Double(step - warmupSteps) / Double(max(1, totalSteps - warmupSteps)))
        return floor + 0.5 * (peak - floor) * (1 + cos(Double.pi * progress))
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

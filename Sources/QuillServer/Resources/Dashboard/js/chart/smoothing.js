// Smoothing: the exponential moving average people know from TensorBoard and W&B, debiased so the first
// points are not pulled toward zero. Non-finite values pass through unchanged and do not disturb the
// average; a weight of 0 returns the values as they are.

/**
 * The debiased exponential moving average of `values` with `weight` in [0, 1): each output is
 * `last = last * weight + (1 - weight) * value`, divided by `1 - weight^n` for the n finite values seen.
 */
export function ema(values, weight) {
    const out = new Float64Array(values.length);
    if (!(weight > 0)) {
        out.set(values);
        return out;
    }
    const w = Math.min(weight, 0.999999);
    let last = 0;
    let decay = 1; // weight^n
    for (let i = 0; i < values.length; i++) {
        const v = values[i];
        if (!Number.isFinite(v)) {
            out[i] = v;
            continue;
        }
        last = last * w + (1 - w) * v;
        decay *= w;
        out[i] = last / (1 - decay);
    }
    return out;
}

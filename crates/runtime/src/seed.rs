//! Seeds derived from other seeds without a generator: SplitMix64's
//! finaliser, which spreads any change of its input over all 64 bits.

/// The golden-ratio increment of SplitMix64's state.
pub const GOLDEN_GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// SplitMix64's output function: a well-mixed 64-bit value of `z`.
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first outputs of SplitMix64 seeded with 0 (Vigna's reference).
    #[test]
    fn matches_the_reference_sequence() {
        let outputs: Vec<u64> = (1..=3)
            .map(|i| mix64(GOLDEN_GAMMA.wrapping_mul(i)))
            .collect();
        assert_eq!(
            outputs,
            [
                0xe220_a839_7b1d_cdaf,
                0x6e78_9e6a_a1b9_65f4,
                0x06c4_5d18_8009_454f
            ]
        );
    }
}

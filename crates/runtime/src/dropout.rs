//! Dropout with its own seeded generator.
//!
//! burn's `Dropout` draws every element through the backend's global RNG,
//! one Bernoulli sample at a time: a fifth of a CPU training step, and
//! shared by every model in the process. Here all dropout layers of a model
//! share one ChaCha8 stream that the trainer reseeds before each forward
//! pass, masks are drawn 16 bits per element in bulk, and the result does
//! not depend on the backend or on other models running alongside.
//! As in HF, kept activations are scaled by `1 / (1 - p)`; dropout acts
//! only on autodiff backends (training).

use std::sync::{Arc, Mutex};

use burn::tensor::{Tensor, TensorData, backend::Backend};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The generator all dropout layers of one model draw from.
#[derive(Debug, Clone)]
pub struct DropoutRng(Arc<Mutex<ChaCha8Rng>>);

impl DropoutRng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self(Arc::new(Mutex::new(ChaCha8Rng::seed_from_u64(seed))))
    }

    /// Restarts the stream from `seed`.
    pub fn reseed(&self, seed: u64) {
        *self.0.lock().expect("dropout generator") = ChaCha8Rng::seed_from_u64(seed);
    }

    /// `len` multipliers: 0 with probability `prob`, else `1 / (1 - prob)`.
    fn multipliers(&self, len: usize, prob: f64) -> Vec<f32> {
        let mut bytes = vec![0u8; len * 2];
        self.0
            .lock()
            .expect("dropout generator")
            .fill_bytes(&mut bytes);
        let threshold = (prob * 65536.0).round() as u32;
        let keep = (1.0 / (1.0 - prob)) as f32;
        bytes
            .chunks_exact(2)
            .map(|b| {
                if (u16::from_le_bytes([b[0], b[1]]) as u32) < threshold {
                    0.0
                } else {
                    keep
                }
            })
            .collect()
    }
}

/// One dropout layer.
#[derive(Debug, Clone)]
pub struct Dropout {
    prob: f64,
    rng: DropoutRng,
}

impl Dropout {
    /// A layer dropping with probability `prob`, drawing from `rng`.
    pub fn new(prob: f64, rng: &DropoutRng) -> Self {
        Self {
            prob,
            rng: rng.clone(),
        }
    }

    /// Drops and rescales in training; the identity otherwise.
    pub fn forward<B: Backend, const D: usize>(&self, x: Tensor<B, D>) -> Tensor<B, D> {
        if self.prob == 0.0 || !B::ad_enabled(&x.device()) {
            return x;
        }
        let shape = x.shape();
        let mask = self.rng.multipliers(shape.num_elements(), self.prob);
        let mask = Tensor::<B, D>::from_data(TensorData::new(mask, shape), &x.device());
        x * mask
    }
}

#[cfg(test)]
mod tests {
    use burn::backend::{Autodiff, Flex};

    use super::*;

    fn drop<B: Backend>(rng: &DropoutRng) -> Vec<f32> {
        let x = Tensor::<B, 2>::ones([100, 100], &Default::default());
        Dropout::new(0.1, rng)
            .forward(x)
            .into_data()
            .to_vec::<f32>()
            .unwrap()
    }

    #[test]
    fn drops_about_p_and_rescales_the_rest_in_training_only() {
        let rng = DropoutRng::new(3);
        let values = drop::<Autodiff<Flex>>(&rng);
        let zeros = values.iter().filter(|v| **v == 0.0).count();
        assert!((800..1200).contains(&zeros), "{zeros} of 10000 dropped");
        assert!(
            values
                .iter()
                .all(|v| *v == 0.0 || (*v - 1.0 / 0.9).abs() < 1e-6)
        );
        assert!(drop::<Flex>(&rng).iter().all(|v| *v == 1.0));
    }

    #[test]
    fn the_same_seed_draws_the_same_masks() {
        let rng = DropoutRng::new(5);
        let first = drop::<Autodiff<Flex>>(&rng);
        assert_ne!(first, drop::<Autodiff<Flex>>(&rng));
        rng.reseed(5);
        assert_eq!(first, drop::<Autodiff<Flex>>(&rng));
    }
}

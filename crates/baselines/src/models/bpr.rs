//! BPR-MF: `score(u, i) = p_u · q_i`, trained with `-ln σ(s(u, i⁺) − s(u, i⁻))`
//! for each training interaction and one uniform negative the user did not
//! interact with in training (Rendle et al. 2009; RecBole `BPR`, Xavier-normal
//! initialisation).

use burn::module::{Module, Param};
use burn::tensor::activation;
use burn::tensor::{Tensor, backend::Backend};

use crate::batch::{TrainData, UserQuery, ints};
use crate::config::BprMfConfig;
use crate::models::{Baseline, Step};
use crate::nn::{Init, sample_negative};

/// User and item embeddings.
#[derive(Module, Debug)]
pub(crate) struct BprMf<B: Backend> {
    users: Param<Tensor<B, 2>>,
    items: Param<Tensor<B, 2>>,
}

impl<B: Backend> BprMf<B> {
    pub(crate) fn new(
        init: &mut Init<'_, B>,
        config: &BprMfConfig,
        users: usize,
        items: usize,
    ) -> Self {
        BprMf {
            users: init.xavier_normal([users, config.embedding_size]),
            items: init.xavier_normal([items, config.embedding_size]),
        }
    }
}

impl<B: Backend> Baseline<B> for BprMf<B> {
    fn units(&self, data: &TrainData) -> Vec<u32> {
        (0..data.pairs.len() as u32).collect()
    }

    fn loss(&self, step: &mut Step<'_, B>) -> Tensor<B, 1> {
        let (data, units, device) = (step.data, step.units, step.device);
        let rng = step.noise.rng().expect("training draws negatives");
        let mut users = Vec::with_capacity(units.len());
        let mut positives = Vec::with_capacity(units.len());
        let mut negatives = Vec::with_capacity(units.len());
        for &unit in units {
            let (user, item) = data.pairs[unit as usize];
            users.push(i64::from(user));
            positives.push(i64::from(item));
            negatives.push(i64::from(sample_negative(
                rng,
                data.items,
                &data.seen[user as usize],
            )));
        }
        let u = self.users.val().select(0, ints(&users, device));
        let p = self.items.val().select(0, ints(&positives, device));
        let n = self.items.val().select(0, ints(&negatives, device));
        let margin = (u * (p - n)).sum_dim(1);
        activation::log_sigmoid(margin).mean().neg()
    }

    fn scores(&self, queries: &[UserQuery<'_>], device: &B::Device) -> Tensor<B, 2> {
        let users: Vec<i64> = queries.iter().map(|q| i64::from(q.user.0)).collect();
        let u = self.users.val().select(0, ints(&users, device));
        u.matmul(self.items.val().transpose())
    }
}

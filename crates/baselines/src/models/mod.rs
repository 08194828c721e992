//! The trained baselines. Each implements [`Recommender`] for every backend:
//! a training loss over a batch of units (users, or (user, item) pairs for
//! BPR-MF) and full-catalogue scores for evaluation queries.

use burn::module::Module;
use burn::tensor::{Tensor, backend::Backend};

use crate::batch::{Query, TrainData};
use crate::nn::Noise;

pub(crate) mod bert4rec;
pub(crate) mod bpr;
pub(crate) mod gru4rec;
pub(crate) mod sasrec;

/// What the training loop and the evaluator need from a model.
pub(crate) trait Recommender<B: Backend>: Module<B> {
    /// How many training units one epoch shuffles and visits, and which:
    /// unit ids that [`Recommender::loss`] understands.
    fn units(&self, data: &TrainData) -> Vec<u32>;

    /// A unit's sequence length, for grouping similar lengths into batches
    /// (1 for models without sequences).
    fn unit_len(&self, _data: &TrainData, _unit: u32) -> usize {
        1
    }

    /// The mean loss over `units`; randomness (negatives, masks, dropout)
    /// comes from `noise`.
    fn loss(
        &self,
        data: &TrainData,
        units: &[u32],
        noise: &mut Noise<'_>,
        device: &B::Device,
    ) -> Tensor<B, 1>;

    /// Scores `[queries, items]` over the whole catalogue (column `i` is
    /// `ItemIdx(i)`), in evaluation mode.
    fn scores(&self, queries: &[Query<'_>], device: &B::Device) -> Tensor<B, 2>;
}

#[cfg(test)]
mod tests {
    use burn::backend::Flex;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use recalign_data::{Event, ItemIdx, UserIdx};

    use super::*;
    use crate::config::{Bert4RecConfig, BprMfConfig, Gru4RecConfig, SasRecConfig};
    use crate::nn::Init;

    const ITEMS: usize = 7;

    fn events(items: &[u32]) -> Vec<Event> {
        items
            .iter()
            .map(|&i| Event::new(ItemIdx(i), None, None))
            .collect()
    }

    /// A user's scores do not depend on who shares the batch: padding is
    /// invisible to real positions (causal or masked attention, GRU order).
    fn padding_invariant<M: Recommender<Flex>>(model: &M) {
        let device = Default::default();
        let short = events(&[1, 4]);
        let long = events(&[0, 2, 3, 5, 6, 1]);
        let query = |history| Query {
            user: UserIdx(0),
            history,
        };
        let alone = model.scores(&[query(&short)], &device).into_data();
        let batched = model
            .scores(&[query(&short), query(&long)], &device)
            .into_data();
        let alone = alone.to_vec::<f32>().unwrap();
        let batched = batched.to_vec::<f32>().unwrap();
        assert_eq!(alone.len(), ITEMS);
        for (a, b) in alone.iter().zip(&batched[..ITEMS]) {
            assert!((a - b).abs() < 1e-5, "{alone:?} vs {:?}", &batched[..ITEMS]);
        }
    }

    fn init_rng() -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(7)
    }

    #[test]
    fn sequence_models_ignore_padding() {
        let device = Default::default();
        let mut rng = init_rng();
        let mut init = Init::<Flex>::new(&mut rng, &device);
        let sasrec = sasrec::SasRec::new(
            &mut init,
            &SasRecConfig {
                hidden: 8,
                inner: 16,
                ..SasRecConfig::default()
            },
            ITEMS,
        );
        padding_invariant(&sasrec);
        let bert = bert4rec::Bert4Rec::new(
            &mut init,
            &Bert4RecConfig {
                hidden: 8,
                inner: 16,
                ..Bert4RecConfig::default()
            },
            ITEMS,
        );
        padding_invariant(&bert);
        let gru = gru4rec::Gru4Rec::new(
            &mut init,
            &Gru4RecConfig {
                embedding_size: 8,
                hidden_size: 8,
                ..Gru4RecConfig::default()
            },
            ITEMS,
        );
        padding_invariant(&gru);
        let bpr = bpr::BprMf::new(&mut init, &BprMfConfig { embedding_size: 4 }, 1, ITEMS);
        padding_invariant(&bpr);
    }
}

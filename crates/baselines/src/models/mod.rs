//! The trained baselines. [`Baseline`] is what the training loop and
//! the evaluator call: a training loss over a batch of units (users, or
//! (user, item) pairs for BPR-MF) and full-catalogue scores for evaluation
//! queries. BPR-MF implements it directly; the sequence models implement
//! [`SequenceModel`], saying only how they encode tokens and score outputs
//! (and where they differ in batches or loss), while one implementation
//! supplies the units, the length grouping, training and evaluation.

use burn::module::Module;
use burn::tensor::Device;
use burn::tensor::{Tensor, backend::Backend};

use crate::batch::{Padded, TrainBatch, TrainData, UserQuery, history_tokens, ints};
use crate::nn::{Noise, cross_entropy};

pub(crate) mod bert4rec;
pub(crate) mod bpr;
pub(crate) mod gru4rec;
pub(crate) mod sasrec;

/// One training step: a batch of units and what computing its loss needs.
pub(crate) struct Step<'a, B: Backend> {
    /// The training split.
    pub data: &'a TrainData,
    /// The batch: unit ids from [`Recommender::units`].
    pub units: &'a [u32],
    /// Negatives, masks and dropout.
    pub noise: Noise<'a>,
    /// Where the batch's tensors go.
    pub device: &'a B::Device,
}

/// What the training loop and the evaluator need from a model.
pub(crate) trait Baseline<B: Backend>: Module<B> {
    /// How many training units one epoch shuffles and visits, and which:
    /// unit ids that [`Recommender::loss`] understands.
    fn units(&self, data: &TrainData) -> Vec<u32>;

    /// A unit's sequence length, for grouping similar lengths into batches
    /// (1 for models without sequences).
    fn unit_len(&self, _data: &TrainData, _unit: u32) -> usize {
        1
    }

    /// The mean loss over the step's units.
    fn loss(&self, step: &mut Step<'_, B>) -> Tensor<B, 1>;

    /// Scores `[queries, items]` over the whole catalogue (column `i` is
    /// `ItemIdx(i)`), in evaluation mode.
    fn scores(&self, queries: &[UserQuery<'_>], device: &B::Device) -> Tensor<B, 2>;
}

/// A model over item sequences: a unit is a user, trained on the last
/// items of their training sequence and scored after their history.
///
/// The backend is an associated type rather than a parameter so that the
/// blanket [`Baseline`] implementation below cannot overlap BPR-MF's.
pub(crate) trait SequenceModel {
    /// The backend the model's tensors live on.
    type Backend: Backend;

    /// The fewest training items a user needs to train on (an input and
    /// the next item).
    const MIN_TRAIN_LEN: usize = 2;

    /// The most recent items read.
    fn max_len(&self) -> usize;

    /// Outputs `[batch · len, width]` for every position.
    fn encode(
        &self,
        inputs: &Padded,
        noise: &mut Noise<'_>,
        device: &Device<Self::Backend>,
    ) -> Tensor<Self::Backend, 2>;

    /// Scores `[rows, items]` of output rows.
    fn logits(&self, out: Tensor<Self::Backend, 2>) -> Tensor<Self::Backend, 2>;

    /// The step's inputs and targets: next-item training at every position
    /// of each user's last `max_len + 1` items.
    fn batch(&self, step: &mut Step<'_, Self::Backend>) -> TrainBatch {
        TrainBatch::next_item(step.data, step.units, self.max_len())
    }

    /// The loss of the outputs at the batch's target positions (any draw it
    /// makes follows the forward pass's dropout masks): softmax
    /// cross-entropy over the catalogue.
    fn objective(
        &self,
        out: Tensor<Self::Backend, 2>,
        batch: &TrainBatch,
        _step: &mut Step<'_, Self::Backend>,
    ) -> Tensor<Self::Backend, 1> {
        cross_entropy(self.logits(out), &batch.targets)
    }

    /// Evaluation inputs, each scored at its last token: the last `max_len`
    /// history items.
    fn query_tokens(&self, queries: &[UserQuery<'_>]) -> Padded {
        history_tokens(queries, self.max_len())
    }
}

impl<B: Backend, M: SequenceModel<Backend = B> + Module<B>> Baseline<B> for M {
    fn units(&self, data: &TrainData) -> Vec<u32> {
        data.users_with_at_least(M::MIN_TRAIN_LEN)
    }

    fn unit_len(&self, data: &TrainData, unit: u32) -> usize {
        data.sequences[unit as usize].len().min(self.max_len() + 1)
    }

    fn loss(&self, step: &mut Step<'_, B>) -> Tensor<B, 1> {
        let batch = self.batch(step);
        let device = step.device;
        let out = self
            .encode(&batch.inputs, &mut step.noise, device)
            .select(0, ints(&batch.positions, device));
        self.objective(out, &batch, step)
    }

    fn scores(&self, queries: &[UserQuery<'_>], device: &B::Device) -> Tensor<B, 2> {
        let inputs = self.query_tokens(queries);
        let out = self
            .encode(&inputs, &mut Noise::off(), device)
            .select(0, ints(&inputs.last_positions(), device));
        self.logits(out)
    }
}

#[cfg(test)]
mod tests {
    use burn::backend::Flex;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use recalign_data::{Event, ItemIdx, UserIdx};

    use super::*;
    use crate::config::{
        Bert4RecConfig, BprMfConfig, Gru4RecConfig, SasRecConfig, TransformerConfig,
    };
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
    fn padding_invariant<M: Baseline<Flex>>(model: &M) {
        let device = Default::default();
        let short = events(&[1, 4]);
        let long = events(&[0, 2, 3, 5, 6, 1]);
        let query = |history| UserQuery {
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
        let narrow = |transformer| TransformerConfig {
            hidden: 8,
            inner: 16,
            ..transformer
        };
        let mut sasrec = SasRecConfig::default();
        sasrec.transformer = narrow(sasrec.transformer);
        padding_invariant(&sasrec::SasRec::new(&mut init, &sasrec, ITEMS));
        let mut bert = Bert4RecConfig::default();
        bert.transformer = narrow(bert.transformer);
        padding_invariant(&bert4rec::Bert4Rec::new(&mut init, &bert, ITEMS));
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

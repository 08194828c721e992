//! Beam search constrained to an [`ItemTrie`], batched over users.
//!
//! Every hypothesis is a path in the trie, so only tokens that continue some
//! item are ever scored; a hypothesis that reaches an item's end is
//! finished and cannot be extended. Scores are sums of token
//! log-probabilities (no length normalisation: identifiers of one
//! catalogue are of similar length, and a sum keeps the search exact once
//! the beam covers the trie). A user's search stops when K items are
//! finished and no live hypothesis can still beat the K-th (log-probabilities
//! only fall), or when nothing is left alive.

use burn::tensor::activation::log_softmax;
use burn::tensor::{Int, Tensor, TensorData, backend::Backend};
use recalign_t5::{DecoderCache, Encoded, T5};

use crate::trie::{ItemTrie, NodeId};

/// A finished item with its sequence log-probability.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hypothesis {
    /// Index of the item in the trie.
    pub item: usize,
    /// Sum of its tokens' log-probabilities.
    pub score: f32,
}

/// The model side of the search.
pub trait StepScorer {
    /// Rearranges the rows to `parents` (indices into the previous call's
    /// rows; on the first call, into the users), appends `tokens` (one per
    /// row) and returns each row's next-token log-probabilities over the
    /// whole vocabulary.
    fn next(&mut self, parents: &[usize], tokens: &[u32]) -> Vec<Vec<f32>>;
}

#[derive(Debug, Clone, Copy)]
struct Alive {
    user: usize,
    node: NodeId,
    score: f32,
}

/// Runs the search for `users` users (the scorer's initial rows), keeping
/// `beams` (at least `k`) live hypotheses per user, and returns each user's
/// best `k` items, best first (fewer only if the catalogue is smaller).
pub fn search(
    scorer: &mut dyn StepScorer,
    trie: &ItemTrie,
    users: usize,
    beams: usize,
    k: usize,
    start_token: u32,
) -> Vec<Vec<Hypothesis>> {
    let mut finished: Vec<Vec<Hypothesis>> = vec![Vec::new(); users];
    let mut alive: Vec<Alive> = (0..users)
        .map(|user| Alive {
            user,
            node: trie.root(),
            score: 0.0,
        })
        .collect();
    let mut parents: Vec<usize> = (0..users).collect();
    let mut tokens = vec![start_token; users];
    // Fewer live hypotheses than K could finish fewer than K items.
    let beams = beams.max(k).max(1);
    while !alive.is_empty() {
        let log_probs = scorer.next(&parents, &tokens);
        let mut candidates: Vec<Vec<(f32, usize, u32, NodeId)>> = vec![Vec::new(); users];
        for (row, hypothesis) in alive.iter().enumerate() {
            for &(token, child) in trie.children(hypothesis.node) {
                let score = hypothesis.score + log_probs[row][token as usize];
                candidates[hypothesis.user].push((score, row, token, child));
            }
        }
        let (mut next_alive, mut next_parents, mut next_tokens) =
            (Vec::new(), Vec::new(), Vec::new());
        for (user, mut options) in candidates.into_iter().enumerate() {
            options.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.2.cmp(&b.2)));
            let mut kept = Vec::new();
            for (score, row, token, child) in options {
                match trie.item(child) {
                    Some(item) => finished[user].push(Hypothesis { item, score }),
                    None if kept.len() < beams => kept.push((score, row, token, child)),
                    None => {}
                }
            }
            let done = &mut finished[user];
            done.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.item.cmp(&b.item)));
            if done.len() >= k && kept.first().is_none_or(|best| best.0 <= done[k - 1].score) {
                continue;
            }
            for (score, row, token, child) in kept {
                next_alive.push(Alive {
                    user,
                    node: child,
                    score,
                });
                next_parents.push(row);
                next_tokens.push(token);
            }
        }
        alive = next_alive;
        parents = next_parents;
        tokens = next_tokens;
    }
    for done in &mut finished {
        done.truncate(k);
    }
    finished
}

/// T5 as a [`StepScorer`]: the encoder runs once, the decoder one token at
/// a time with its KV cache, rows following the surviving hypotheses.
pub struct T5Scorer<'a, B: Backend> {
    model: &'a T5<B>,
    cache: DecoderCache<B>,
    device: B::Device,
}

impl<'a, B: Backend> T5Scorer<'a, B> {
    /// A scorer over the users of `encoded` (one row each).
    pub fn new(model: &'a T5<B>, encoded: &Encoded<B>) -> Self {
        Self {
            model,
            cache: model.start_decoding(encoded),
            device: encoded.hidden.device(),
        }
    }
}

impl<B: Backend> StepScorer for T5Scorer<'_, B> {
    fn next(&mut self, parents: &[usize], tokens: &[u32]) -> Vec<Vec<f32>> {
        let device = &self.device;
        let rows: Vec<i64> = parents.iter().map(|&p| p as i64).collect();
        let rows = Tensor::<B, 1, Int>::from_data(TensorData::new(rows, [parents.len()]), device);
        self.cache.select(rows);
        let tokens: Vec<i64> = tokens.iter().map(|&t| t as i64).collect();
        let tokens =
            Tensor::<B, 1, Int>::from_data(TensorData::new(tokens, [parents.len()]), device);
        let logits = self.model.decode_step(&mut self.cache, tokens);
        let [rows, vocab] = logits.dims();
        let values = log_softmax(logits, 1)
            .into_data()
            .convert::<f32>()
            .to_vec::<f32>()
            .expect("f32 log-probabilities");
        (0..rows)
            .map(|r| values[r * vocab..(r + 1) * vocab].to_vec())
            .collect()
    }
}

//! Beam search constrained to an [`ItemTrie`], batched over users.
//!
//! Every hypothesis is a path in the trie, so only tokens that continue some
//! item are ever scored; a hypothesis that reaches an item's end is
//! finished and cannot be extended. An item is scored by the sum of its
//! tokens' log-probabilities ([`Scoring::Sum`], the default: identifiers of
//! one catalogue are of similar length, and a sum keeps the search exact
//! once the beam covers the trie) or by their mean ([`Scoring::PerToken`],
//! length normalisation). A user's search stops when K items are finished
//! and no live hypothesis can still beat the K-th (log-probabilities only
//! fall), or when nothing is left alive.
//!
//! Items a user must not be recommended (their history, when the protocol
//! excludes it) are cut out of that user's trie: the search never enters a
//! subtree whose items are all excluded, so excluded items take no beam
//! slot and the K returned items are K allowed ones.
//!
//! A scorer may refuse a step it cannot take (a grouped [`T5Scorer`] asked
//! for more hypotheses per user than it has rows): [`search`] returns that
//! as a [`SearchError`].

use burn::tensor::backend::Backend;
use recalign_t5::{DecoderCache, Encoded, T5};

use crate::int_tensor;
use crate::trie::{BlockedNodes, ItemTrie, NodeId};

/// A finished item with its score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hypothesis {
    /// Index of the item in the trie.
    pub item: usize,
    /// Its score under the search's [`Scoring`].
    pub score: f32,
    /// Sum of its tokens' log-probabilities.
    pub log_prob: f32,
}

/// How a finished item is scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scoring {
    /// Sequence log-probability.
    #[default]
    Sum,
    /// Mean token log-probability (length-normalised).
    PerToken,
}

/// The settings of one search.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchConfig {
    /// Live hypotheses kept per user (raised to `k` if smaller).
    pub beams: usize,
    /// Items returned per user.
    pub k: usize,
    /// The decoder's start token.
    pub start_token: u32,
    /// How finished items are scored.
    pub scoring: Scoring,
}

impl SearchConfig {
    /// `beams` beams, top `k`, sequence log-probability.
    pub fn new(beams: usize, k: usize, start_token: u32) -> Self {
        Self {
            beams,
            k,
            start_token,
            scoring: Scoring::Sum,
        }
    }
}

/// Why a search could not go on.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SearchError {
    /// A user has more live hypotheses than the scorer holds decoder rows
    /// for (a [`T5Scorer::grouped`] smaller than the search's beams).
    #[error(
        "user {user} has more than {group} live hypotheses, the rows the scorer holds per user; \
         group the scorer by at least the search's beams"
    )]
    TooManyHypotheses {
        /// The user (the scorer's row of the encoder output).
        user: usize,
        /// The rows the scorer holds per user.
        group: usize,
    },
}

/// The model side of the search.
pub trait StepScorer {
    /// Rearranges the rows to `parents` (indices into the previous call's
    /// rows; on the first call, into the users), appends `tokens` (one per
    /// row) and returns, for each row, the next-token log-probabilities of
    /// the `wanted` tokens (sorted, distinct), in that order. The
    /// probabilities are normalised over the whole vocabulary. A scorer
    /// that cannot take the step says why.
    fn next(
        &mut self,
        parents: &[usize],
        tokens: &[u32],
        wanted: &[u32],
    ) -> Result<Vec<Vec<f32>>, SearchError>;
}

#[derive(Debug, Clone, Copy)]
struct Alive {
    user: usize,
    node: NodeId,
    log_prob: f32,
}

/// A scored extension of a live hypothesis.
#[derive(Debug, Clone, Copy)]
struct Extension {
    log_prob: f32,
    row: usize,
    token: u32,
    node: NodeId,
}

/// Runs the search for `users` users (the scorer's initial rows) and
/// returns each user's best `k` items, best first (fewer only if the
/// catalogue, less the user's exclusions, is smaller).
///
/// `excluded[u]` lists items never returned to user `u`; users past the
/// end of `excluded` have none. Fails where the scorer refuses a step.
pub fn search(
    scorer: &mut dyn StepScorer,
    trie: &ItemTrie,
    users: usize,
    config: &SearchConfig,
    excluded: &[Vec<usize>],
) -> Result<Vec<Vec<Hypothesis>>, SearchError> {
    let k = config.k;
    // Fewer live hypotheses than K could finish fewer than K items.
    let beams = config.beams.max(k).max(1);
    let longest = trie.max_len().max(1) as f32;
    let mut finished: Vec<Vec<Hypothesis>> = vec![Vec::new(); users];
    let mut alive: Vec<Alive> = (0..users)
        .map(|user| Alive {
            user,
            node: trie.root(),
            log_prob: 0.0,
        })
        .collect();
    let mut parents: Vec<usize> = (0..users).collect();
    let mut tokens = vec![config.start_token; users];
    let blocked: Vec<BlockedNodes> = excluded.iter().map(|items| trie.blocked(items)).collect();
    let none = BlockedNodes::default();
    let mut depth = 0usize;
    while !alive.is_empty() {
        depth += 1;
        let mut wanted: Vec<u32> = alive
            .iter()
            .flat_map(|a| trie.children(a.node).iter().map(|c| c.0))
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        if wanted.is_empty() {
            break;
        }
        let log_probs = scorer.next(&parents, &tokens, &wanted)?;
        let mut options: Vec<Vec<Extension>> = vec![Vec::new(); users];
        for (row, hypothesis) in alive.iter().enumerate() {
            let blocked = blocked.get(hypothesis.user).unwrap_or(&none);
            for &(token, node) in trie.children(hypothesis.node) {
                if blocked.contains(node) {
                    continue;
                }
                let column = wanted
                    .binary_search(&token)
                    .expect("wanted holds every child");
                options[hypothesis.user].push(Extension {
                    log_prob: hypothesis.log_prob + log_probs[row][column],
                    row,
                    token,
                    node,
                });
            }
        }
        let (mut next_alive, mut next_parents, mut next_tokens) =
            (Vec::new(), Vec::new(), Vec::new());
        for (user, mut options) in options.into_iter().enumerate() {
            // All live hypotheses have the same length, so the sum orders
            // them under either scoring.
            options.sort_by(|a, b| {
                b.log_prob
                    .total_cmp(&a.log_prob)
                    .then(a.token.cmp(&b.token))
            });
            let mut kept: Vec<Extension> = Vec::new();
            for option in options {
                match trie.item(option.node) {
                    Some(item) => finished[user].push(Hypothesis {
                        item,
                        score: match config.scoring {
                            Scoring::Sum => option.log_prob,
                            Scoring::PerToken => option.log_prob / depth as f32,
                        },
                        log_prob: option.log_prob,
                    }),
                    None if kept.len() < beams => kept.push(option),
                    None => {}
                }
            }
            let done = &mut finished[user];
            done.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.item.cmp(&b.item)));
            done.truncate(k);
            // The best any live hypothesis can still score.
            let bound = kept.first().map(|best| match config.scoring {
                Scoring::Sum => best.log_prob,
                Scoring::PerToken => best.log_prob / longest,
            });
            if done.len() >= k && bound.is_none_or(|b| b <= done[k - 1].score) {
                continue;
            }
            for option in kept {
                next_alive.push(Alive {
                    user,
                    node: option.node,
                    log_prob: option.log_prob,
                });
                next_parents.push(option.row);
                next_tokens.push(option.token);
            }
        }
        alive = next_alive;
        parents = next_parents;
        tokens = next_tokens;
    }
    Ok(finished)
}

/// T5 as a [`StepScorer`]: the encoder runs once, the decoder one token at
/// a time with its KV cache, rows following the surviving hypotheses. Only
/// the wanted columns of the log-probabilities are formed: each row's
/// normaliser is computed once over the vocabulary, and only the wanted
/// logits are gathered and leave the device.
///
/// [`T5Scorer::grouped`] keeps `group` decoder rows per user (padding the
/// users with fewer live hypotheses), so the encoder memory stays one row
/// per user and each user's beams attend to it together; only the short
/// self-attention cache is reordered each step. A user whose search has
/// ended is dropped from the batch, encoder memory and all, at the next
/// step.
pub struct T5Scorer<'a, B: Backend> {
    model: &'a T5<B>,
    cache: DecoderCache<B>,
    device: B::Device,
    group: usize,
    /// Grouped: the users (encoder rows) the cache holds now.
    slots: usize,
    /// Grouped: the decoder row of each hypothesis of the previous call.
    placed: Vec<usize>,
    first: bool,
}

impl<'a, B: Backend> T5Scorer<'a, B> {
    /// A scorer over the users of `encoded` (one row each), one decoder
    /// row per hypothesis.
    pub fn new(model: &'a T5<B>, encoded: &Encoded<B>) -> Self {
        Self::grouped(model, encoded, 1)
    }

    /// A scorer holding `group` decoder rows per user: at most `group`
    /// live hypotheses per user (the search's beams) are allowed, and a
    /// step with more fails with [`SearchError::TooManyHypotheses`].
    pub fn grouped(model: &'a T5<B>, encoded: &Encoded<B>, group: usize) -> Self {
        Self {
            model,
            cache: model.start_grouped_decoding(encoded, group),
            device: encoded.hidden.device(),
            group: group.max(1),
            slots: encoded.hidden.dims()[0],
            placed: Vec::new(),
            first: true,
        }
    }

    /// The users whose decoder rows and encoder memory the scorer still
    /// holds: all of them at the start, fewer once some searches end
    /// (grouped scorers only; an ungrouped one holds one row per live
    /// hypothesis instead).
    pub fn users_held(&self) -> usize {
        self.slots
    }

    /// Grouped layout of this step: the users kept (previous slots, in
    /// order), each hypothesis's decoder row, and the previous row and the
    /// token of every decoder row (idle rows repeat a row of their user
    /// and read the pad token).
    fn place(&self, parents: &[usize], tokens: &[u32]) -> Result<Grouped, SearchError> {
        let group = self.group;
        let from: Vec<usize> = parents
            .iter()
            .map(|&parent| match self.first {
                true => parent * group,
                false => self.placed[parent],
            })
            .collect();
        let mut live = vec![false; self.slots];
        for &row in &from {
            live[row / group] = true;
        }
        let kept: Vec<usize> = (0..self.slots).filter(|&slot| live[slot]).collect();
        let mut slot_of = vec![usize::MAX; self.slots];
        for (new, &old) in kept.iter().enumerate() {
            slot_of[old] = new;
        }
        let rows = kept.len() * group;
        let mut source: Vec<u32> = kept
            .iter()
            .flat_map(|&old| (old * group..(old + 1) * group).map(|row| row as u32))
            .collect();
        let mut fed = vec![self.model.config().pad_token_id; rows];
        let mut used = vec![0usize; kept.len()];
        let mut placed = Vec::with_capacity(parents.len());
        for (&row, &token) in from.iter().zip(tokens) {
            let user = row / group;
            let slot = slot_of[user];
            if used[slot] == group {
                return Err(SearchError::TooManyHypotheses { user, group });
            }
            let at = slot * group + used[slot];
            used[slot] += 1;
            source[at] = row as u32;
            fed[at] = token;
            placed.push(at);
        }
        let kept = (kept.len() < self.slots).then_some(kept);
        Ok(Grouped {
            kept,
            placed,
            source,
            fed,
        })
    }
}

/// Where a grouped step's hypotheses go.
struct Grouped {
    /// The previous slots still searching, when some have ended.
    kept: Option<Vec<usize>>,
    /// Each hypothesis's decoder row.
    placed: Vec<usize>,
    /// Every decoder row's previous row.
    source: Vec<u32>,
    /// Every decoder row's token.
    fed: Vec<u32>,
}

impl<B: Backend> StepScorer for T5Scorer<'_, B> {
    fn next(
        &mut self,
        parents: &[usize],
        tokens: &[u32],
        wanted: &[u32],
    ) -> Result<Vec<Vec<f32>>, SearchError> {
        let device = &self.device;
        let (placed, source, fed) = if self.group > 1 {
            let step = self.place(parents, tokens)?;
            if let Some(kept) = step.kept {
                let groups: Vec<u32> = kept.iter().map(|&slot| slot as u32).collect();
                self.cache.keep_groups(int_tensor(&groups, device));
                self.slots = kept.len();
            }
            (step.placed, step.source, step.fed)
        } else {
            let rows: Vec<u32> = parents.iter().map(|&p| p as u32).collect();
            ((0..parents.len()).collect(), rows, tokens.to_vec())
        };
        self.cache.select(int_tensor(&source, device));
        let logits = self
            .model
            .decode_step(&mut self.cache, int_tensor(&fed, device));
        let logits = if self.group > 1 {
            let rows: Vec<u32> = placed.iter().map(|&r| r as u32).collect();
            logits.select(0, int_tensor(&rows, device))
        } else {
            logits
        };
        self.placed = placed;
        self.first = false;
        let rows = logits.dims()[0];
        // log p = logit − log Σ exp(logits), the normaliser once per row.
        let max = logits.clone().max_dim(1);
        let normaliser = (logits.clone() - max.clone()).exp().sum_dim(1).log() + max;
        let values = (logits.select(1, int_tensor(wanted, device)) - normaliser)
            .into_data()
            .convert::<f32>()
            .to_vec::<f32>()
            .expect("f32 log-probabilities");
        Ok(values
            .chunks(wanted.len().max(1))
            .take(rows)
            .map(<[f32]>::to_vec)
            .collect())
    }
}

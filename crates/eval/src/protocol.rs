//! What an evaluation measures, so that every model is measured alike and
//! every report says how (peers.md §4.2: "always print the protocol").
//!
//! The tasks follow paper.md §7 and §9.2, leave-one-out over the prepared
//! split:
//!
//! - [`ProtocolTask::Retrieval`]: the held-out item ranked against the **whole
//!   catalogue** (full ranking, not sampled), history items **kept** by
//!   default (§9.2 #20, as TIGER and P5), optionally excluded.
//! - [`ProtocolTask::Ranking`]: the held-out item among `candidates − 1` uniform
//!   negatives the user never interacted with (§9.2 #9: 1 + 99, P5's direct
//!   recommendation), from the seeded lists of
//!   [`recalign_data::candidates`] that the ranking samples use too. History
//!   items are never candidates, so there is nothing to exclude.
//! - [`ProtocolTask::Rating`]: the held-out interaction's rating (§9.2 #13:
//!   leave-one-out over the same chronology).
//!
//! [`Protocol::cases`] yields each user's [`Case`]: the history, the target,
//! and the candidates or excluded items the protocol implies.

use std::fmt;

use recalign_data::candidates::candidates_for;
use recalign_data::{Dataset, Event, HeldOut, ItemIdx, Split, UserIdx};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::metrics::DEFAULT_KS;

/// Candidates per list in the ranking task, the target included (P5: 100).
pub const DEFAULT_CANDIDATES: usize = 100;

/// Seed of the ranking candidate lists: the ranking samples' default seed,
/// so models are evaluated on the lists their validation samples show.
pub const DEFAULT_CANDIDATE_SEED: u64 = 42;

/// How ranking negatives are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sampler {
    /// Uniformly among the items the user never interacted with.
    Uniform,
}

/// A seeded subset of the users of a protocol: `users` of them, drawn
/// uniformly without replacement from the `seed`'s own random stream
/// (`eval/users`), so the same count and seed name the same users in
/// `recalign evaluate --users N --users-seed S` and in training's periodic
/// validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UserSample {
    /// How many users.
    pub users: usize,
    /// The draw's seed.
    pub seed: u64,
}

impl UserSample {
    /// The indices chosen among `total` cases, ascending.
    pub fn choose(self, total: usize) -> Vec<usize> {
        use rand::seq::index::sample;
        let mut rng = recalign_data::ids::seeded_rng(self.seed, "eval/users");
        let mut chosen = sample(&mut rng, total, self.users.min(total)).into_vec();
        chosen.sort_unstable();
        chosen
    }
}

/// The task and its settings.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum ProtocolTask {
    /// Full ranking of the catalogue.
    Retrieval {
        /// Whether the user's history items are left out of the ranking.
        exclude_history: bool,
    },
    /// Ranking of a candidate list: the target plus sampled negatives.
    Ranking {
        /// List length, the target included.
        candidates: usize,
        /// How negatives are drawn.
        sampler: Sampler,
        /// Seed of the lists.
        seed: u64,
    },
    /// Rating prediction of the held-out interaction.
    Rating,
}

/// A complete evaluation protocol.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Protocol {
    /// `valid` or `test`.
    pub split: Split,
    /// What is evaluated.
    pub task: ProtocolTask,
    /// Cut-offs of the ranking metrics (unused for rating).
    #[serde(default = "default_ks")]
    pub ks: Vec<usize>,
}

fn default_ks() -> Vec<usize> {
    DEFAULT_KS.to_vec()
}

impl Default for Protocol {
    /// Retrieval on the test split, the paper's headline protocol.
    fn default() -> Self {
        Protocol::retrieval(Split::Test)
    }
}

impl Protocol {
    /// Full ranking on `split`, history kept, K = 1, 5, 10, 20.
    pub fn retrieval(split: Split) -> Self {
        Protocol {
            split,
            task: ProtocolTask::Retrieval {
                exclude_history: false,
            },
            ks: default_ks(),
        }
    }

    /// Full ranking on `split`, the user's history items kept or, with
    /// `exclude_history`, left out.
    pub fn retrieval_with(split: Split, exclude_history: bool) -> Self {
        Protocol {
            task: ProtocolTask::Retrieval { exclude_history },
            ..Protocol::retrieval(split)
        }
    }

    /// Ranking of 1 target + 99 uniform negatives on `split`.
    pub fn ranking(split: Split) -> Self {
        Protocol::ranking_with(split, DEFAULT_CANDIDATES, DEFAULT_CANDIDATE_SEED)
    }

    /// Ranking on `split` of lists of `candidates` items (the target and
    /// uniform negatives) drawn with `seed`: the lists of ranking samples
    /// written with the same length and seed.
    pub fn ranking_with(split: Split, candidates: usize, seed: u64) -> Self {
        Protocol {
            split,
            task: ProtocolTask::Ranking {
                candidates,
                sampler: Sampler::Uniform,
                seed,
            },
            ks: default_ks(),
        }
    }

    /// Rating prediction on `split`.
    pub fn rating(split: Split) -> Self {
        Protocol {
            split,
            task: ProtocolTask::Rating,
            ks: default_ks(),
        }
    }

    /// Checks that the split is held out, that ranking tasks have cut-offs
    /// of at least 1, and that candidate lists hold a negative.
    pub fn validate(&self) -> Result<()> {
        if self.split == Split::Train {
            return Err(Error::Protocol(
                "evaluation is on the valid or test split, not train".to_string(),
            ));
        }
        if let ProtocolTask::Ranking { candidates, .. } = self.task
            && candidates < 2
        {
            return Err(Error::Protocol(format!(
                "a candidate list needs the target and at least one negative, not {candidates}"
            )));
        }
        if self.is_ranking() && (self.ks.is_empty() || self.ks.contains(&0)) {
            return Err(Error::Protocol(format!(
                "cut-offs K must be at least 1, and at least one is needed (got {:?})",
                self.ks
            )));
        }
        Ok(())
    }

    /// Whether the task ranks items (retrieval or ranking).
    pub fn is_ranking(&self) -> bool {
        !matches!(self.task, ProtocolTask::Rating)
    }

    /// Whether history items are left out of the ranking.
    pub fn excludes_history(&self) -> bool {
        matches!(
            self.task,
            ProtocolTask::Retrieval {
                exclude_history: true
            }
        )
    }

    /// The largest cut-off: how many items a retrieval list keeps.
    pub fn max_k(&self) -> usize {
        self.ks.iter().copied().max().unwrap_or(0)
    }

    /// The cases of the users `sample` picks (every user for `None`), in
    /// user order: what an evaluation on a subset of users asks, for a model
    /// and the floors beside it alike.
    pub fn sampled_cases<'d>(
        &'d self,
        dataset: &'d Dataset,
        sample: Option<UserSample>,
    ) -> Vec<Case<'d>> {
        let cases: Vec<Case<'d>> = self.cases(dataset).collect();
        match sample {
            Some(sample) if sample.users < cases.len() => {
                let chosen = sample.choose(cases.len());
                let mut keep = chosen.into_iter().peekable();
                cases
                    .into_iter()
                    .enumerate()
                    .filter(|(i, _)| keep.next_if_eq(i).is_some())
                    .map(|(_, case)| case)
                    .collect()
            }
            _ => cases,
        }
    }

    /// Each user's case for this protocol, in user order. Users without a
    /// held-out interaction of the split (none after preparation, which
    /// keeps users with at least 3) are not yielded.
    pub fn cases<'d>(&'d self, dataset: &'d Dataset) -> impl Iterator<Item = Case<'d>> + 'd {
        dataset
            .held_out_all(self.split)
            .map(move |held| self.case(dataset, held))
    }

    /// The case of one held-out interaction.
    pub fn case<'d>(&self, dataset: &Dataset, held: HeldOut<'d>) -> Case<'d> {
        let candidates = match self.task {
            ProtocolTask::Ranking {
                candidates, seed, ..
            } => candidates_for(dataset, held.user, self.split, candidates, seed),
            ProtocolTask::Retrieval { .. } | ProtocolTask::Rating => None,
        };
        let excluded = if self.excludes_history() {
            let mut items: Vec<ItemIdx> = held
                .history
                .iter()
                .map(|e| e.item)
                .filter(|&i| i != held.target.item)
                .collect();
            items.sort_unstable();
            items.dedup();
            items
        } else {
            Vec::new()
        };
        Case {
            held,
            candidates,
            excluded,
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.split)?;
        match self.task {
            ProtocolTask::Retrieval { exclude_history } => write!(
                f,
                "retrieval, full ranking over the catalogue, history items {}",
                if exclude_history { "excluded" } else { "kept" }
            ),
            ProtocolTask::Ranking {
                candidates,
                sampler: Sampler::Uniform,
                seed,
            } => write!(
                f,
                "ranking, 1 target + {} uniform negatives (seed {seed})",
                candidates - 1
            ),
            ProtocolTask::Rating => f.write_str("rating of the held-out interaction"),
        }
    }
}

/// One user's evaluation: what a model sees and what it is judged on.
#[derive(Debug, Clone, PartialEq)]
pub struct Case<'d> {
    /// The user, the full history (oldest first; truncate with
    /// [`Dataset::recent`]) and the held-out interaction.
    pub held: HeldOut<'d>,
    /// Ranking: the items to rank, in the order to show them, the target
    /// among them. `None` for retrieval (the whole catalogue) and rating.
    pub candidates: Option<Vec<ItemIdx>>,
    /// Retrieval with history excluded: the history items, sorted and
    /// distinct, never the target. Empty otherwise.
    pub excluded: Vec<ItemIdx>,
}

impl Case<'_> {
    /// The user.
    pub fn user(&self) -> UserIdx {
        self.held.user
    }

    /// The held-out item.
    pub fn target(&self) -> ItemIdx {
        self.held.target.item
    }

    /// The held-out interaction (item, rating, time).
    pub fn target_event(&self) -> Event {
        self.held.target
    }

    /// Every earlier interaction, oldest first.
    pub fn history(&self) -> &[Event] {
        self.held.history
    }
}

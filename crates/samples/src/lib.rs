//! Recommendation knowledge as natural-language samples: the contribution of
//! Cao et al. (NAACL Findings 2024). A language model lacks what a
//! conventional recommender learns from interactions, so recalign writes that
//! knowledge as (input, target) text pairs.
//!
//! # Brief overview
//!
//! Six tasks ([`Task`]), each in [`tasks`]:
//!
//! | task | input | target |
//! |---|---|---|
//! | retrieval | a history (items with titles, most recent last) | the next item's identifier |
//! | ranking | a history and candidates (the next item among uniform negatives) | the chosen item |
//! | rating | a history with ratings and an item | its rating |
//! | MIM | a history with items replaced by `<extra_id_N>` | the masked items |
//! | MLM | a history with title words masked T5-style | the masked spans |
//! | BPR | a history and two items, one the next purchase, one never bought | the next purchase |
//!
//! The first three also come in P5's wording ([`Style::P5`]: user id, item
//! identifiers only) for the paper's comparison. Every template is in
//! [`templates::TABLE`].
//!
//! **No leakage.** Training samples use only each user's training prefix
//! (targets included); validation samples predict the validation item from
//! the training prefix; test samples predict the test item from everything
//! before it. Auxiliary tasks are training samples only. Negatives are never
//! items of the user's sequence, so no training sample names a held-out
//! item. Every sample carries its `user` (never shown to the model) so
//! anyone can check this.
//!
//! **Determinism.** Each (task, epoch, split, user) draws from its own seeded
//! stream ([`recalign_data::ids::seeded_rng`]), so the samples depend on the
//! seed only, not on the thread count or on which other tasks are enabled.
//!
//! ```
//! use recalign_data::{load, DatasetSpec, LoadOptions, PrepareConfig, Split};
//! use recalign_data::synthetic::SyntheticConfig;
//! use recalign_samples::{Generator, SamplesConfig, Task};
//!
//! let spec = DatasetSpec::Synthetic(SyntheticConfig { seed: 1, users: 200 });
//! let data = load(&spec, &PrepareConfig::default(), &LoadOptions::default()).unwrap().dataset;
//! let generator = Generator::new(&data, SamplesConfig::default()).unwrap();
//! let user = data.users().next().unwrap();
//! let samples = generator.user_samples(user, Split::Test, 0);
//! let retrieval = samples.iter().find(|s| s.task == Task::Retrieval).unwrap();
//! // The test target is the user's last item.
//! let last = data.sequence(user).last().unwrap().item;
//! assert_eq!(retrieval.target_items, [data.item(last).raw_id.as_str()]);
//! ```

#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod config;
pub mod render;
pub mod summary;
pub mod tasks;
pub mod templates;
pub mod write;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use recalign_data::{Dataset, Event, ItemIdx, Split, UserIdx};
use serde::{Serialize, Serializer};

pub use config::{PerUser, SamplesConfig, Style};
pub use summary::Summary;
pub use write::{Shard, WriteOptions, write};

use crate::render::ItemTexts;
use crate::templates::Template;

/// The six tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Task {
    /// Next-item retrieval.
    Retrieval,
    /// Candidate ranking.
    Ranking,
    /// Rating prediction.
    Rating,
    /// Masked item modeling (BERT4Rec's cloze task, in words).
    MaskedItemModeling,
    /// Masked language modeling over the history's title words.
    MaskedLanguageModeling,
    /// Bayesian personalized ranking as a two-option choice.
    Bpr,
}

impl Task {
    /// All tasks, in output order.
    pub const ALL: [Task; 6] = [
        Task::Retrieval,
        Task::Ranking,
        Task::Rating,
        Task::MaskedItemModeling,
        Task::MaskedLanguageModeling,
        Task::Bpr,
    ];

    /// The short name used in files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Task::Retrieval => "retrieval",
            Task::Ranking => "ranking",
            Task::Rating => "rating",
            Task::MaskedItemModeling => "mim",
            Task::MaskedLanguageModeling => "mlm",
            Task::Bpr => "bpr",
        }
    }

    /// The task called `name`.
    pub fn from_name(name: &str) -> Option<Task> {
        Task::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Retrieval, ranking and rating: the tasks that are evaluated and that
    /// have a P5 variant. The others are auxiliary (training only).
    pub fn is_recommendation(self) -> bool {
        matches!(self, Task::Retrieval | Task::Ranking | Task::Rating)
    }
}

impl std::fmt::Display for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Task {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// One (input, target) pair, as written to JSON lines.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sample<'a> {
    /// The task.
    pub task: Task,
    /// The template's id.
    pub template: &'static str,
    /// Which split it belongs to.
    pub split: Split,
    /// The user's raw id (never shown to the model; for checking leakage).
    pub user: &'a str,
    /// The model's input.
    pub input: String,
    /// The expected output.
    pub target: String,
    /// Raw ids of the items the target names (empty for ratings and MLM).
    pub target_items: Vec<&'a str>,
}

/// Why a generator cannot be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    /// Reading or writing a file failed.
    #[error(transparent)]
    Io(#[from] recalign_runtime::IoError),
    /// The dataset layer failed.
    #[error(transparent)]
    Data(#[from] recalign_data::Error),
}

/// Generates samples for one prepared dataset.
pub struct Generator<'d> {
    dataset: &'d Dataset,
    config: SamplesConfig,
    history: usize,
    texts: ItemTexts,
    has_ratings: bool,
    templates: Vec<Vec<&'static Template>>,
}

impl<'d> Generator<'d> {
    /// Prepares the item texts and templates for `dataset`.
    pub fn new(dataset: &'d Dataset, config: SamplesConfig) -> Result<Self, Error> {
        config.validate()?;
        for task in [Task::MaskedItemModeling, Task::MaskedLanguageModeling] {
            if config.per_user(task) == PerUser::ALL {
                return Err(config::ConfigError {
                    key: format!("{}.per_user", task.name()),
                    message: "\"all\" is for the prefix tasks (retrieval, ranking, rating, bpr); give a number".to_string(),
                }
                .into());
            }
        }
        let history = if config.history == 0 {
            dataset.config.max_history
        } else {
            config.history
        };
        Ok(Generator {
            dataset,
            history,
            texts: ItemTexts::new(dataset),
            has_ratings: dataset.events().iter().any(|e| e.rating().is_some()),
            templates: Task::ALL
                .iter()
                .map(|&t| templates::for_task(t, config.style))
                .collect(),
            config,
        })
    }

    /// The dataset.
    pub fn dataset(&self) -> &'d Dataset {
        self.dataset
    }

    /// The configuration.
    pub fn config(&self) -> &SamplesConfig {
        &self.config
    }

    /// Catalogue items shown by identifier only (no title known).
    pub fn untitled_items(&self) -> usize {
        self.texts.untitled
    }

    /// Whether the dataset has ratings (the rating task needs them).
    pub fn has_ratings(&self) -> bool {
        self.has_ratings
    }

    /// The tasks that produce samples for `split`: the auxiliary tasks for
    /// [`Split::Train`] only. Samples are made for these tasks alone, which
    /// is what keeps auxiliary samples out of the held-out splits.
    pub fn tasks(&self, split: Split) -> impl Iterator<Item = Task> + '_ {
        Task::ALL.into_iter().filter(move |&t| {
            (split == Split::Train || t.is_recommendation())
                && (t != Task::Rating || self.has_ratings)
                && self.config.per_user(t) != PerUser::Count(0.0)
        })
    }

    /// All samples of `user` for `split` in `epoch`, task by task.
    pub fn user_samples(&self, user: UserIdx, split: Split, epoch: usize) -> Vec<Sample<'d>> {
        let mut out = Vec::new();
        self.for_each_sample(user, split, epoch, &mut |s| out.push(s), &mut |_| {});
        out
    }

    /// Calls `emit` for each sample of `user` and `skipped` for each sample a
    /// task could not make (history too short, no title words, …).
    pub fn for_each_sample(
        &self,
        user: UserIdx,
        split: Split,
        epoch: usize,
        emit: &mut dyn FnMut(Sample<'d>),
        skipped: &mut dyn FnMut(Task),
    ) {
        for task in self.tasks(split) {
            let ctx = UserContext {
                generator: self,
                user,
                anonymous: false,
                user_id: self.dataset.user_id(user),
                split,
                rng: recalign_data::ids::seeded_rng(
                    self.config.seed,
                    &format!(
                        "samples/{task}/{epoch}/{split}/{}",
                        self.dataset.user_id(user)
                    ),
                ),
            };
            tasks::generate(task, ctx, emit, skipped);
        }
    }
}

/// What the model is asked at evaluation or serving time; see
/// [`Generator::prompt`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Query<'a> {
    /// The next item.
    Retrieval,
    /// The next item among `candidates`, listed in this order.
    Ranking {
        /// The candidate list.
        candidates: &'a [ItemIdx],
    },
    /// The rating of `item`.
    Rating {
        /// The item rated.
        item: ItemIdx,
    },
}

impl Generator<'_> {
    /// The input the model reads for `query` after `history` (oldest
    /// first), exactly as a held-out sample of the task reads: the pinned
    /// template, the same history window and input budget. `user` is shown
    /// only in the P5 style; `None` (a history typed by hand) shows no user.
    pub fn prompt(&self, user: Option<UserIdx>, history: &[Event], query: Query<'_>) -> String {
        let ctx = self.held_out_context(user);
        let task = match query {
            Query::Retrieval => Task::Retrieval,
            Query::Ranking { .. } => Task::Ranking,
            Query::Rating { .. } => Task::Rating,
        };
        let template = self.templates[task as usize][0];
        match query {
            Query::Retrieval => tasks::retrieval::prompt(&ctx, template, history),
            Query::Ranking { candidates } => {
                tasks::ranking::prompt(&ctx, template, history, candidates)
            }
            Query::Rating { item } => tasks::rating::prompt(&ctx, template, history, item),
        }
    }

    /// The context of a held-out sample of `user` (or of no known user),
    /// for prompts and answers outside sample generation.
    fn held_out_context(&self, user: Option<UserIdx>) -> UserContext<'_, '_> {
        UserContext {
            generator: self,
            user: user.unwrap_or(UserIdx(0)),
            anonymous: user.is_none(),
            user_id: user.map_or("", |u| self.dataset.user_id(u)),
            split: Split::Test,
            rng: recalign_data::ids::seeded_rng(self.config.seed, "samples/prompt"),
        }
    }

    /// How the model names `item` in a retrieval or ranking answer.
    pub fn item_answer(&self, item: ItemIdx) -> String {
        let template = self.templates[Task::Retrieval as usize][0];
        let ctx = self.held_out_context(None);
        let mut answer = String::new();
        template.target.render(&mut answer, |_, out| {
            out.push_str(&tasks::retrieval::item_answer(&ctx, item))
        });
        answer
    }

    /// How the model writes `rating` in a rating answer.
    pub fn rating_answer(&self, rating: f32) -> String {
        let template = self.templates[Task::Rating as usize][0];
        let mut answer = String::new();
        template.target.render(&mut answer, |_, out| {
            out.push_str(&render::rating_text(rating, self.config.style))
        });
        answer
    }
}

/// What a task needs to make one user's samples.
pub struct UserContext<'g, 'd> {
    generator: &'g Generator<'d>,
    user: UserIdx,
    /// A history without a known user (shown as no user in P5 prompts).
    anonymous: bool,
    user_id: &'d str,
    split: Split,
    rng: ChaCha8Rng,
}

impl<'g, 'd> UserContext<'g, 'd> {
    fn dataset(&self) -> &'d Dataset {
        self.generator.dataset
    }

    fn texts(&self) -> &'g ItemTexts {
        &self.generator.texts
    }

    fn config(&self) -> &'g SamplesConfig {
        &self.generator.config
    }

    fn style(&self) -> Style {
        self.generator.config.style
    }

    /// The user's training sequence.
    fn train(&self) -> &'d [Event] {
        self.dataset().train_sequence(self.user)
    }

    /// The template for a new sample: the pinned one outside training.
    fn template(&mut self, task: Task) -> &'static Template {
        let options = &self.generator.templates[task as usize];
        if self.split == Split::Train && options.len() > 1 {
            options[self.rng.random_range(0..options.len())]
        } else {
            options[0]
        }
    }

    /// How many samples this user makes when `available` positions exist.
    fn count(&mut self, per_user: PerUser, available: usize) -> usize {
        match per_user {
            PerUser::All(_) => available,
            PerUser::Count(n) => {
                let whole = n.floor();
                let extra = self.rng.random::<f64>() < n - whole;
                (whole as usize + usize::from(extra)).min(available)
            }
        }
    }

    /// Training target positions `t` (history `train[..t]`, target
    /// `train[t]`) for a prefix task, distinct, in order; all of them for
    /// `"all"`.
    fn positions(&mut self, per_user: PerUser, usable: impl Fn(usize) -> bool) -> Vec<usize> {
        let candidates: Vec<usize> = (1..self.train().len()).filter(|&t| usable(t)).collect();
        let n = self.count(per_user, candidates.len());
        if n == candidates.len() {
            return candidates;
        }
        let mut chosen = rand::seq::index::sample(&mut self.rng, candidates.len(), n).into_vec();
        chosen.sort_unstable();
        chosen.into_iter().map(|i| candidates[i]).collect()
    }

    /// The most recent items of `history` that fit the configured history
    /// length and the input budget left after `fixed` bytes.
    fn window<'h>(
        &self,
        history: &'h [Event],
        fixed: usize,
        len: impl Fn(&Event) -> usize,
    ) -> &'h [Event] {
        let recent = &history[history.len().saturating_sub(self.generator.history)..];
        let budget = self.config().max_input_chars;
        if budget == 0 {
            return recent;
        }
        let sep = render::separator(self.style()).len();
        let n = render::fitting(recent, budget.saturating_sub(fixed), sep, len);
        &recent[recent.len() - n..]
    }

    /// A sample of this user and split.
    fn sample(
        &self,
        template: &'static Template,
        input: String,
        target: String,
        target_items: Vec<&'d str>,
    ) -> Sample<'d> {
        Sample {
            task: template.spec.task,
            template: template.spec.id,
            split: self.split,
            user: self.user_id,
            input,
            target,
            target_items,
        }
    }

    /// Raw item ids for `target_items`.
    fn raw_id(&self, item: recalign_data::ItemIdx) -> &'d str {
        &self.dataset().item(item).raw_id
    }

    /// P5's user token, `user_N` with N the 1-based user index; empty in
    /// the informative style, which shows no user.
    fn p5_user(&self) -> String {
        match self.style() {
            Style::P5 if !self.anonymous => format!("user_{}", self.user.0 + 1),
            Style::P5 | Style::Informative => String::new(),
        }
    }
}

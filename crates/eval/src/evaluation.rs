//! The evaluation loop shared by every model: for each [`Case`] of a
//! [`Protocol`], a model gives either scores (baselines, exact likelihoods)
//! or a ranked list (beam search), and [`Evaluation`] turns it into a rank
//! with the same tie and exclusion rules, accumulates the metrics, keeps the
//! per-user rankings and times the run.
//!
//! ```
//! use recalign_data::{load, DatasetSpec, LoadOptions, PrepareConfig, Split};
//! use recalign_data::synthetic::SyntheticConfig;
//! use recalign_eval::{Evaluation, ModelInfo, Protocol};
//!
//! let spec = DatasetSpec::Synthetic(SyntheticConfig { seed: 1, users: 200 });
//! let data = load(&spec, &PrepareConfig::default(), &LoadOptions::default()).unwrap().dataset;
//! let protocol = Protocol::ranking(Split::Valid);
//! let mut eval = Evaluation::new(&data, &protocol).unwrap();
//! for case in protocol.cases(&data) {
//!     // A model that ranks the candidates as shown.
//!     let shown = case.candidates.clone().unwrap();
//!     eval.record_ranked(&case, &shown).unwrap();
//! }
//! let report = eval.report(ModelInfo::new("as-shown"));
//! assert_eq!(report.users_evaluated, data.num_users());
//! ```

use std::path::Path;
use std::time::Instant;

use recalign_data::{Dataset, ItemIdx, UserIdx};

use crate::diversity::Diversity;
use crate::error::{Error, Result};
use crate::metrics::{RankingMetrics, RatingMetrics, Score, rank_in_list, target_rank, top_k};
use crate::protocol::{Case, Protocol, ProtocolTask};
use crate::report::{DatasetInfo, Metrics, ModelInfo, RankingLine, RankingsWriter, Report};

/// The list length of the personalisation figures.
pub const DIVERSITY_K: usize = 10;

/// One evaluated user's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRanking {
    /// The user.
    pub user: UserIdx,
    /// The held-out item.
    pub target: ItemIdx,
    /// The target's 0-based rank, `None` if it was not ranked.
    pub rank: Option<usize>,
    /// The ranked items, best first: the top max(K) for retrieval from
    /// scores, every candidate for ranking, or the model's list as given
    /// (less excluded items).
    pub ranked: Vec<ItemIdx>,
}

/// Metrics, rankings and timing of one model under one protocol.
#[derive(Debug)]
pub struct Evaluation<'d> {
    dataset: &'d Dataset,
    protocol: &'d Protocol,
    ranking: RankingMetrics,
    rating: RatingMetrics,
    rankings: Vec<UserRanking>,
    skipped: usize,
    started: Instant,
}

impl<'d> Evaluation<'d> {
    /// Starts an evaluation (and its clock) after checking the protocol.
    pub fn new(dataset: &'d Dataset, protocol: &'d Protocol) -> Result<Self> {
        protocol.validate()?;
        let ks = if protocol.is_ranking() {
            protocol.ks.as_slice()
        } else {
            &crate::metrics::DEFAULT_KS
        };
        Ok(Evaluation {
            dataset,
            protocol,
            ranking: RankingMetrics::new(ks)?,
            rating: RatingMetrics::new(),
            rankings: Vec::new(),
            skipped: 0,
            started: Instant::now(),
        })
    }

    /// The protocol.
    pub fn protocol(&self) -> &Protocol {
        self.protocol
    }

    fn error(&self, case: &Case<'_>, message: impl std::fmt::Display) -> Error {
        Error::Scores(format!(
            "user `{}`: {message}",
            self.dataset.user_id(case.user())
        ))
    }

    fn require_ranking(&self, case: &Case<'_>) -> Result<()> {
        if self.protocol.is_ranking() {
            Ok(())
        } else {
            Err(self.error(case, "a rating protocol takes ratings, not rankings"))
        }
    }

    /// Keeps `case`'s ranking for the rankings file (its rank is already
    /// counted).
    fn push(&mut self, case: &Case<'_>, rank: Option<usize>, ranked: Vec<ItemIdx>) {
        self.rankings.push(UserRanking {
            user: case.user(),
            target: case.target(),
            rank,
            ranked,
        });
    }

    /// Records a model's scores for `case` and returns the target's rank.
    ///
    /// Retrieval: one score per catalogue item (`scores[i]` for
    /// `ItemIdx(i)`); excluded items are left out. Ranking: one score per
    /// candidate, in the case's candidate order. Ranks follow
    /// [`target_rank`]'s pessimistic tie rule; errors on a wrong length or a
    /// NaN score.
    pub fn record_scores<S: Score>(
        &mut self,
        case: &Case<'_>,
        scores: &[S],
    ) -> Result<Option<usize>> {
        self.require_ranking(case)?;
        let (rank, ranked) = match &case.candidates {
            Some(candidates) => {
                if scores.len() != candidates.len() {
                    return Err(self.error(
                        case,
                        format!(
                            "{} scores for {} candidates",
                            scores.len(),
                            candidates.len()
                        ),
                    ));
                }
                let at = candidates
                    .iter()
                    .position(|&c| c == case.target())
                    .ok_or_else(|| self.error(case, "the target is not among the candidates"))?;
                let at = ItemIdx(at as u32);
                let rank = target_rank(scores, at, &[]).map_err(|e| self.error(case, e))?;
                let order =
                    top_k(scores, scores.len(), &[], Some(at)).map_err(|e| self.error(case, e))?;
                (rank, order.iter().map(|p| candidates[p.index()]).collect())
            }
            None => {
                let items = self.dataset.num_items();
                if scores.len() != items {
                    return Err(self.error(
                        case,
                        format!("{} scores for a catalogue of {items} items", scores.len()),
                    ));
                }
                let rank = target_rank(scores, case.target(), &case.excluded)
                    .map_err(|e| self.error(case, e))?;
                let ranked = top_k(
                    scores,
                    self.protocol.max_k(),
                    &case.excluded,
                    Some(case.target()),
                )
                .map_err(|e| self.error(case, e))?;
                (rank, ranked)
            }
        };
        self.ranking.add_rank(Some(rank));
        self.push(case, Some(rank), ranked);
        Ok(Some(rank))
    }

    /// Records a model's ranked list for `case` (best first, e.g. from beam
    /// search) and returns the target's position in it.
    ///
    /// Excluded items are dropped from the list first. Errors on an item
    /// listed twice, an item outside the catalogue, or, for ranking, an item
    /// that is not a candidate. A target beyond the list leaves the full
    /// MRR unknown (see [`RankingMetrics`]).
    pub fn record_ranked(&mut self, case: &Case<'_>, ranked: &[ItemIdx]) -> Result<Option<usize>> {
        self.require_ranking(case)?;
        let kept: Vec<ItemIdx> = ranked
            .iter()
            .copied()
            .filter(|i| case.excluded.binary_search(i).is_err())
            .collect();
        let mut seen = kept.clone();
        seen.sort_unstable();
        if let Some(pair) = seen.windows(2).find(|w| w[0] == w[1]) {
            return Err(self.error(case, format!("item {} is ranked twice", pair[0].0)));
        }
        let num_items = self.dataset.num_items();
        if let Some(bad) = kept.iter().find(|i| i.index() >= num_items) {
            return Err(self.error(
                case,
                format!("item {} is outside the catalogue of {num_items}", bad.0),
            ));
        }
        if let Some(candidates) = &case.candidates
            && let Some(bad) = kept.iter().find(|i| !candidates.contains(i))
        {
            let raw = &self.dataset.item(*bad).raw_id;
            return Err(self.error(case, format!("item `{raw}` is not a candidate")));
        }
        let rank = rank_in_list(&kept, &case.target());
        self.ranking.add_list_rank(rank);
        self.push(case, rank, kept);
        Ok(rank)
    }

    /// Records a rating prediction for `case`. A held-out interaction
    /// without a rating cannot be scored and counts as skipped; a
    /// non-finite prediction is an error.
    pub fn record_rating(&mut self, case: &Case<'_>, predicted: f64) -> Result<()> {
        if self.protocol.task != ProtocolTask::Rating {
            return Err(self.error(case, "a ranking protocol takes rankings, not ratings"));
        }
        match case.target_event().rating() {
            Some(actual) => self
                .rating
                .add(predicted, f64::from(actual))
                .map_err(|e| self.error(case, e)),
            None => {
                self.skipped += 1;
                Ok(())
            }
        }
    }

    /// Counts a user the model could not evaluate (reported as skipped).
    pub fn skip(&mut self) {
        self.skipped += 1;
    }

    /// The ranking metrics so far.
    pub fn ranking_metrics(&self) -> &RankingMetrics {
        &self.ranking
    }

    /// The rating metrics so far.
    pub fn rating_metrics(&self) -> &RatingMetrics {
        &self.rating
    }

    /// Each evaluated user's ranking, in the order recorded.
    pub fn rankings(&self) -> &[UserRanking] {
        &self.rankings
    }

    /// Users recorded with a ranking or a rating.
    pub fn users_evaluated(&self) -> usize {
        if self.protocol.is_ranking() {
            self.ranking.users()
        } else {
            self.rating.count()
        }
    }

    /// Users skipped.
    pub fn users_skipped(&self) -> usize {
        self.skipped
    }

    /// Every metric of the task, named as in reports; ranking tasks add
    /// the personalisation figures of the users' top-10 lists (see
    /// [`Diversity`]): `coverage@10`, the share of the catalogue they hold
    /// (times the report's item count: the distinct items), and
    /// `overlap@10`; like every ranking metric, each lies in [0, 1].
    pub fn metrics(&self) -> Metrics {
        if !self.protocol.is_ranking() {
            return Metrics::from(self.rating.values());
        }
        let mut metrics = Metrics::from(self.ranking.values());
        let lists: Vec<&[ItemIdx]> = self.rankings.iter().map(|r| r.ranked.as_slice()).collect();
        let diversity = Diversity::of(&lists, DIVERSITY_K);
        let coverage = diversity.distinct as f64 / self.dataset.num_items().max(1) as f64;
        metrics.insert(format!("coverage@{DIVERSITY_K}"), coverage);
        if let Some(overlap) = diversity.overlap {
            metrics.insert(format!("overlap@{DIVERSITY_K}"), overlap);
        }
        metrics
    }

    /// The report of this evaluation for `model`; wall time is counted from
    /// [`Evaluation::new`] to now.
    pub fn report(&self, model: ModelInfo) -> Report {
        Report::new(
            DatasetInfo::of(self.dataset),
            model,
            self.protocol.clone(),
            self.metrics(),
            (self.users_evaluated(), self.users_skipped()),
            self.started.elapsed().as_secs_f64(),
        )
    }

    /// Writes the rankings as JSON lines with raw ids (see
    /// [`crate::report::RankingLine`]), atomically; returns the line count.
    pub fn write_rankings(&self, path: &Path) -> Result<usize> {
        let mut writer = RankingsWriter::create(path)?;
        for ranking in &self.rankings {
            writer.write(&RankingLine::of(self.dataset, ranking))?;
        }
        writer.finish()
    }
}

//! Leave-one-out metrics: one held-out target per user.
//!
//! With a single relevant item, Hit@K equals Recall@K (P5 says HR, TIGER
//! says Recall), NDCG@K is `1 / log2(rank + 2)` for a 0-based `rank < K`
//! (the ideal DCG is 1), and the reciprocal rank is `1 / (rank + 1)`. A
//! target that is not ranked at all scores 0 everywhere. [`RankingMetrics`]
//! and [`RatingMetrics`] average these over users.
//!
//! [`target_rank`] and [`top_k`] turn a model's scores into a rank and a
//! list with one **tie rule**: an item whose score equals the target's is
//! counted ahead of it (pessimistic), so a model that scores everything alike
//! ranks every target last instead of first. Masked items (a user's history,
//! when the protocol excludes it) are left out of the ranking altogether.

use std::cmp::Ordering;

use recalign_data::ItemIdx;

use crate::error::{Error, Result};

/// The cut-offs reported by default: 1, 5, 10 and 20.
pub const DEFAULT_KS: [usize; 4] = [1, 5, 10, 20];

/// 1 if the target's 0-based `rank` is within the top `k`, else 0.
pub fn hit_at(rank: Option<usize>, k: usize) -> f64 {
    match rank {
        Some(r) if r < k => 1.0,
        _ => 0.0,
    }
}

/// `1 / log2(rank + 2)` if the 0-based `rank` is within the top `k`, else 0.
pub fn ndcg_at(rank: Option<usize>, k: usize) -> f64 {
    match rank {
        Some(r) if r < k => 1.0 / ((r + 2) as f64).log2(),
        _ => 0.0,
    }
}

/// `1 / (rank + 1)` for a ranked target, 0 for one that is absent.
pub fn reciprocal_rank(rank: Option<usize>) -> f64 {
    rank.map_or(0.0, |r| 1.0 / (r + 1) as f64)
}

/// The reciprocal rank counted only within the top `k`.
pub fn reciprocal_rank_at(rank: Option<usize>, k: usize) -> f64 {
    match rank {
        Some(r) if r < k => reciprocal_rank(rank),
        _ => 0.0,
    }
}

/// The 0-based position of `target` in `ranked`, if present.
pub fn rank_in_list<T: PartialEq>(ranked: &[T], target: &T) -> Option<usize> {
    ranked.iter().position(|item| item == target)
}

/// A model score: larger is better. Implemented for the float and integer
/// types models and counts produce.
pub trait Score: Copy + PartialOrd {
    /// Whether the value is NaN (never, for integers).
    fn is_nan(self) -> bool;
}

macro_rules! float_score {
    ($($t:ty),*) => {$(
        impl Score for $t {
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
        }
    )*};
}

macro_rules! integer_score {
    ($($t:ty),*) => {$(
        impl Score for $t {
            fn is_nan(self) -> bool {
                false
            }
        }
    )*};
}

float_score!(f32, f64);
integer_score!(u32, u64, usize, i32, i64);

/// Checks that `target` indexes `scores` and that no score is NaN.
fn check_scores<S: Score>(scores: &[S], target: Option<ItemIdx>) -> Result<()> {
    if let Some(target) = target
        && target.index() >= scores.len()
    {
        return Err(Error::Scores(format!(
            "target {} is outside the {} scores",
            target.0,
            scores.len()
        )));
    }
    if let Some(at) = scores.iter().position(|s| s.is_nan()) {
        return Err(Error::Scores(format!("the score of item {at} is NaN")));
    }
    Ok(())
}

/// The excluded positions, sorted, distinct, without `target`; an error if
/// one is outside `0..len`.
fn exclusion(excluded: &[ItemIdx], len: usize, target: Option<ItemIdx>) -> Result<Vec<ItemIdx>> {
    if let Some(bad) = excluded.iter().find(|i| i.index() >= len) {
        return Err(Error::Scores(format!(
            "excluded item {} is outside the {len} scores",
            bad.0
        )));
    }
    let mut out: Vec<ItemIdx> = excluded
        .iter()
        .copied()
        .filter(|&i| Some(i) != target)
        .collect();
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// The 0-based rank of `target` among the items of `scores` (position `i`
/// is `ItemIdx(i)`; for a candidate list, the candidate's position) that are
/// not in `excluded`.
///
/// Tie rule: every other item whose score is **greater than or equal to**
/// the target's counts ahead of it, so the rank is the worst the target
/// could get under any tie order. `excluded` may contain the target (a
/// repeated purchase): the target itself is never excluded. Errors on a NaN
/// score or an index outside `scores`.
pub fn target_rank<S: Score>(scores: &[S], target: ItemIdx, excluded: &[ItemIdx]) -> Result<usize> {
    check_scores(scores, Some(target))?;
    let excluded = exclusion(excluded, scores.len(), Some(target))?;
    let t = scores[target.index()];
    let ahead = |i: usize| i != target.index() && scores[i] >= t;
    let all = (0..scores.len()).filter(|&i| ahead(i)).count();
    let masked = excluded.iter().filter(|i| ahead(i.index())).count();
    Ok(all - masked)
}

/// The `k` best items of `scores` that are not in `excluded`, best first.
///
/// Order: by score, descending; among equal scores `target` (if given)
/// comes last and the others by ascending index. The position of the target
/// in this list therefore agrees with [`target_rank`], so metrics recomputed
/// from written lists match the evaluator's. Errors as [`target_rank`].
pub fn top_k<S: Score>(
    scores: &[S],
    k: usize,
    excluded: &[ItemIdx],
    target: Option<ItemIdx>,
) -> Result<Vec<ItemIdx>> {
    check_scores(scores, target)?;
    let excluded = exclusion(excluded, scores.len(), target)?;
    let mut order: Vec<usize> = (0..scores.len())
        .filter(|&i| excluded.binary_search(&ItemIdx(i as u32)).is_err())
        .collect();
    let is_target = |i: usize| target.is_some_and(|t| t.index() == i);
    let better = |&a: &usize, &b: &usize| {
        scores[b]
            .partial_cmp(&scores[a])
            .unwrap_or(Ordering::Equal)
            .then_with(|| is_target(a).cmp(&is_target(b)))
            .then_with(|| a.cmp(&b))
    };
    if k < order.len() {
        order.select_nth_unstable_by(k, better);
        order.truncate(k);
    }
    order.sort_unstable_by(better);
    Ok(order.into_iter().map(|i| ItemIdx(i as u32)).collect())
}

/// Averages Hit@K, NDCG@K, MRR@K and MRR over users, one target each.
///
/// MRR over the whole ranking is known only when every user's rank is: a
/// model that returns a top-K list (beam search) leaves the rank of a
/// target beyond the list unknown. Such users make [`RankingMetrics::mrr`]
/// `None` and drop `mrr` from [`RankingMetrics::values`], so that `mrr`
/// means one thing in every report; `mrr@K` is exact either way.
#[derive(Debug, Clone, PartialEq)]
pub struct RankingMetrics {
    ks: Vec<usize>,
    users: usize,
    hit: Vec<f64>,
    ndcg: Vec<f64>,
    rr_at: Vec<f64>,
    rr: f64,
    /// Users whose target lies beyond a truncated list.
    unknown_ranks: usize,
}

impl RankingMetrics {
    /// An empty accumulator for the cut-offs `ks` (sorted and de-duplicated;
    /// each at least 1, at least one).
    pub fn new(ks: &[usize]) -> Result<Self> {
        let mut ks = ks.to_vec();
        ks.sort_unstable();
        ks.dedup();
        if ks.is_empty() || ks[0] == 0 {
            return Err(Error::Protocol(
                "cut-offs K must be at least 1, and at least one is needed".to_string(),
            ));
        }
        let n = ks.len();
        Ok(RankingMetrics {
            ks,
            users: 0,
            hit: vec![0.0; n],
            ndcg: vec![0.0; n],
            rr_at: vec![0.0; n],
            rr: 0.0,
            unknown_ranks: 0,
        })
    }

    /// Adds one user whose target has the 0-based `rank` in the whole
    /// ranking (`None`: the target cannot be ranked, a miss at every K).
    pub fn add_rank(&mut self, rank: Option<usize>) {
        self.users += 1;
        for (j, &k) in self.ks.iter().enumerate() {
            self.hit[j] += hit_at(rank, k);
            self.ndcg[j] += ndcg_at(rank, k);
            self.rr_at[j] += reciprocal_rank_at(rank, k);
        }
        self.rr += reciprocal_rank(rank);
    }

    /// Adds one user whose target has the 0-based `rank` in a list that may
    /// be the top of a longer ranking (`None`: beyond the list, so its
    /// rank in the whole ranking is unknown).
    pub fn add_list_rank(&mut self, rank: Option<usize>) {
        if rank.is_none() {
            self.unknown_ranks += 1;
        }
        self.add_rank(rank);
    }

    /// Adds one user from a ranked list (best first), which may be the top
    /// of a longer ranking, and returns the target's rank in it.
    pub fn add_ranked<T: PartialEq>(&mut self, ranked: &[T], target: &T) -> Option<usize> {
        let rank = rank_in_list(ranked, target);
        self.add_list_rank(rank);
        rank
    }

    /// Adds the users of `other`, which must have the same cut-offs.
    pub fn merge(&mut self, other: &RankingMetrics) -> Result<()> {
        if self.ks != other.ks {
            return Err(Error::Protocol(format!(
                "cannot merge metrics at K = {:?} into metrics at K = {:?}",
                other.ks, self.ks
            )));
        }
        self.users += other.users;
        for j in 0..self.ks.len() {
            self.hit[j] += other.hit[j];
            self.ndcg[j] += other.ndcg[j];
            self.rr_at[j] += other.rr_at[j];
        }
        self.rr += other.rr;
        self.unknown_ranks += other.unknown_ranks;
        Ok(())
    }

    /// Users added so far.
    pub fn users(&self) -> usize {
        self.users
    }

    /// The cut-offs, ascending.
    pub fn ks(&self) -> &[usize] {
        &self.ks
    }

    fn mean(&self, sum: f64) -> f64 {
        if self.users == 0 {
            0.0
        } else {
            sum / self.users as f64
        }
    }

    fn at(&self, sums: &[f64], k: usize) -> Option<f64> {
        let j = self.ks.binary_search(&k).ok()?;
        Some(self.mean(sums[j]))
    }

    /// Mean Hit@`k` (= Recall@`k`); `None` if `k` is not a cut-off. All
    /// means are 0 before any user is added.
    pub fn hit(&self, k: usize) -> Option<f64> {
        self.at(&self.hit, k)
    }

    /// Mean NDCG@`k`; `None` if `k` is not a cut-off.
    pub fn ndcg(&self, k: usize) -> Option<f64> {
        self.at(&self.ndcg, k)
    }

    /// Mean reciprocal rank within the top `k`; `None` if `k` is not a
    /// cut-off.
    pub fn mrr_at(&self, k: usize) -> Option<f64> {
        self.at(&self.rr_at, k)
    }

    /// Mean reciprocal rank over the whole ranking; `None` when some
    /// user's target lies beyond a truncated list.
    pub fn mrr(&self) -> Option<f64> {
        (self.unknown_ranks == 0).then(|| self.mean(self.rr))
    }

    /// Every mean, named as in reports: `hit@K` for each K, then `ndcg@K`,
    /// `mrr@K`, and `mrr` where it is known.
    pub fn values(&self) -> Vec<(String, f64)> {
        let mut out = Vec::with_capacity(3 * self.ks.len() + 1);
        for (name, sums) in [
            ("hit", &self.hit),
            ("ndcg", &self.ndcg),
            ("mrr", &self.rr_at),
        ] {
            for (k, &sum) in self.ks.iter().zip(sums) {
                out.push((format!("{name}@{k}"), self.mean(sum)));
            }
        }
        out.extend(self.mrr().map(|mrr| ("mrr".to_string(), mrr)));
        out
    }
}

impl Default for RankingMetrics {
    /// An empty accumulator at [`DEFAULT_KS`].
    fn default() -> Self {
        RankingMetrics::new(&DEFAULT_KS).expect("the default cut-offs are valid")
    }
}

/// Averages squared and absolute rating errors: RMSE and MAE.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RatingMetrics {
    count: usize,
    squared: f64,
    absolute: f64,
}

impl RatingMetrics {
    /// An empty accumulator.
    pub fn new() -> Self {
        RatingMetrics::default()
    }

    /// Adds one prediction of the rating `actual`. Errors if either is not
    /// finite, rather than letting one NaN turn the means into NaN.
    pub fn add(&mut self, predicted: f64, actual: f64) -> Result<()> {
        if !predicted.is_finite() || !actual.is_finite() {
            return Err(Error::Scores(format!(
                "rating prediction {predicted} for {actual} is not a finite number"
            )));
        }
        let error = predicted - actual;
        self.count += 1;
        self.squared += error * error;
        self.absolute += error.abs();
        Ok(())
    }

    /// Adds the predictions of `other`.
    pub fn merge(&mut self, other: &RatingMetrics) {
        self.count += other.count;
        self.squared += other.squared;
        self.absolute += other.absolute;
    }

    /// Predictions added so far.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Root mean squared error (0 before any prediction).
    pub fn rmse(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            (self.squared / self.count as f64).sqrt()
        }
    }

    /// Mean absolute error (0 before any prediction).
    pub fn mae(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.absolute / self.count as f64
        }
    }

    /// `rmse` and `mae`, named as in reports.
    pub fn values(&self) -> Vec<(String, f64)> {
        vec![
            ("rmse".to_string(), self.rmse()),
            ("mae".to_string(), self.mae()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EPS: f64 = 1e-12;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < EPS
    }

    fn items(ids: &[u32]) -> Vec<ItemIdx> {
        ids.iter().map(|&i| ItemIdx(i)).collect()
    }

    #[test]
    fn per_user_metrics_by_hand() {
        // Rank 0: a hit everywhere, NDCG 1/log2(2) = 1, RR 1.
        assert_eq!(hit_at(Some(0), 1), 1.0);
        assert!(close(ndcg_at(Some(0), 1), 1.0));
        // Rank 2 (third place): 1/log2(4) = 0.5; RR 1/3.
        assert_eq!(hit_at(Some(2), 2), 0.0);
        assert_eq!(hit_at(Some(2), 3), 1.0);
        assert!(close(ndcg_at(Some(2), 3), 0.5));
        assert_eq!(ndcg_at(Some(2), 2), 0.0);
        assert!(close(reciprocal_rank(Some(2)), 1.0 / 3.0));
        assert_eq!(reciprocal_rank_at(Some(2), 2), 0.0);
        assert!(close(reciprocal_rank_at(Some(2), 3), 1.0 / 3.0));
        // Rank 6: 1/log2(8) = 1/3.
        assert!(close(ndcg_at(Some(6), 10), 1.0 / 3.0));
        // Absent: zero everywhere.
        assert_eq!(hit_at(None, 100), 0.0);
        assert_eq!(ndcg_at(None, 100), 0.0);
        assert_eq!(reciprocal_rank(None), 0.0);
    }

    #[test]
    fn accumulator_averages_by_hand() {
        let mut m = RankingMetrics::new(&[5, 1, 5]).unwrap();
        assert_eq!(m.ks(), [1, 5]);
        m.add_rank(Some(0)); // hit@1, hit@5; ndcg 1, 1; rr 1
        m.add_rank(Some(2)); // hit@5; ndcg@5 0.5; rr 1/3
        m.add_rank(Some(9)); // nothing at 5; rr 1/10
        m.add_rank(None); // nothing
        assert_eq!(m.users(), 4);
        assert!(close(m.hit(1).unwrap(), 0.25));
        assert!(close(m.hit(5).unwrap(), 0.5));
        assert!(close(m.ndcg(1).unwrap(), 0.25));
        assert!(close(m.ndcg(5).unwrap(), 1.5 / 4.0));
        assert!(close(m.mrr_at(1).unwrap(), 0.25));
        assert!(close(m.mrr_at(5).unwrap(), (1.0 + 1.0 / 3.0) / 4.0));
        assert!(close(m.mrr().unwrap(), (1.0 + 1.0 / 3.0 + 0.1) / 4.0));
        assert_eq!(m.hit(10), None);
        let names: Vec<String> = m.values().into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            [
                "hit@1", "hit@5", "ndcg@1", "ndcg@5", "mrr@1", "mrr@5", "mrr"
            ]
        );
    }

    #[test]
    fn ranked_lists_and_merge() {
        let mut a = RankingMetrics::new(&[1, 2]).unwrap();
        assert_eq!(a.add_ranked(&["x", "y", "z"], &"y"), Some(1));
        assert_eq!(a.add_ranked(&["x"], &"q"), None);
        let mut b = RankingMetrics::new(&[1, 2]).unwrap();
        b.add_ranked(&["q", "x"], &"q");
        a.merge(&b).unwrap();
        assert_eq!(a.users(), 3);
        assert!(close(a.hit(2).unwrap(), 2.0 / 3.0));
        assert!(close(a.mrr_at(2).unwrap(), 1.5 / 3.0));
        // `q` lies beyond `["x"]`: its full rank, and so MRR, is unknown.
        assert_eq!(a.mrr(), None);
        assert!(a.values().iter().all(|(name, _)| name != "mrr"));
        let mut complete = RankingMetrics::new(&[1, 2]).unwrap();
        complete.add_ranked(&["x", "y", "z"], &"z");
        assert!(close(complete.mrr().unwrap(), 1.0 / 3.0));
        let other = RankingMetrics::new(&[1]).unwrap();
        assert!(a.merge(&other).is_err());
    }

    #[test]
    fn invalid_cutoffs_are_rejected() {
        assert!(RankingMetrics::new(&[]).is_err());
        assert!(RankingMetrics::new(&[0, 5]).is_err());
        assert_eq!(RankingMetrics::default().ks(), DEFAULT_KS);
        let empty = RankingMetrics::default();
        assert_eq!(empty.hit(10), Some(0.0));
        assert_eq!(empty.mrr(), Some(0.0));
    }

    #[test]
    fn rating_metrics_by_hand() {
        let mut m = RatingMetrics::new();
        m.add(4.0, 5.0).unwrap(); // error -1
        m.add(3.0, 1.0).unwrap(); // error 2
        m.add(2.5, 2.5).unwrap(); // error 0
        assert_eq!(m.count(), 3);
        assert!(close(m.rmse(), (5.0f64 / 3.0).sqrt()));
        assert!(close(m.mae(), 1.0));
        assert!(m.add(f64::NAN, 3.0).is_err());
        assert!(m.add(3.0, f64::INFINITY).is_err());
        assert_eq!(m.count(), 3);
        let mut n = RatingMetrics::new();
        n.add(1.0, 5.0).unwrap();
        m.merge(&n);
        assert!(close(m.rmse(), (21.0f64 / 4.0).sqrt()));
        assert!(close(m.mae(), 7.0 / 4.0));
        assert_eq!(RatingMetrics::new().rmse(), 0.0);
    }

    #[test]
    fn ties_count_ahead_of_the_target() {
        // Scores: item 1 (target) ties with items 0 and 3; item 2 is better.
        let scores = [0.5f32, 0.5, 0.9, 0.5, 0.1];
        assert_eq!(target_rank(&scores, ItemIdx(1), &[]).unwrap(), 3);
        // Constant scores put the target last, not first.
        let flat = [7u32; 10];
        assert_eq!(target_rank(&flat, ItemIdx(0), &[]).unwrap(), 9);
        assert_eq!(target_rank(&flat, ItemIdx(9), &[]).unwrap(), 9);
        // Strictly better target: nothing ahead.
        assert_eq!(target_rank(&[1.0, 3.0, 2.0], ItemIdx(1), &[]).unwrap(), 0);
    }

    #[test]
    fn exclusion_removes_items_but_never_the_target() {
        let scores = [0.5f64, 0.5, 0.9, 0.5, 0.1];
        // Excluding 2 (better) and 3 (tied) leaves only item 0 ahead.
        assert_eq!(
            target_rank(&scores, ItemIdx(1), &items(&[2, 3, 3, 4])).unwrap(),
            1
        );
        // The target in the exclusion list is ignored.
        assert_eq!(
            target_rank(&scores, ItemIdx(1), &items(&[1, 2])).unwrap(),
            2
        );
        assert!(target_rank(&scores, ItemIdx(1), &items(&[5])).is_err());
        let top = top_k(&scores, 10, &items(&[2, 1]), Some(ItemIdx(1))).unwrap();
        assert_eq!(top, items(&[0, 3, 1, 4]));
    }

    #[test]
    fn top_k_orders_by_score_then_target_last_then_index() {
        let scores = [0.5f32, 0.5, 0.9, 0.5, 0.1];
        assert_eq!(top_k(&scores, 3, &[], None).unwrap(), items(&[2, 0, 1]));
        let with_target = top_k(&scores, 5, &[], Some(ItemIdx(0))).unwrap();
        assert_eq!(with_target, items(&[2, 1, 3, 0, 4]));
        assert_eq!(
            rank_in_list(&with_target, &ItemIdx(0)),
            Some(target_rank(&scores, ItemIdx(0), &[]).unwrap())
        );
        assert!(top_k(&scores, 0, &[], None).unwrap().is_empty());
    }

    #[test]
    fn bad_scores_are_errors() {
        assert!(target_rank(&[0.1f32, f32::NAN], ItemIdx(0), &[]).is_err());
        assert!(target_rank(&[0.1f32], ItemIdx(1), &[]).is_err());
        assert!(top_k(&[f64::NAN], 1, &[], None).is_err());
    }
}

//! What a ranking drawn uniformly at random scores in expectation: the
//! floor below MostPopular that every ranking model is reported beside, so
//! a reader sees at once whether a number means anything.
//!
//! With one target among `n` ranked items, a uniform ranking puts the
//! target at each rank with probability `1 / n`, so the expectations have a
//! closed form and need no sampling: Hit@K = K / n and
//! NDCG@K = Σ_{r=1..K} 1 / log₂(r + 1) / n.

use recalign_data::Dataset;

use crate::protocol::{Protocol, ProtocolTask, Sampler};
use crate::report::Metrics;

/// The expected `hit@K` and `ndcg@K` of a uniformly random ranking of `n`
/// items (one of them the target), for each K of `ks`, named as in reports
/// and in that order. A cut-off beyond the list counts the whole list.
pub fn random_ranking(n: usize, ks: &[usize]) -> Metrics {
    let mut metrics = Metrics::default();
    let n = n.max(1);
    for &k in ks {
        let shown = k.min(n);
        let gain: f64 = (1..=shown).map(|r| 1.0 / ((r + 1) as f64).log2()).sum();
        metrics.insert(format!("hit@{k}"), shown as f64 / n as f64);
        metrics.insert(format!("ndcg@{k}"), gain / n as f64);
    }
    metrics
}

/// [`random_ranking`] of the lists `protocol` ranks on `dataset`: the
/// candidate lists of the ranking task, else the whole catalogue (history
/// items counted in: an upper bound on the list when they are excluded).
pub fn random_expected(dataset: &Dataset, protocol: &Protocol) -> Metrics {
    let listed = match protocol.task {
        ProtocolTask::Ranking {
            candidates,
            sampler: Sampler::Uniform,
            ..
        } => candidates,
        ProtocolTask::Retrieval { .. } | ProtocolTask::Rating => dataset.num_items(),
    };
    random_ranking(listed, &protocol.ks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn one_in_a_hundred_at_ten() {
        let metrics = random_ranking(100, &[1, 10]);
        let gain: f64 = (1..=10).map(|r| 1.0 / ((r + 1) as f64).log2()).sum();
        assert!(close(metrics.get("hit@10").unwrap(), 0.1));
        assert!(close(metrics.get("ndcg@10").unwrap(), gain / 100.0));
        // 1 + 0.6309 + 0.5 + 0.4307 + 0.3869 + 0.3562 + 0.3333 + 0.3155
        // + 0.3010 + 0.2891 = 4.5436
        assert!((metrics.get("ndcg@10").unwrap() - 0.045_436).abs() < 1e-6);
        assert!(close(metrics.get("hit@1").unwrap(), 0.01));
        assert!(close(metrics.get("ndcg@1").unwrap(), 0.01));
        let names: Vec<&str> = metrics.iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["hit@1", "ndcg@1", "hit@10", "ndcg@10"]);
    }

    #[test]
    fn a_cut_off_beyond_the_list_counts_the_whole_list() {
        let metrics = random_ranking(5, &[20]);
        assert!(close(metrics.get("hit@20").unwrap(), 1.0));
        let gain: f64 = (1..=5).map(|r| 1.0 / ((r + 1) as f64).log2()).sum();
        assert!(close(metrics.get("ndcg@20").unwrap(), gain / 5.0));
        assert!(close(random_ranking(0, &[1]).get("hit@1").unwrap(), 1.0));
    }
}

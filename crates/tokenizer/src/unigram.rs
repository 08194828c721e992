//! recalign's own Unigram vocabulary trainer: SentencePiece's recipe (seed
//! pieces from frequent substrings, EM, pruning by the loss a piece's
//! removal costs), written to be deterministic and to reach its budget.
//!
//! `tokenizers`' `UnigramTrainer` kept 601 of 1,948 requested pieces on the
//! shop and split common words (`title` became `▁ t itl e`), and its hash
//! maps and parallel sums made the result vary from run to run. Here every
//! collection is ordered or only looked up, every sum runs in one fixed
//! order on one thread, and ties break on the piece's text, so the same
//! words give the same vocabulary, byte for byte, on any machine.
//!
//! The recipe, over `(word, count)` pairs (words already normalised and
//! pre-tokenised, `▁` marking a word start):
//! 1. Every character is a piece (so no text is ever `<unk>`). Seed pieces
//!    are the substrings of 2 to [`MAX_PIECE_CHARS`] characters seen at
//!    least twice, the [`SEED_FACTOR`] × budget with the highest
//!    frequency × length.
//! 2. Hard EM: each word is cut by Viterbi under the current log
//!    probabilities, pieces are counted (times the word's count), and the
//!    log probabilities re-estimated (an unused piece counts half a use, so
//!    a corpus with fewer distinct words than the budget still fills it).
//! 3. While there are more pieces than the budget, each piece's loss is its
//!    count × (its log probability − that of the best cut of its own text
//!    without it), and the lowest-loss quarter (or just enough to meet the
//!    budget) goes; then back to 2.

use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The longest piece, in characters.
pub const MAX_PIECE_CHARS: usize = 16;
/// Seed pieces per piece of the budget.
pub const SEED_FACTOR: usize = 4;
/// EM rounds between prunings.
const EM_ROUNDS: usize = 2;
/// Share of pieces kept by one pruning.
const SHRINK: f64 = 0.75;

/// Trains `budget` pieces (fewer only when the words do not have that many
/// distinct substrings seen twice) on `words`, and returns them with their
/// log probabilities, highest first, ties by text.
pub fn train(words: &[(String, u32)], budget: usize) -> Vec<(String, f64)> {
    let singles: BTreeSet<String> = words
        .iter()
        .flat_map(|(w, _)| w.chars())
        .map(String::from)
        .collect();
    let mut pieces = Pieces::seed(words, &singles, budget);
    loop {
        for _ in 0..EM_ROUNDS {
            let counts = pieces.viterbi_counts(words);
            pieces.reestimate(&counts);
        }
        let multi = pieces.len() - singles.len();
        let room = budget.saturating_sub(singles.len());
        if multi <= room {
            break;
        }
        let keep = room.max((multi as f64 * SHRINK) as usize);
        let counts = pieces.viterbi_counts(words);
        pieces.prune(&counts, &singles, keep);
    }
    let mut out: Vec<(String, f64)> = pieces.text.into_iter().zip(pieces.log_prob).collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

/// The byte offsets of `word`'s characters, and its length last: character
/// `i` is `word[bounds[i]..bounds[i + 1]]`.
fn char_bounds(word: &str) -> Vec<usize> {
    word.char_indices()
        .map(|(i, _)| i)
        .chain([word.len()])
        .collect()
}

/// The current vocabulary: texts, log probabilities and a lookup.
struct Pieces {
    text: Vec<String>,
    log_prob: Vec<f64>,
    index: HashMap<String, usize>,
}

impl Pieces {
    fn new(scored: Vec<(String, f64)>) -> Self {
        let index = scored
            .iter()
            .enumerate()
            .map(|(i, (t, _))| (t.clone(), i))
            .collect();
        let (text, log_prob) = scored.into_iter().unzip();
        Self {
            text,
            log_prob,
            index,
        }
    }

    fn len(&self) -> usize {
        self.text.len()
    }

    /// Every character, and the most promising substrings.
    fn seed(words: &[(String, u32)], singles: &BTreeSet<String>, budget: usize) -> Self {
        let mut frequency: HashMap<&str, u64> = HashMap::new();
        let mut char_frequency: BTreeMap<&str, u64> = BTreeMap::new();
        for (word, count) in words {
            let bounds = char_bounds(word);
            let chars = bounds.len() - 1;
            for start in 0..chars {
                *char_frequency
                    .entry(&word[bounds[start]..bounds[start + 1]])
                    .or_default() += u64::from(*count);
                for end in start + 2..=chars.min(start + MAX_PIECE_CHARS) {
                    *frequency
                        .entry(&word[bounds[start]..bounds[end]])
                        .or_default() += u64::from(*count);
                }
            }
        }
        let mut candidates: Vec<(&str, u64)> =
            frequency.into_iter().filter(|(_, f)| *f >= 2).collect();
        let gain = |(text, f): &(&str, u64)| f * text.chars().count() as u64;
        candidates.sort_by(|a, b| gain(b).cmp(&gain(a)).then_with(|| a.0.cmp(b.0)));
        candidates.truncate(budget.saturating_mul(SEED_FACTOR));
        let total: u64 =
            candidates.iter().map(|c| c.1).sum::<u64>() + char_frequency.values().sum::<u64>();
        let log_total = (total.max(1) as f64).ln();
        let scored = singles
            .iter()
            .map(|c| {
                let f = char_frequency.get(c.as_str()).copied().unwrap_or(1);
                (c.clone(), (f as f64).ln() - log_total)
            })
            .chain(
                candidates
                    .into_iter()
                    .map(|(t, f)| (t.to_owned(), (f as f64).ln() - log_total)),
            )
            .collect();
        Self::new(scored)
    }

    /// The best cut of `word` (piece indices), never using `banned`.
    fn viterbi(&self, word: &str, banned: Option<usize>) -> Option<(f64, Vec<usize>)> {
        let bounds = char_bounds(word);
        let n = bounds.len() - 1;
        // best[j]: (score, piece, start) of the best cut of the first j chars.
        let mut best: Vec<Option<(f64, usize, usize)>> = vec![None; n + 1];
        best[0] = Some((0.0, usize::MAX, 0));
        for end in 1..=n {
            for start in end.saturating_sub(MAX_PIECE_CHARS)..end {
                let Some((before, _, _)) = best[start] else {
                    continue;
                };
                let Some(&piece) = self.index.get(&word[bounds[start]..bounds[end]]) else {
                    continue;
                };
                if Some(piece) == banned {
                    continue;
                }
                let score = before + self.log_prob[piece];
                if best[end].is_none_or(|(s, _, _)| score > s) {
                    best[end] = Some((score, piece, start));
                }
            }
        }
        let (score, _, _) = best[n]?;
        let mut cut = Vec::new();
        let mut end = n;
        while end > 0 {
            let (_, piece, start) = best[end]?;
            cut.push(piece);
            end = start;
        }
        cut.reverse();
        Some((score, cut))
    }

    /// How often each piece is used when every word is cut by Viterbi.
    fn viterbi_counts(&self, words: &[(String, u32)]) -> Vec<f64> {
        let mut counts = vec![0.0; self.len()];
        for (word, count) in words {
            if let Some((_, cut)) = self.viterbi(word, None) {
                for piece in cut {
                    counts[piece] += f64::from(*count);
                }
            }
        }
        counts
    }

    /// New log probabilities from `counts` (an unused piece counts half a
    /// use; pruning removes it first).
    fn reestimate(&mut self, counts: &[f64]) {
        let log_total = counts.iter().map(|c| c.max(0.5)).sum::<f64>().ln();
        for (log_prob, count) in self.log_prob.iter_mut().zip(counts) {
            *log_prob = count.max(0.5).ln() - log_total;
        }
    }

    /// Keeps every character and the `keep` other pieces whose removal
    /// would cost the most likelihood.
    fn prune(&mut self, counts: &[f64], singles: &BTreeSet<String>, keep: usize) {
        let mut losses: Vec<(f64, usize)> = (0..self.len())
            .filter(|&i| !singles.contains(&self.text[i]))
            .map(|i| {
                let loss = match self.viterbi(&self.text[i], Some(i)) {
                    _ if counts[i] == 0.0 => 0.0,
                    Some((alternative, _)) => counts[i] * (self.log_prob[i] - alternative),
                    None => f64::INFINITY,
                };
                (loss, i)
            })
            .collect();
        losses.sort_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then_with(|| self.text[a.1].cmp(&self.text[b.1]))
        });
        let mut kept: BTreeSet<usize> = losses.iter().take(keep).map(|l| l.1).collect();
        kept.extend((0..self.len()).filter(|&i| singles.contains(&self.text[i])));
        let scored = kept
            .into_iter()
            .map(|i| (self.text[i].clone(), self.log_prob[i]))
            .collect();
        *self = Self::new(scored);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(pairs: &[(&str, u32)]) -> Vec<(String, u32)> {
        let mut w: Vec<(String, u32)> = pairs.iter().map(|(s, c)| (s.to_string(), *c)).collect();
        w.sort();
        w
    }

    #[test]
    fn frequent_words_become_single_pieces() {
        let w = words(&[
            ("▁title", 500),
            ("▁purchased", 300),
            ("▁the", 400),
            ("▁tile", 3),
            ("▁pure", 2),
            ("▁hat", 2),
        ]);
        let pieces = train(&w, 20);
        let texts: Vec<&str> = pieces.iter().map(|p| p.0.as_str()).collect();
        for word in ["▁title", "▁purchased", "▁the"] {
            assert!(texts.contains(&word), "{word} missing from {texts:?}");
        }
    }

    #[test]
    fn the_budget_is_reached_and_every_character_kept() {
        let w = words(&[
            ("▁abcdefgh", 10),
            ("▁bcdefghi", 7),
            ("▁cdxyz", 5),
            ("▁q", 1),
        ]);
        let pieces = train(&w, 30);
        assert_eq!(pieces.len(), 30);
        for c in "▁abcdefghixyzq".chars() {
            assert!(pieces.iter().any(|p| p.0 == c.to_string()), "{c}");
        }
    }

    #[test]
    fn training_is_deterministic() {
        let w = words(&[
            ("▁red", 9),
            ("▁reed", 9),
            ("▁read", 9),
            ("▁bead", 9),
            ("▁bed", 9),
        ]);
        let a = train(&w, 14);
        let b = train(&w, 14);
        assert_eq!(a, b);
    }
}

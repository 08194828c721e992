//! [`Recommender`]: a T5, its tokenizer and the catalogue's answers, asked
//! the way the samples taught it.
//!
//! - **Retrieval**: the prompt of a held-out retrieval sample, then beam
//!   search constrained to the trie of every item's answer tokens (the
//!   retrieval target as the samples write it, through the model's
//!   tokenizer), so only real items come out.
//! - **Ranking**: the prompt lists the candidates; each candidate is scored
//!   by the log-probability of its answer under teacher forcing, the
//!   encoder run once per user and all candidates decoded in one batch
//!   (paper.md §9.2 #10: exact, where a beam would only approximate).
//! - **Rating**: the five answers "1" … "5" are scored the same way; their
//!   probabilities, renormalised, give the expected rating and the argmax
//!   (§9.2 #12). Scoring whole answers works whatever the tokenizer makes
//!   of them.
//!
//! Prompts longer than the model's input budget keep their end (the most
//! recent history and the question), as in training.

use std::path::{Path, PathBuf};

use burn::tensor::backend::Backend;
use recalign_data::{Event, ItemIdx, UserIdx};
use recalign_decode::{
    ItemTrie, Scoring, SearchConfig, T5Scorer, answer_log_probs, encode_prompts, search,
};
use recalign_samples::{Generator, Query, SamplesConfig};
use recalign_t5::T5;
use recalign_tokenizer::T5Tokenizer;

use crate::error::{Error, Result};
use recalign_model_dir::{
    DEFAULT_MAX_INPUT_TOKENS, ModelDir, ModelFile, check_agreement, truncate_input,
};

/// The rating values the model chooses among.
pub const RATINGS: [f32; 5] = [1.0, 2.0, 3.0, 4.0, 5.0];

/// How the model is asked.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Live hypotheses per user in retrieval (at least K; paper.md §9.2
    /// #8: 20).
    pub beams: usize,
    /// How retrieved items are scored.
    pub scoring: Scoring,
    /// Input budget in tokens; longer prompts keep their end.
    pub max_input_tokens: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            beams: 20,
            scoring: Scoring::Sum,
            max_input_tokens: DEFAULT_MAX_INPUT_TOKENS,
        }
    }
}

/// What a [`Recommender`] holds apart from its catalogue.
pub struct ModelParts<B: Backend> {
    /// The model.
    pub model: T5<B>,
    /// Its tokenizer.
    pub tokenizer: T5Tokenizer,
    /// Where the tokenizer was read (named in errors).
    pub tokenizer_path: PathBuf,
}

/// One recommended item.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Recommendation {
    /// The item.
    pub item: ItemIdx,
    /// Its score (log-probability, or per token with
    /// [`Scoring::PerToken`]).
    pub score: f32,
}

/// A predicted rating.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RatingPrediction {
    /// Expected value under the model's distribution over [`RATINGS`].
    pub expected: f32,
    /// The most probable rating.
    pub argmax: f32,
    /// The distribution over [`RATINGS`] (sums to 1).
    pub probabilities: [f32; 5],
}

/// One user's request: who (shown only in P5-style prompts) and what came
/// before, oldest first.
#[derive(Debug, Clone, Copy)]
pub struct History<'a> {
    /// The user, when known.
    pub user: Option<UserIdx>,
    /// The interactions, oldest first; at least one.
    pub events: &'a [Event],
}

/// A fine-tuned T5 as a recommender over one dataset's catalogue.
pub struct Recommender<'g, 'd, B: Backend> {
    model: T5<B>,
    tokenizer: T5Tokenizer,
    tokenizer_path: PathBuf,
    generator: &'g Generator<'d>,
    answers: Vec<Vec<u32>>,
    trie: ItemTrie,
    ratings: Vec<Vec<u32>>,
    settings: Settings,
    device: B::Device,
}

impl<'g, 'd, B: Backend> Recommender<'g, 'd, B> {
    /// Loads `config.json`, `model.safetensors` and `tokenizer.json` from
    /// `dir`.
    pub fn load(
        dir: &Path,
        generator: &'g Generator<'d>,
        settings: Settings,
        device: &B::Device,
    ) -> Result<Self> {
        let dir = ModelDir::open(dir)?;
        let trained = dir.trained_with()?;
        let here = generator.dataset().config.identifier_key();
        if let (Some(theirs), Some(manifest)) = (&trained.identifiers, &trained.manifest)
            && *theirs != here
        {
            return Err(Error::Mismatch {
                path: manifest.clone(),
                message: format!(
                    "the model was trained on item identifiers `{theirs}`, but this dataset \
                     is prepared with `{here}`: prepare it as the model's was \
                     (prepare.id_scheme, [prepare.semantic], prepare.seed)"
                ),
            });
        }
        let model = T5::load(dir.path(), device)?;
        let tokenizer = dir.load_tokenizer()?;
        Self::new(
            model,
            tokenizer,
            dir.file(ModelFile::Tokenizer),
            generator,
            settings,
            device,
        )
    }

    /// A recommender from a loaded model and tokenizer (`tokenizer_path`
    /// names the tokenizer in errors). Checks that the tokenizer fits the
    /// model and writes every item's answer without unknown tokens, and
    /// builds the trie.
    pub fn new(
        model: T5<B>,
        tokenizer: T5Tokenizer,
        tokenizer_path: PathBuf,
        generator: &'g Generator<'d>,
        settings: Settings,
        device: &B::Device,
    ) -> Result<Self> {
        let mismatch = |message: String| Error::Mismatch {
            path: tokenizer_path.clone(),
            message,
        };
        check_agreement(model.config(), &tokenizer, &tokenizer_path)?;
        if settings.max_input_tokens == 0 {
            return Err(Error::Request(
                "the input budget must be at least 1 token".into(),
            ));
        }
        let dataset = generator.dataset();
        let texts: Vec<String> = (0..dataset.num_items())
            .map(|i| generator.item_answer(ItemIdx(i as u32)))
            .collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let answers = tokenizer.encode_batch(&refs)?;
        let unk = tokenizer.token_id(recalign_tokenizer::UNK);
        if let Some(i) = answers
            .iter()
            .position(|a| unk.is_some_and(|u| a.contains(&u)))
        {
            return Err(mismatch(format!(
                "item `{}` reads `{}`, which this tokenizer cannot write (it becomes <unk>); \
                 the model was trained on another catalogue or tokenizer",
                dataset.item(ItemIdx(i as u32)).raw_id,
                texts[i]
            )));
        }
        let trie = ItemTrie::new(&answers).map_err(|e| {
            let name = |i: usize| dataset.item(ItemIdx(i as u32)).raw_id.clone();
            mismatch(match e {
                recalign_decode::TrieError::Duplicate(a, b) => format!(
                    "items `{}` and `{}` tokenise alike, so the model cannot tell them apart",
                    name(a),
                    name(b)
                ),
                other => other.to_string(),
            })
        })?;
        let ratings = RATINGS
            .iter()
            .map(|&r| tokenizer.encode(&generator.rating_answer(r)))
            .collect::<std::result::Result<_, _>>()?;
        Ok(Self {
            model,
            tokenizer,
            tokenizer_path,
            generator,
            answers,
            trie,
            ratings,
            settings,
            device: device.clone(),
        })
    }

    /// Gives back the model and tokenizer, so that a recommender over a
    /// changed catalogue (items added at run time) can be built with
    /// [`Recommender::new`] without reloading them.
    pub fn into_parts(self) -> ModelParts<B> {
        ModelParts {
            model: self.model,
            tokenizer: self.tokenizer,
            tokenizer_path: self.tokenizer_path,
        }
    }

    /// The answer tokens of an item not yet in the catalogue, whose answer
    /// reads `text` (`raw_id` names it in errors), checked as
    /// [`Recommender::new`] checks every item's: the tokenizer writes it
    /// without unknown tokens, and it is neither another item's answer nor
    /// a prefix of one (nor one of them a prefix of it).
    pub fn new_item_answer(&self, raw_id: &str, text: &str) -> Result<Vec<u32>> {
        let tokens = self.tokenizer.encode(text)?;
        let unk = self.tokenizer.token_id(recalign_tokenizer::UNK);
        if unk.is_some_and(|u| tokens.contains(&u)) {
            return Err(Error::Request(format!(
                "item `{raw_id}` would read `{text}`, which the model's tokenizer cannot write \
                 (it becomes <unk>): use tokens the model was trained on"
            )));
        }
        let name = |i: usize| &self.generator.dataset().item(ItemIdx(i as u32)).raw_id;
        self.trie.admits(&tokens).map_err(|e| {
            Error::Request(match e {
                recalign_decode::TrieError::Duplicate(other, _) => format!(
                    "item `{raw_id}` would read `{text}`, which the model writes exactly as \
                     item `{}`",
                    name(other)
                ),
                recalign_decode::TrieError::Prefix(a, _) if a < self.trie.len() => format!(
                    "item `{}`'s answer is a prefix of item `{raw_id}`'s (`{text}`), so \
                     decoding could not tell them apart",
                    name(a)
                ),
                recalign_decode::TrieError::Prefix(_, b) => format!(
                    "item `{raw_id}`'s answer (`{text}`) is a prefix of item `{}`'s, so \
                     decoding could not tell them apart",
                    name(b)
                ),
                other => format!("item `{raw_id}` cannot be added: {other}"),
            })
        })?;
        Ok(tokens)
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The samples configuration its prompts are written in (wording,
    /// templates, history shown).
    pub fn samples(&self) -> &SamplesConfig {
        self.generator.config()
    }

    /// The model.
    pub fn model(&self) -> &T5<B> {
        &self.model
    }

    /// The trie of the catalogue's answers.
    pub fn trie(&self) -> &ItemTrie {
        &self.trie
    }

    /// Token ids of each item's answer, ending in `</s>`.
    pub fn answers(&self) -> &[Vec<u32>] {
        &self.answers
    }

    /// The prompt for `query` after `history`, as token ids within the
    /// input budget.
    pub fn prompt_tokens(&self, history: History<'_>, query: Query<'_>) -> Result<Vec<u32>> {
        let text = self.prompt_text(history, query)?;
        let mut tokens = self.tokenizer.encode(&text)?;
        truncate_input(&mut tokens, self.settings.max_input_tokens);
        Ok(tokens)
    }

    /// The prompt text for `query` after `history`.
    pub fn prompt_text(&self, history: History<'_>, query: Query<'_>) -> Result<String> {
        if history.events.is_empty() {
            return Err(Error::Request(
                "the history is empty: the model recommends from at least one item".into(),
            ));
        }
        for event in history.events {
            self.check_item(event.item, "item")?;
        }
        match query {
            Query::Rating { item } => self.check_item(item, "rated item")?,
            Query::Ranking { candidates } => {
                for &candidate in candidates {
                    self.check_item(candidate, "candidate")?;
                }
            }
            _ => {}
        }
        Ok(self.generator.prompt(history.user, history.events, query))
    }

    /// Refuses an item index outside the catalogue (`what` names it).
    fn check_item(&self, item: ItemIdx, what: &str) -> Result<()> {
        let items = self.generator.dataset().num_items();
        if item.index() >= items {
            return Err(Error::Request(format!(
                "{what} index {} is outside the catalogue of {items}",
                item.0
            )));
        }
        Ok(())
    }

    fn prompts(&self, requests: &[(History<'_>, Query<'_>)]) -> Result<Vec<Vec<u32>>> {
        requests
            .iter()
            .map(|&(h, q)| self.prompt_tokens(h, q))
            .collect()
    }

    /// The top `k` items for each history, best first, leaving out
    /// `excluded[u]` for history `u` (none for histories past its end).
    pub fn retrieve(
        &self,
        histories: &[History<'_>],
        k: usize,
        excluded: &[Vec<ItemIdx>],
    ) -> Result<Vec<Vec<Recommendation>>> {
        let items = self.trie.len();
        if k == 0 || k > items {
            return Err(Error::Request(format!(
                "K = {k}: it must be between 1 and the catalogue's {items} items"
            )));
        }
        if histories.is_empty() {
            return Ok(Vec::new());
        }
        let requests: Vec<_> = histories.iter().map(|&h| (h, Query::Retrieval)).collect();
        let prompts = self.prompts(&requests)?;
        let encoded = encode_prompts(&self.model, &prompts, &self.device);
        // One decoder row per beam of every user, the encoder memory shared.
        let beams = self.settings.beams.max(k);
        let mut scorer = T5Scorer::grouped(&self.model, &encoded, beams);
        let config = SearchConfig {
            scoring: self.settings.scoring,
            ..SearchConfig::new(beams, k, self.model.config().decoder_start_token_id)
        };
        let excluded: Vec<Vec<usize>> = excluded
            .iter()
            .map(|items| items.iter().map(|i| i.index()).collect())
            .collect();
        let found = search(&mut scorer, &self.trie, histories.len(), &config, &excluded)?;
        Ok(found
            .into_iter()
            .map(|hypotheses| {
                hypotheses
                    .into_iter()
                    .map(|h| Recommendation {
                        item: ItemIdx(h.item as u32),
                        score: h.score,
                    })
                    .collect()
            })
            .collect())
    }

    /// The log-probability of each candidate's answer for each request,
    /// candidates in the order given. Candidates must be distinct catalogue
    /// items, at least one per request.
    pub fn rank(&self, requests: &[(History<'_>, &[ItemIdx])]) -> Result<Vec<Vec<f32>>> {
        for (_, candidates) in requests {
            if candidates.is_empty() {
                return Err(Error::Request("no candidates to rank".into()));
            }
            for &candidate in *candidates {
                self.check_item(candidate, "candidate")?;
            }
            let mut sorted = candidates.to_vec();
            sorted.sort_unstable();
            if let Some(pair) = sorted.windows(2).find(|w| w[0] == w[1]) {
                let raw = &self.generator.dataset().item(pair[0]).raw_id;
                return Err(Error::Request(format!("candidate `{raw}` is listed twice")));
            }
        }
        let queries: Vec<_> = requests
            .iter()
            .map(|&(h, candidates)| (h, Query::Ranking { candidates }))
            .collect();
        let answers = requests.iter().map(|(_, candidates)| {
            candidates
                .iter()
                .map(|c| self.answers[c.index()].clone())
                .collect()
        });
        self.score(&queries, answers.collect())
    }

    /// The predicted rating of `item` after each history; an item outside
    /// the catalogue is refused.
    pub fn rate(&self, requests: &[(History<'_>, ItemIdx)]) -> Result<Vec<RatingPrediction>> {
        for &(_, item) in requests {
            self.check_item(item, "rated item")?;
        }
        let queries: Vec<_> = requests
            .iter()
            .map(|&(h, item)| (h, Query::Rating { item }))
            .collect();
        let answers = vec![self.ratings.clone(); requests.len()];
        let scores = self.score(&queries, answers)?;
        Ok(scores.iter().map(|s| rating_from_log_probs(s)).collect())
    }

    /// Teacher-forced log-probabilities of `answers[r]` after prompt `r`.
    fn score(
        &self,
        queries: &[(History<'_>, Query<'_>)],
        answers: Vec<Vec<Vec<u32>>>,
    ) -> Result<Vec<Vec<f32>>> {
        if queries.is_empty() {
            return Ok(Vec::new());
        }
        let prompts = self.prompts(queries)?;
        let encoded = encode_prompts(&self.model, &prompts, &self.device);
        let rows: Vec<usize> = answers
            .iter()
            .enumerate()
            .flat_map(|(r, a)| std::iter::repeat_n(r, a.len()))
            .collect();
        let flat: Vec<Vec<u32>> = answers.iter().flatten().cloned().collect();
        let scores = answer_log_probs(&self.model, &encoded, &rows, &flat);
        let mut rest = scores.as_slice();
        Ok(answers
            .iter()
            .map(|a| {
                let (mine, after) = rest.split_at(a.len());
                rest = after;
                mine.to_vec()
            })
            .collect())
    }
}

/// Expected value and argmax of the ratings whose answers have these
/// log-probabilities (renormalised over the five).
pub fn rating_from_log_probs(log_probs: &[f32]) -> RatingPrediction {
    let top = log_probs.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let weights: Vec<f32> = log_probs.iter().map(|&l| (l - top).exp()).collect();
    let total: f32 = weights.iter().sum();
    let mut probabilities = [0.0; 5];
    for (p, w) in probabilities.iter_mut().zip(&weights) {
        *p = w / total;
    }
    let expected = RATINGS.iter().zip(&probabilities).map(|(r, p)| r * p).sum();
    let best = (0..RATINGS.len())
        .max_by(|&a, &b| {
            probabilities[a]
                .total_cmp(&probabilities[b])
                .then(b.cmp(&a))
        })
        .unwrap_or(0);
    RatingPrediction {
        expected,
        argmax: RATINGS[best],
        probabilities,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratings_follow_the_renormalised_distribution() {
        // Probabilities 0.1, 0.1, 0.2, 0.2, 0.4 scaled by an unknown mass.
        let mass = 0.3f32;
        let logs: Vec<f32> = [0.1f32, 0.1, 0.2, 0.2, 0.4]
            .iter()
            .map(|p| (p * mass).ln())
            .collect();
        let r = rating_from_log_probs(&logs);
        let expected = 0.1 + 0.2 + 0.6 + 0.8 + 2.0;
        assert!((r.expected - expected).abs() < 1e-5, "{}", r.expected);
        assert_eq!(r.argmax, 5.0);
        assert!((r.probabilities.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        // Ties go to the lower rating.
        let tie = rating_from_log_probs(&[-1.0, -1.0, -3.0, -3.0, -3.0]);
        assert_eq!(tie.argmax, 1.0);
    }
}

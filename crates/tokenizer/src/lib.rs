//! T5 tokenizers: any `tokenizer.json` (FLAN-T5's included), or one trained
//! here for runs from scratch.
//!
//! A trained tokenizer follows T5's conventions: a SentencePiece-style
//! Unigram model, `<pad>` = 0, `</s>` = 1, `<unk>` = 2, `</s>` appended to
//! every sequence, and 100 sentinels `<extra_id_0>`…`<extra_id_99>` at the
//! top of the vocabulary (`<extra_id_0>` last, as in T5).
//!
//! Item identifiers: digits are split one by one before the Unigram model
//! sees them, so an identifier such as `3187` is always `▁ 3 1 8 7 </s>`:
//! as many pieces as digits plus one, the same in every context. The
//! decoding stage builds its item trie from exactly these token ids, and a
//! model never has to learn arbitrary multi-digit pieces.
//!
//! Whole tokens: identifiers written as dedicated tokens (`<i_704>`, the
//! `atomic` scheme) are given to the trainer as [`TrainOptions::whole_tokens`].
//! Each becomes one token id, between the trained pieces and the sentinels,
//! and is removed from the text the pieces are learnt on.

mod unigram;

use std::collections::BTreeMap;
use std::path::Path;

use tokenizers::decoders::metaspace::Metaspace as MetaspaceDecoder;
use tokenizers::models::unigram::Unigram;
use tokenizers::normalizers::replace::ReplacePattern;
use tokenizers::normalizers::{NFKC, Replace, Sequence as NormalizerSequence, Strip};
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::metaspace::{Metaspace, PrependScheme};
use tokenizers::pre_tokenizers::sequence::Sequence as PreTokenizerSequence;
use tokenizers::processors::template::TemplateProcessing;
use tokenizers::{AddedToken, Tokenizer};
use tokenizers::{
    NormalizedString, Normalizer, OffsetReferential, OffsetType, PreTokenizedString, PreTokenizer,
};

/// Padding token (id 0 in T5).
pub const PAD: &str = "<pad>";
/// End of sequence (id 1 in T5).
pub const EOS: &str = "</s>";
/// Unknown piece (id 2 in T5).
pub const UNK: &str = "<unk>";
/// Number of `<extra_id_N>` sentinels T5 has and the samples may use.
pub const SENTINELS: usize = 100;

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// What can go wrong with a tokenizer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `tokenizer.json` could not be read or parsed.
    #[error("{path}: {message}")]
    Load {
        /// The file.
        path: String,
        /// The cause.
        message: String,
    },
    /// The tokenizer lacks a token T5 needs.
    #[error("{path}: the tokenizer has no `{token}` token{detail}")]
    MissingToken {
        /// The file (or `trained`).
        path: String,
        /// The token.
        token: String,
        /// Where it was expected, if anywhere in particular.
        detail: String,
    },
    /// Training failed.
    #[error("tokenizer training: {0}")]
    Train(String),
    /// Encoding or decoding failed.
    #[error("tokenizer: {0}")]
    Codec(String),
    /// Writing `tokenizer.json` failed.
    #[error(transparent)]
    Save(#[from] recalign_runtime::IoError),
}

/// Settings of a tokenizer trained from scratch.
#[derive(Debug, Clone, Default)]
pub struct TrainOptions {
    /// Vocabulary size of the trained pieces, special tokens and sentinels
    /// included; whole tokens come on top.
    pub vocab_size: usize,
    /// Tokens kept whole, one id each, in this order (atomic item
    /// identifiers). Each must read `<…>` without spaces.
    pub whole_tokens: Vec<String>,
}

/// A tokenizer checked to have T5's special tokens.
#[derive(Clone)]
pub struct T5Tokenizer {
    inner: Tokenizer,
    pad: u32,
    eos: u32,
    sentinel_ids: Vec<u32>,
}

impl std::fmt::Debug for T5Tokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("T5Tokenizer")
            .field("vocab_size", &self.vocab_size())
            .field("pad", &self.pad)
            .field("eos", &self.eos)
            .finish()
    }
}

impl T5Tokenizer {
    /// Loads a `tokenizer.json` and checks its special tokens.
    pub fn from_file(path: &Path) -> Result<Self> {
        let inner = Tokenizer::from_file(path).map_err(|e| Error::Load {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::checked(inner, &path.display().to_string())
    }

    fn checked(inner: Tokenizer, origin: &str) -> Result<Self> {
        let id = |token: &str| {
            inner.token_to_id(token).ok_or_else(|| Error::MissingToken {
                path: origin.to_owned(),
                token: token.to_owned(),
                detail: String::new(),
            })
        };
        let pad = id(PAD)?;
        let eos = id(EOS)?;
        id(UNK)?;
        let sentinel_ids = (0..SENTINELS)
            .map(|i| {
                id(&sentinel(i)).map_err(|e| match e {
                    Error::MissingToken { path, token, .. } => Error::MissingToken {
                        path,
                        token,
                        detail: format!(" (T5 has {SENTINELS} sentinels, used by MIM and MLM)"),
                    },
                    other => other,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let tokenizer = Self {
            inner,
            pad,
            eos,
            sentinel_ids,
        };
        let probe = tokenizer.encode("x")?;
        if probe.last() != Some(&eos) {
            return Err(Error::MissingToken {
                path: origin.to_owned(),
                token: EOS.to_owned(),
                detail: " appended by its post-processor".to_owned(),
            });
        }
        Ok(tokenizer)
    }

    /// Trains a Unigram tokenizer on `texts` (dataset titles, sample text)
    /// with recalign's deterministic trainer (`unigram.rs`): the same texts
    /// give the same `tokenizer.json`, byte for byte.
    pub fn train<I, S>(texts: I, options: TrainOptions) -> Result<Self>
    where
        I: Iterator<Item = S> + Send,
        S: AsRef<str> + Send,
    {
        let train_error = |e: tokenizers::Error| Error::Train(e.to_string());
        let whole = WholeTokens::new(&options.whole_tokens)?;
        let specials = [PAD, EOS, UNK].map(|t| AddedToken::from(t, true)).to_vec();
        let piece_budget = options
            .vocab_size
            .checked_sub(SENTINELS)
            .filter(|n| *n > specials.len() + 10)
            .ok_or_else(|| {
                Error::Train(format!(
                    "vocab_size {} leaves no room beside {SENTINELS} sentinels",
                    options.vocab_size
                ))
            })?;
        let mut inner = Tokenizer::new(Unigram::default());
        inner
            .with_normalizer(Some(NormalizerSequence::new(vec![
                NFKC.into(),
                Replace::new(ReplacePattern::Regex(r"\s+".into()), " ")
                    .map_err(train_error)?
                    .into(),
                Strip::new(true, true).into(),
            ])))
            .map_err(train_error)?;
        inner.with_pre_tokenizer(Some(PreTokenizerSequence::new(vec![
            Metaspace::new('▁', PrependScheme::Always, true).into(),
            Digits::new(true).into(),
        ])));
        inner.with_decoder(Some(MetaspaceDecoder::new(
            '▁',
            PrependScheme::Always,
            true,
        )));
        let words = word_counts(&inner, texts.map(|t| whole.strip(t.as_ref())))?;
        let mut vocab: Vec<(String, f64)> = [PAD, EOS, UNK].map(|t| (t.to_owned(), 0.0)).to_vec();
        let unk = vocab.iter().position(|(piece, _)| piece == UNK);
        vocab.extend(unigram::train(&words, piece_budget - vocab.len()));
        let model = Unigram::from(vocab, unk, false).map_err(|e| Error::Train(e.to_string()))?;
        inner.with_model(model);
        inner.add_special_tokens(specials).map_err(train_error)?;
        // Between the pieces and the sentinels; `whole` checked they are
        // distinct, and the pieces were learnt without them.
        add_missing(&mut inner, &options.whole_tokens).map_err(train_error)?;
        let sentinels = (0..SENTINELS)
            .rev()
            .map(|i| AddedToken::from(sentinel(i), true));
        inner.add_special_tokens(sentinels).map_err(train_error)?;
        let eos = inner.token_to_id(EOS).expect("trained with </s>");
        inner.with_post_processor(Some(
            TemplateProcessing::builder()
                .try_single(format!("$A {EOS}"))
                .and_then(|b| b.try_pair(format!("$A {EOS} $B {EOS}")))
                .map_err(Error::Train)?
                .special_tokens(vec![(EOS.to_owned(), eos)])
                .build()
                .map_err(|e| Error::Train(e.to_string()))?,
        ));
        Self::checked(inner, "trained tokenizer")
    }

    /// Adds the `tokens` the vocabulary lacks as whole tokens (one id each,
    /// after every existing id), as [`TrainOptions::whole_tokens`] does for
    /// a trained tokenizer; returns how many were added.
    pub fn add_whole_tokens(&mut self, tokens: &[String]) -> Result<usize> {
        WholeTokens::new(tokens)?;
        add_missing(&mut self.inner, tokens).map_err(|e| Error::Codec(e.to_string()))
    }

    /// Writes `tokenizer.json` atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = self
            .inner
            .to_string(true)
            .map_err(|e| Error::Codec(e.to_string()))?;
        Ok(recalign_runtime::write_atomically(path, text.as_bytes())?)
    }

    /// `text` encoded, with `</s>` appended.
    fn encoding(&self, text: &str) -> Result<tokenizers::Encoding> {
        self.inner
            .encode(text, true)
            .map_err(|e| Error::Codec(e.to_string()))
    }

    /// Token ids of `text`, ending in `</s>`.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        Ok(self.encoding(text)?.get_ids().to_vec())
    }

    /// Token ids of many texts, in parallel.
    pub fn encode_batch(&self, texts: &[&str]) -> Result<Vec<Vec<u32>>> {
        let encodings = self
            .inner
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| Error::Codec(e.to_string()))?;
        Ok(encodings.iter().map(|e| e.get_ids().to_vec()).collect())
    }

    /// Text of `ids`, special tokens dropped.
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        self.inner
            .decode(ids, true)
            .map_err(|e| Error::Codec(e.to_string()))
    }

    /// The pieces of `text` as strings (for inspection and docs).
    pub fn pieces(&self, text: &str) -> Result<Vec<String>> {
        Ok(self.encoding(text)?.get_tokens().to_vec())
    }

    /// Number of token ids, added tokens included.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// Id of `<pad>`.
    pub fn pad_id(&self) -> u32 {
        self.pad
    }

    /// Id of `</s>`.
    pub fn eos_id(&self) -> u32 {
        self.eos
    }

    /// Id of `<extra_id_{index}>`.
    pub fn sentinel_id(&self, index: usize) -> Option<u32> {
        self.sentinel_ids.get(index).copied()
    }

    /// Id of a token, if the vocabulary has it.
    pub fn token_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }
}

/// Adds the `tokens` `tokenizer` lacks as whole, non-special tokens, after
/// every existing id; returns how many were added.
fn add_missing(tokenizer: &mut Tokenizer, tokens: &[String]) -> tokenizers::Result<usize> {
    let missing: Vec<AddedToken> = tokens
        .iter()
        .filter(|t| tokenizer.token_to_id(t).is_none())
        .map(|t| AddedToken::from(t.clone(), false))
        .collect();
    tokenizer.add_tokens(missing)
}

/// The whole tokens of a training, to be cut out of the text the pieces
/// are learnt on.
struct WholeTokens<'a>(std::collections::HashSet<&'a str>);

impl<'a> WholeTokens<'a> {
    fn new(tokens: &'a [String]) -> Result<Self> {
        let mut set = std::collections::HashSet::with_capacity(tokens.len());
        for token in tokens {
            let inner = token.strip_prefix('<').and_then(|t| t.strip_suffix('>'));
            if inner.is_none_or(|t| {
                t.is_empty() || t.contains(['<', '>']) || t.contains(char::is_whitespace)
            }) {
                return Err(Error::Train(format!(
                    "whole token `{token}` must read `<…>`, without spaces or inner brackets"
                )));
            }
            if !set.insert(token.as_str()) {
                return Err(Error::Train(format!("whole token `{token}` is repeated")));
            }
        }
        Ok(Self(set))
    }

    /// `text` with every whole token replaced by a space.
    fn strip(&self, text: &str) -> String {
        if self.0.is_empty() {
            return text.to_owned();
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(open) = rest.find('<') {
            out.push_str(&rest[..open]);
            let candidate = rest[open..]
                .find('>')
                .map(|close| &rest[open..=open + close]);
            match candidate {
                Some(token) if self.0.contains(token) => {
                    out.push(' ');
                    rest = &rest[open + token.len()..];
                }
                _ => {
                    out.push('<');
                    rest = &rest[open + 1..];
                }
            }
        }
        out.push_str(rest);
        out
    }
}

/// Normalised, pre-tokenised words of `texts` with their counts, sorted.
fn word_counts<I, S>(tokenizer: &Tokenizer, texts: I) -> Result<Vec<(String, u32)>>
where
    I: Iterator<Item = S>,
    S: AsRef<str>,
{
    let train_error = |e: tokenizers::Error| Error::Train(e.to_string());
    let normalizer = tokenizer.get_normalizer().expect("set above");
    let pre_tokenizer = tokenizer.get_pre_tokenizer().expect("set above");
    let mut counts: BTreeMap<String, u32> = BTreeMap::new();
    for text in texts {
        let mut normalized = NormalizedString::from(text.as_ref());
        normalizer.normalize(&mut normalized).map_err(train_error)?;
        let mut pre = PreTokenizedString::from(normalized);
        pre_tokenizer.pre_tokenize(&mut pre).map_err(train_error)?;
        for (word, _, _) in pre.get_splits(OffsetReferential::Original, OffsetType::Byte) {
            *counts.entry(word.to_owned()).or_default() += 1;
        }
    }
    Ok(counts.into_iter().collect())
}

/// The text of sentinel `index`: `<extra_id_{index}>`.
pub fn sentinel(index: usize) -> String {
    format!("<extra_id_{index}>")
}

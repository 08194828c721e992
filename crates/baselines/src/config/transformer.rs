//! The transformer settings SASRec and BERT4Rec share, and how their TOML
//! tables carry them: flat, beside the model's own keys (`[sasrec]` holds
//! `hidden = 64` and `loss = "ce"` alike). `#[serde(flatten)]` would nest
//! the struct but cannot refuse unknown keys, so a section is read key by
//! key instead: the transformer takes its keys, the model its own, and any
//! other key is refused by name.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::{check, check_positive, check_probability};
use crate::error::Result;

/// The encoder of SASRec and BERT4Rec (RecBole's `TransformerEncoder` with
/// the item and position embeddings before it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TransformerConfig {
    /// Model width (64).
    pub hidden: usize,
    /// Transformer blocks (2).
    pub layers: usize,
    /// Attention heads; must divide `hidden` (2).
    pub heads: usize,
    /// Feed-forward width (256).
    pub inner: usize,
    /// Dropout on embeddings and block outputs (SASRec 0.5, BERT4Rec 0.2).
    pub dropout: f64,
    /// Dropout on attention weights (SASRec 0.5, BERT4Rec 0.2).
    pub attention_dropout: f64,
    /// Layer-norm epsilon (1e-12).
    pub layer_norm_eps: f64,
    /// Positions read, one learned embedding each (50): SASRec's most
    /// recent items; BERT4Rec's count the appended `[mask]`.
    pub max_len: usize,
}

impl TransformerConfig {
    /// The TOML keys, in declaration order (for the unknown-key error).
    const KEYS: [&str; 8] = [
        "hidden",
        "layers",
        "heads",
        "inner",
        "dropout",
        "attention_dropout",
        "layer_norm_eps",
        "max_len",
    ];

    /// RecBole's settings with `dropout` on embeddings, block outputs and
    /// attention weights alike.
    pub fn recbole(dropout: f64) -> Self {
        TransformerConfig {
            hidden: 64,
            layers: 2,
            heads: 2,
            inner: 256,
            dropout,
            attention_dropout: dropout,
            layer_norm_eps: 1e-12,
            max_len: 50,
        }
    }

    /// Checks the ranges of every setting but `max_len` (whose bound is the
    /// model's), naming the key (`section.…`).
    pub(super) fn validate(&self, section: &str) -> Result<()> {
        let key = |name: &str| format!("{section}.{name}");
        check_positive(&key("hidden"), self.hidden)?;
        check_positive(&key("layers"), self.layers)?;
        check_positive(&key("heads"), self.heads)?;
        check(
            &key("heads"),
            self.hidden.is_multiple_of(self.heads),
            self.heads,
            &format!("a divisor of hidden = {}", self.hidden),
        )?;
        check_positive(&key("inner"), self.inner)?;
        check_probability(&key("dropout"), self.dropout)?;
        check_probability(&key("attention_dropout"), self.attention_dropout)?;
        check(
            &key("layer_norm_eps"),
            self.layer_norm_eps > 0.0 && self.layer_norm_eps < 1.0,
            self.layer_norm_eps,
            "in (0, 1)",
        )
    }

    /// Reads the value of `key` if it is a transformer key; says whether it
    /// was.
    pub(super) fn read<'de, A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
    ) -> Result<bool, A::Error> {
        match key {
            "hidden" => self.hidden = map.next_value()?,
            "layers" => self.layers = map.next_value()?,
            "heads" => self.heads = map.next_value()?,
            "inner" => self.inner = map.next_value()?,
            "dropout" => self.dropout = map.next_value()?,
            "attention_dropout" => self.attention_dropout = map.next_value()?,
            "layer_norm_eps" => self.layer_norm_eps = map.next_value()?,
            "max_len" => self.max_len = map.next_value()?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// A model's table: the transformer's keys plus the model's own. Missing
/// keys keep the model's defaults.
pub(super) trait Section: Default {
    /// The model's own keys (for the unknown-key error).
    const OWN_KEYS: &'static [&'static str];

    /// Reads the value of `key` if it is one of the model's own keys or
    /// else the transformer's ([`TransformerConfig::read`]); says whether
    /// it was.
    fn read<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error>;
}

/// Reads a [`Section`] from a table, refusing unknown keys by name.
pub(super) fn deserialize<'de, S: Section, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<S, D::Error> {
    deserializer.deserialize_map(SectionVisitor(PhantomData))
}

/// The error for a key that is neither the transformer's nor the model's.
fn unknown_key<S: Section, E: de::Error>(key: &str) -> E {
    let expected: Vec<String> = TransformerConfig::KEYS
        .iter()
        .chain(S::OWN_KEYS)
        .map(|k| format!("`{k}`"))
        .collect();
    E::custom(format!(
        "unknown field `{key}`, expected one of {}",
        expected.join(", ")
    ))
}

struct SectionVisitor<S>(PhantomData<S>);

impl<'de, S: Section> Visitor<'de> for SectionVisitor<S> {
    type Value = S;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a table of model settings")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<S, A::Error> {
        let mut section = S::default();
        while let Some(key) = map.next_key_seed(Key::<S>(PhantomData))? {
            if !section.read(&key, &mut map)? {
                return Err(unknown_key::<S, _>(&key));
            }
        }
        Ok(section)
    }
}

/// A key of section `S`, refused as it is read (so that the error points
/// at it) unless the transformer or the model lists it.
struct Key<S>(PhantomData<S>);

impl<'de, S: Section> DeserializeSeed<'de> for Key<S> {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        let key = String::deserialize(deserializer)?;
        let mut known = TransformerConfig::KEYS.iter().chain(S::OWN_KEYS);
        if known.any(|k| *k == key) {
            Ok(key)
        } else {
            Err(unknown_key::<S, _>(&key))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Bert4RecConfig, SasRecConfig};

    /// The keys written are the keys read, and the error lists them.
    fn keys_are_listed<S: Section + Serialize>(section: &S) {
        let written = serde_json::to_value(section).unwrap();
        let mut written: Vec<&str> = written
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut listed: Vec<&str> = TransformerConfig::KEYS
            .iter()
            .chain(S::OWN_KEYS)
            .copied()
            .collect();
        written.sort_unstable();
        listed.sort_unstable();
        assert_eq!(written, listed);
    }

    #[test]
    fn every_key_is_listed() {
        keys_are_listed(&SasRecConfig::default());
        keys_are_listed(&Bert4RecConfig::default());
    }
}

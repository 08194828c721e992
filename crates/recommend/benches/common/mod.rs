//! What the recommend benches share: the embedded shop, and the tokenizer a
//! preset gets when trained on its prompts and answers.

use recalign_data::synthetic::SyntheticConfig;
use recalign_data::{Dataset, DatasetSpec, ItemIdx, LoadOptions, PrepareConfig};
use recalign_samples::{Generator, Query};
use recalign_t5::Preset;
use recalign_tokenizer::{T5Tokenizer, TrainOptions};

/// The embedded shop, prepared with the defaults.
pub fn shop() -> Dataset {
    let spec = DatasetSpec::Synthetic(SyntheticConfig::default());
    recalign_data::load(&spec, &PrepareConfig::default(), &LoadOptions::default())
        .expect("the shop prepares")
        .dataset
}

/// A tokenizer of `preset`'s vocabulary, trained on the retrieval prompts
/// of the first 1,000 users and every item's answer.
pub fn tokenizer(data: &Dataset, generator: &Generator<'_>, preset: Preset) -> T5Tokenizer {
    let mut texts: Vec<String> = data
        .users()
        .take(1000)
        .map(|u| generator.prompt(Some(u), data.train_sequence(u), Query::Retrieval))
        .collect();
    texts.extend((0..data.num_items()).map(|i| generator.item_answer(ItemIdx(i as u32))));
    T5Tokenizer::train(
        texts.iter(),
        TrainOptions {
            vocab_size: preset.vocab_size(),
            ..Default::default()
        },
    )
    .expect("tokenizer trains")
}

//! Behaviour of the T5 module that does not need the HF fixture: position
//! buckets, incremental decoding, padding, gradients, saving and loading.

mod common;

use burn::backend::{Autodiff, Flex};
use std::collections::HashSet;

use burn::module::{AutodiffModule, Module, ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::{Int, Tensor, TensorData, backend::Backend};
use common::max_diff;
use recalign_t5::model::PositionBuckets;
use recalign_t5::{Error, Precision, Preset, T5, T5Config, cross_entropy};

type B = Flex;
type AD = Autodiff<Flex>;

fn tiny_config() -> T5Config {
    let mut config = Preset::Tiny.config(50);
    config.d_model = 16;
    config.d_kv = 4;
    config.num_heads = 2;
    config.d_ff = 24;
    config.num_decoder_layers = Some(3);
    config.relative_attention_num_buckets = 8;
    config.relative_attention_max_distance = 12;
    config
}

fn ints<Bk: Backend>(values: Vec<i64>, shape: [usize; 2]) -> Tensor<Bk, 2, Int> {
    Tensor::from_data(TensorData::new(values, shape), &Default::default())
}

/// Every parameter's gradient of `loss`, in `model.param_ids()` order.
fn gradients(model: &T5<AD>, loss: Tensor<AD, 1>) -> Vec<TensorData> {
    let mut grads = GradientsParams::from_grads(loss.backward(), model);
    model
        .param_ids()
        .iter()
        .map(|&id| {
            grads
                .remove::<Flex, 2>(id)
                .or_else(|| grads.remove::<Flex, 1>(id).map(|g| g.unsqueeze::<2>()))
                .expect("every parameter has a gradient")
                .into_data()
        })
        .collect()
}

fn values(t: Tensor<B, 3>) -> Vec<f32> {
    t.into_data().to_vec::<f32>().unwrap()
}

#[test]
fn position_buckets_match_hand_computed_hf_values() {
    let encoder = PositionBuckets::new(true, 32, 128);
    // Bidirectional: 16 buckets a side, 8 exact.
    assert_eq!(encoder.bucket(0), 0);
    assert_eq!(encoder.bucket(-3), 3);
    assert_eq!(encoder.bucket(3), 19);
    // 8 + floor(ln(20/8) / ln(128/8) · 8) = 8 + floor(2.64) = 10
    assert_eq!(encoder.bucket(-20), 10);
    assert_eq!(encoder.bucket(20), 26);
    assert_eq!(encoder.bucket(-1000), 15);
    assert_eq!(encoder.bucket(1000), 31);
    let decoder = PositionBuckets::new(false, 32, 128);
    // Causal: the future shares bucket 0; 16 exact past buckets.
    assert_eq!(decoder.bucket(5), 0);
    assert_eq!(decoder.bucket(-15), 15);
    // 16 + floor(ln(20/16) / ln(128/16) · 16) = 16 + floor(1.72) = 17
    assert_eq!(decoder.bucket(-20), 17);
    assert_eq!(decoder.bucket(-5000), 31);
}

#[test]
fn incremental_decoding_matches_teacher_forcing() {
    let device = Default::default();
    let model = T5::<B>::random(&tiny_config(), 7, &device).unwrap();
    let input = ints(vec![5, 6, 7, 8, 9, 1, 3, 4, 1, 0, 0, 0], [2, 6]);
    let mask = ints(vec![1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0], [2, 6]);
    let decoder_input = ints(
        (0..2 * 14).map(|i| [0, 11, 12, 13, 14][i % 5]).collect(),
        [2, 14],
    );
    let encoded = model.encode(input, mask);
    let full = values(model.decode(&encoded, decoder_input.clone()));
    let vocab = 50;
    let mut cache = model.start_decoding(&encoded);
    for step in 0..14 {
        let tokens: Tensor<B, 1, Int> = decoder_input
            .clone()
            .slice([0..2, step..step + 1])
            .reshape([2]);
        let logits = model
            .decode_step(&mut cache, tokens)
            .into_data()
            .to_vec::<f32>()
            .unwrap();
        for row in 0..2 {
            let expected = &full[(row * 14 + step) * vocab..(row * 14 + step + 1) * vocab];
            let got = &logits[row * vocab..(row + 1) * vocab];
            assert!(max_diff(expected, got) < 1e-4, "step {step}, row {row}");
        }
    }
    assert_eq!(cache.len(), 14);
}

#[test]
fn padding_does_not_change_the_tokens_it_follows() {
    let device = Default::default();
    let model = T5::<B>::random(&tiny_config(), 3, &device).unwrap();
    let short = model.forward(
        ints(vec![5, 6, 7, 1], [1, 4]),
        ints(vec![1, 1, 1, 1], [1, 4]),
        ints(vec![0, 9, 10], [1, 3]),
    );
    let padded = model.forward(
        ints(vec![5, 6, 7, 1, 0, 0, 0], [1, 7]),
        ints(vec![1, 1, 1, 1, 0, 0, 0], [1, 7]),
        ints(vec![0, 9, 10], [1, 3]),
    );
    assert!(max_diff(&values(short), &values(padded)) < 1e-5);
}

/// Padding is masked with −∞ (exactly HF's zero weight, without libm's
/// slow underflow path); a row that is all padding still gets HF's uniform
/// attention rather than NaN, and leaves the other rows alone.
#[test]
fn an_all_padding_row_stays_finite_and_leaves_the_others_alone() {
    let device = Default::default();
    let model = T5::<B>::random(&tiny_config(), 3, &device).unwrap();
    let alone = model.forward(
        ints(vec![5, 6, 7, 1], [1, 4]),
        ints(vec![1, 1, 1, 1], [1, 4]),
        ints(vec![0, 9, 10], [1, 3]),
    );
    let batch = values(model.forward(
        ints(vec![5, 6, 7, 1, 0, 0, 0, 0], [2, 4]),
        ints(vec![1, 1, 1, 1, 0, 0, 0, 0], [2, 4]),
        ints(vec![0, 9, 10, 0, 9, 10], [2, 3]),
    ));
    assert!(
        batch.iter().all(|v| v.is_finite()),
        "NaN or ∞ in the logits"
    );
    let (first, _) = batch.split_at(batch.len() / 2);
    assert!(max_diff(&values(alone), first) < 1e-5);
}

#[test]
fn padded_batches_give_finite_gradients() {
    let device = Default::default();
    let model = T5::<AD>::random(&tiny_config(), 4, &device).unwrap();
    let logits = model.forward(
        ints(vec![5, 6, 7, 1, 8, 1, 0, 0, 9, 0, 0, 0], [3, 4]),
        ints(vec![1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0], [3, 4]),
        ints(vec![0, 9, 10, 0, 11, 0, 0, 12, 0], [3, 3]),
    );
    let loss = cross_entropy(
        logits,
        ints(vec![9, 10, 1, 11, 1, -100, 12, 1, -100], [3, 3]),
    );
    assert!(loss.clone().into_scalar().is_finite());
    for data in gradients(&model, loss) {
        let data = data.to_vec::<f32>().unwrap();
        assert!(
            data.iter().all(|v| v.is_finite()),
            "a gradient is not finite"
        );
    }
}

#[test]
fn every_parameter_gets_a_gradient() {
    let device = Default::default();
    let model = T5::<AD>::random(&tiny_config(), 1, &device).unwrap();
    let logits = model.forward(
        ints(vec![5, 6, 7, 1, 8, 1, 0, 0], [2, 4]),
        ints(vec![1, 1, 1, 1, 1, 1, 0, 0], [2, 4]),
        ints(vec![0, 9, 10, 0, 11, 0], [2, 3]),
    );
    let loss = cross_entropy(logits, ints(vec![9, 10, 1, 11, 1, -100], [2, 3]));
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    assert_eq!(grads.len(), model.param_names().len());
    assert_eq!(model.valid().param_names().len(), model.param_names().len());
}

/// A model trained from scratch starts near a uniform guess: its first
/// loss is close to ln(vocabulary), not the tens that HF's std-1 head gives
/// over unit-scale states (28 against 6.6 on the tiny shop run).
#[test]
fn a_fresh_model_starts_near_a_uniform_guess() {
    let device = Default::default();
    for preset in [Preset::Tiny, Preset::Small] {
        let vocab = preset.vocab_size();
        let model = T5::<B>::random(&preset.config(vocab), 7, &device).unwrap();
        // Token ids spread over the vocabulary, 2 × 16 inputs and targets.
        let spread = |n: usize, step: usize| -> Vec<i64> {
            (0..n)
                .map(|i| (3 + i * step % (vocab - 3)) as i64)
                .collect()
        };
        let logits = model.forward(
            ints(spread(32, 61), [2, 16]),
            ints(vec![1; 32], [2, 16]),
            ints(spread(32, 97), [2, 16]),
        );
        let loss = cross_entropy(logits, ints(spread(32, 13), [2, 16])).into_scalar();
        let uniform = (vocab as f32).ln();
        assert!(
            (loss - uniform).abs() < 1.5,
            "{preset:?}: first loss {loss}, uniform guess {uniform}"
        );
    }
}

#[test]
fn cross_entropy_ignores_masked_labels() {
    let device = Default::default();
    // Two positions; the second is ignored, so the loss is the first's.
    let logits = Tensor::<B, 3>::from_data(
        TensorData::new(vec![2.0f32, 0.0, 0.0, 5.0, -5.0, 0.0], [1, 2, 3]),
        &device,
    );
    let loss = cross_entropy(logits, ints(vec![0, -100], [1, 2])).into_scalar();
    let expected = -(2.0f32.exp() / (2.0f32.exp() + 2.0)).ln();
    assert!((loss - expected).abs() < 1e-6, "{loss} vs {expected}");
}

/// A random model from `config` and `seed`, saved to a fresh temporary folder.
fn saved_model(config: &T5Config, seed: u64) -> (T5<B>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let model = T5::<B>::random(config, seed, &Default::default()).unwrap();
    model.save(dir.path()).unwrap();
    (model, dir)
}

#[test]
fn saved_model_loads_back_with_the_same_outputs() {
    let device = Default::default();
    let (model, dir) = saved_model(&tiny_config(), 11);
    let loaded = T5::<B>::load(dir.path(), &device).unwrap();
    let run = |m: &T5<B>| {
        values(m.forward(
            ints(vec![5, 6, 7, 1], [1, 4]),
            ints(vec![1, 1, 1, 1], [1, 4]),
            ints(vec![0, 9], [1, 2]),
        ))
    };
    assert_eq!(run(&model), run(&loaded));
    assert_eq!(loaded.config(), model.config());
}

#[test]
fn tied_models_round_trip_too() {
    let mut config = tiny_config();
    config.tie_word_embeddings = true;
    config.feed_forward_proj = "relu".to_owned();
    let (model, dir) = saved_model(&config, 2);
    assert!(!model.param_names().iter().any(|n| n == "lm_head.weight"));
    T5::<B>::load(dir.path(), &Default::default()).unwrap();
}

/// Rewrites the saved safetensors with `edit` applied to its tensor list.
fn edited_checkpoint(edit: impl FnOnce(&mut Vec<(String, TensorData)>)) -> tempfile::TempDir {
    let (model, dir) = saved_model(&tiny_config(), 5);
    let mut tensors = model.named_tensors();
    edit(&mut tensors);
    let views: Vec<_> = tensors
        .iter()
        .map(|(n, d)| {
            (
                n.clone(),
                safetensors::tensor::TensorView::new(
                    safetensors::Dtype::F32,
                    d.shape.to_vec(),
                    d.as_bytes(),
                )
                .unwrap(),
            )
        })
        .collect();
    safetensors::serialize_to_file(views, None, &dir.path().join("model.safetensors")).unwrap();
    dir
}

#[test]
fn missing_tensor_is_named() {
    let dir = edited_checkpoint(|t| {
        t.retain(|(n, _)| n != "decoder.block.2.layer.1.EncDecAttention.k.weight")
    });
    let err = T5::<B>::load(dir.path(), &Default::default()).unwrap_err();
    assert!(matches!(err, Error::MissingTensor { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("decoder.block.2.layer.1.EncDecAttention.k.weight"),
        "{message}"
    );
    assert!(message.contains("model.safetensors"), "{message}");
}

#[test]
fn extra_tensor_is_named() {
    let dir = edited_checkpoint(|t| {
        let copy = t[1].1.clone();
        t.push(("encoder.block.9.layer.0.layer_norm.weight".to_owned(), copy));
    });
    let message = T5::<B>::load(dir.path(), &Default::default())
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("encoder.block.9.layer.0.layer_norm.weight"),
        "{message}"
    );
}

#[test]
fn misshaped_tensor_is_named() {
    let dir = edited_checkpoint(|t| {
        let entry = t.iter_mut().find(|(n, _)| n == "lm_head.weight").unwrap();
        entry.1 = TensorData::new(vec![0.0f32; 49 * 16], [49, 16]);
    });
    let message = T5::<B>::load(dir.path(), &Default::default())
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("lm_head.weight") && message.contains("[49, 16]"),
        "{message}"
    );
}

#[test]
fn bad_config_and_corrupt_weights_are_clear_errors() {
    let device = Default::default();
    let (_model, dir) = saved_model(&tiny_config(), 5);
    let config_path = dir.path().join("config.json");
    let text = std::fs::read_to_string(&config_path).unwrap();

    std::fs::write(&config_path, text.replace("gated-gelu", "gated-swoosh")).unwrap();
    let message = T5::<B>::load(dir.path(), &device).unwrap_err().to_string();
    assert!(
        message.contains("swoosh") && message.contains("config.json"),
        "{message}"
    );

    std::fs::write(&config_path, text.replace("\"d_model\"", "\"d_modl\"")).unwrap();
    let message = T5::<B>::load(dir.path(), &device).unwrap_err().to_string();
    assert!(
        message.contains("d_model") && message.contains("config.json"),
        "{message}"
    );

    std::fs::write(&config_path, &text).unwrap();
    let weights = dir.path().join("model.safetensors");
    let bytes = std::fs::read(&weights).unwrap();
    std::fs::write(&weights, &bytes[..bytes.len() / 2]).unwrap();
    let message = T5::<B>::load(dir.path(), &device).unwrap_err().to_string();
    assert!(message.contains("model.safetensors"), "{message}");

    std::fs::remove_file(&config_path).unwrap();
    let message = T5::<B>::load(dir.path(), &device).unwrap_err().to_string();
    assert!(message.contains("config.json"), "{message}");
}

/// Every parameter id a module visits.
struct Ids(Vec<ParamId>);

impl<Bk: Backend> ModuleVisitor<Bk> for Ids {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<Bk, D>>) {
        self.0.push(param.id);
    }
}

fn ids(model: &T5<B>) -> HashSet<ParamId> {
    let mut ids = Ids(Vec::new());
    model.visit(&mut ids);
    assert_eq!(ids.0, model.param_ids(), "ids in build order");
    ids.0.into_iter().collect()
}

#[test]
fn two_models_never_share_a_parameter_id() {
    let device = Default::default();
    // The same config and seed: the same tensors, but other parameters.
    let first = T5::<B>::random(&tiny_config(), 4, &device).unwrap();
    let second = T5::<B>::random(&tiny_config(), 4, &device).unwrap();
    let (a, b) = (ids(&first), ids(&second));
    assert_eq!(a.len(), first.param_names().len(), "ids repeat in a model");
    assert_eq!(b.len(), second.param_names().len(), "ids repeat in a model");
    assert!(a.is_disjoint(&b), "two models share parameter ids");
}

#[test]
fn a_grown_vocabulary_keeps_every_old_logit_and_adds_mean_tokens() {
    for tied in [false, true] {
        let mut config = tiny_config();
        config.tie_word_embeddings = tied;
        let (model, dir) = saved_model(&config, 5);
        let run = |m: &T5<B>| {
            let logits = m.forward(
                ints(vec![5, 6, 7, 1], [1, 4]),
                ints(vec![1, 1, 1, 1], [1, 4]),
                ints(vec![0, 9], [1, 2]),
            );
            let vocab = logits.dims()[2];
            (values(logits), vocab)
        };
        let (before, old) = run(&model);
        let ids = model.param_ids().to_vec();
        let grown = model.grow_vocab(old + 3);
        assert_eq!(grown.config().vocab_size, old + 3);
        assert_eq!(grown.param_ids(), ids, "parameter ids are kept");
        let (after, new) = run(&grown);
        assert_eq!(new, old + 3);
        for (position, row) in after.chunks(new).enumerate() {
            let kept = &row[..old];
            assert!(max_diff(kept, &before[position * old..(position + 1) * old]) < 1e-5);
            // A mean row (tied) or column (untied) scores the mean logit
            // (tied models rescale, which is linear too).
            let mean = kept.iter().sum::<f32>() / old as f32;
            for &logit in &row[old..] {
                assert!(
                    (logit - mean).abs() < 1e-4,
                    "tied {tied}: {logit} vs {mean}"
                );
            }
        }
        // It saves and loads as a model of the new size.
        grown.save(dir.path()).unwrap();
        let loaded = T5::<B>::load(dir.path(), &Default::default()).unwrap();
        assert_eq!(loaded.config().vocab_size, old + 3);
        assert!(max_diff(&run(&loaded).0, &after) < 1e-6);
        // Growing to a size it already has changes nothing.
        assert_eq!(loaded.grow_vocab(old).config().vocab_size, old + 3);
    }
}

/// Mixed precision trains f32 weights: with bf16 products the gradients
/// reach every parameter as f32 and point where the f32 gradients do.
#[test]
fn bf16_gradients_are_f32_and_close_to_f32_gradients() {
    let device = Default::default();
    let model = T5::<AD>::random(&tiny_config(), 5, &device).unwrap();
    let gradients_in = |precision: Precision| {
        model.set_precision(precision);
        // The same dropout masks for both.
        model.reseed_dropout(11);
        let logits = model.forward(
            ints(vec![5, 6, 7, 1, 8, 1, 0, 0], [2, 4]),
            ints(vec![1, 1, 1, 1, 1, 1, 0, 0], [2, 4]),
            ints(vec![0, 9, 10, 0, 11, 0], [2, 3]),
        );
        let loss = cross_entropy(logits, ints(vec![9, 10, 1, 11, 1, -100], [2, 3]));
        gradients(&model, loss)
            .into_iter()
            .map(|data| {
                assert_eq!(data.dtype, burn::tensor::DType::F32);
                data.to_vec::<f32>().unwrap()
            })
            .collect::<Vec<_>>()
    };
    let full = gradients_in(Precision::F32);
    let mixed = gradients_in(Precision::Bf16);
    model.set_precision(Precision::F32);
    let (mut dot, mut a2, mut b2) = (0.0f64, 0.0f64, 0.0f64);
    for (a, b) in full.iter().flatten().zip(mixed.iter().flatten()) {
        dot += f64::from(*a) * f64::from(*b);
        a2 += f64::from(*a).powi(2);
        b2 += f64::from(*b).powi(2);
    }
    let cosine = dot / (a2.sqrt() * b2.sqrt());
    eprintln!("cosine of bf16 and f32 gradients {cosine}");
    assert!(cosine > 0.99, "cosine of bf16 and f32 gradients {cosine}");
    assert!(
        full.iter()
            .flatten()
            .zip(mixed.iter().flatten())
            .any(|(a, b)| a != b),
        "bf16 gave the f32 gradients bit for bit: no cast happened"
    );
}

//! A tiny model trained from scratch on tiny samples: the loss falls, the
//! validation loss is reported and falls, and the output directory holds a
//! model that loads again.

mod common;

use burn::backend::Flex;
use recalign_t5::{Preset, T5};
use recalign_tokenizer::T5Tokenizer;
use recalign_train::{DeviceChoice, ModelSource, Quiet, RunOptions, train};

struct Job(RunOptions);

impl recalign_train::TrainingJob for Job {
    type Output = recalign_train::TrainSummary;
    type Error = recalign_train::Error;
    fn run<B: burn::tensor::backend::AutodiffBackend>(
        self,
        devices: Vec<B::Device>,
    ) -> recalign_train::Result<Self::Output> {
        train::<B>(&self.0, &devices, &mut Quiet)
    }
}

#[test]
fn loss_falls_and_the_model_is_saved() {
    let dir = tempfile::tempdir().unwrap();
    let train_file = common::write_samples(dir.path(), "train.jsonl", 240, 0);
    let valid_file = common::write_samples(dir.path(), "valid.jsonl", 24, 3);
    let out = dir.path().join("model");
    let options = RunOptions {
        config: recalign_train::TrainConfig {
            epochs: 2,
            eval_every: 10,
            ..common::tiny_settings()
        },
        train_samples: train_file,
        valid_samples: Some(valid_file),
        out: out.clone(),
        model: ModelSource::Preset(Preset::Tiny),
        resume: false,
    };
    let summary = DeviceChoice::Cpu.train(Job(options)).unwrap();
    assert_eq!(summary.steps, 60);
    let (first, last) = (summary.first_loss.unwrap(), summary.last_loss.unwrap());
    assert!(last < first * 0.6, "training loss {first} → {last}");
    let valid = &summary.valid_losses;
    assert_eq!(
        valid.iter().map(|v| v.0).collect::<Vec<_>>(),
        vec![0, 10, 20, 30, 40, 50, 60]
    );
    assert!(
        valid.last().unwrap().1 < valid[0].1 * 0.6,
        "validation {valid:?}"
    );

    let model = T5::<Flex>::load(&out, &Default::default()).unwrap();
    let tokenizer = T5Tokenizer::from_file(&out.join("tokenizer.json")).unwrap();
    assert!(tokenizer.vocab_size() <= model.config().vocab_size);
    assert!(out.join("train.toml").is_file() && out.join("train-summary.json").is_file());
    assert!(
        out.join("checkpoints/step-0000060/optimizer.safetensors")
            .is_file()
    );
}

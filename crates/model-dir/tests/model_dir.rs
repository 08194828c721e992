//! The model directory: files found above a checkpoint, bad records named,
//! the input budget, and the tokenizer-model agreement check.

use recalign_model_dir::{
    DEFAULT_MAX_INPUT_TOKENS, Error, ModelDir, ModelFile, check_agreement, trained_with,
    truncate_input,
};
use recalign_samples::SamplesConfig;
use recalign_t5::Preset;
use recalign_tokenizer::{T5Tokenizer, TrainOptions};

#[test]
fn finds_the_run_files_above_a_checkpoint_and_names_bad_fields() {
    let run = tempfile::tempdir().unwrap();
    let step = run.path().join("checkpoints/step-0000100");
    std::fs::create_dir_all(&step).unwrap();
    std::fs::create_dir_all(run.path().join("samples")).unwrap();
    let config = SamplesConfig {
        seed: 7,
        ..SamplesConfig::default()
    };
    let manifest = serde_json::json!({ "dataset": "synthetic", "config": config, "users": [0, 3] });
    std::fs::write(
        run.path().join("samples/manifest.json"),
        manifest.to_string(),
    )
    .unwrap();
    std::fs::write(
        run.path().join("train.toml"),
        "[train]\nseed = 1\nmax_input_tokens = 300\n",
    )
    .unwrap();
    let found = trained_with(&step).unwrap();
    assert_eq!(found.samples.seed, 7);
    assert_eq!(found.dataset.as_deref(), Some("synthetic"));
    assert_eq!(found.max_input_tokens, 300);
    assert_eq!(found.record, Some(run.path().join("train.toml")));

    for bad in [
        "[train]\nmax_input_tokens = -1\n",
        "[train]\nmax_input_tokens = 0\n",
    ] {
        std::fs::write(run.path().join("train.toml"), bad).unwrap();
        let error = trained_with(&step).unwrap_err().to_string();
        assert!(
            error.contains("train.toml") && error.contains("max_input_tokens"),
            "{error}"
        );
    }
    std::fs::write(run.path().join("samples/manifest.json"), "{\"dataset\": 3}").unwrap();
    let error = trained_with(&step).unwrap_err().to_string();
    assert!(error.contains("manifest.json"), "{error}");

    let elsewhere = tempfile::tempdir().unwrap();
    let deep = elsewhere.path().join("a/b/c");
    std::fs::create_dir_all(&deep).unwrap();
    let found = trained_with(&deep).unwrap();
    assert_eq!(found.manifest, None);
    assert_eq!(found.max_input_tokens, DEFAULT_MAX_INPUT_TOKENS);
}

#[test]
fn a_folder_without_a_config_is_not_a_model() {
    let dir = tempfile::tempdir().unwrap();
    let error = ModelDir::open(dir.path()).unwrap_err();
    assert!(matches!(error, Error::NotAModel { .. }), "{error}");
    assert!(error.to_string().contains("config.json"), "{error}");
    std::fs::write(dir.path().join("config.json"), "{}").unwrap();
    let model = ModelDir::open(dir.path()).unwrap();
    assert_eq!(
        model.file(ModelFile::Tokenizer),
        dir.path().join("tokenizer.json")
    );
}

#[test]
fn inputs_keep_their_end() {
    let mut tokens = vec![1, 2, 3, 4, 5];
    assert!(truncate_input(&mut tokens, 3));
    assert_eq!(tokens, [3, 4, 5]);
    assert!(!truncate_input(&mut tokens, 3));
    assert!(!truncate_input(&mut tokens, 10));
    assert_eq!(tokens, [3, 4, 5]);
}

#[test]
fn a_tokenizer_must_fit_its_model() {
    let texts = ["ID: 12, title: Yoga Strap", "What is the next item? 345"];
    let tokenizer = T5Tokenizer::train(
        texts.iter(),
        TrainOptions {
            vocab_size: 200,
            ..Default::default()
        },
    )
    .unwrap();
    let path = std::path::Path::new("model/tokenizer.json");
    let config = Preset::Tiny.config(tokenizer.vocab_size());
    check_agreement(&config, &tokenizer, path).unwrap();

    let small = Preset::Tiny.config(tokenizer.vocab_size() - 1);
    let error = check_agreement(&small, &tokenizer, path)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("model/tokenizer.json") && error.contains("vocab_size"),
        "{error}"
    );

    let mut shifted = config.clone();
    shifted.eos_token_id += 1;
    let error = check_agreement(&shifted, &tokenizer, path)
        .unwrap_err()
        .to_string();
    assert!(error.contains("eos_token_id"), "{error}");
}

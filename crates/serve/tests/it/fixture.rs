//! A random tiny model over a small synthetic shop, saved once per test
//! binary in Hugging Face layout, and helpers to call the router.

use std::path::PathBuf;
use std::sync::OnceLock;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use burn::backend::Flex;
use recalign_data::synthetic::SyntheticConfig;
use recalign_data::{Dataset, DatasetSpec, IdScheme, ItemIdx, LoadOptions, PrepareConfig, UserIdx};
use recalign_recommend::Settings;
use recalign_runtime::DeviceChoice;
use recalign_samples::{Generator, Query, SamplesConfig};
use recalign_serve::{ModelSource, ServeConfig, Service};
use recalign_t5::{Preset, T5};
use recalign_tokenizer::{T5Tokenizer, TrainOptions};
use serde_json::Value;
use tower::ServiceExt;

pub struct Fixture {
    _dir: tempfile::TempDir,
    pub model: PathBuf,
    pub dataset: Dataset,
}

/// The model over the shop with atomic identifiers (the default).
pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| build(IdScheme::Atomic))
}

/// The model over the shop with random digit identifiers, to which items
/// can be added.
pub fn digits_fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| build(IdScheme::Random))
}

fn build(id_scheme: IdScheme) -> Fixture {
    let spec = DatasetSpec::Synthetic(SyntheticConfig {
        seed: 5,
        users: 120,
    });
    let prepare = PrepareConfig {
        id_scheme,
        ..PrepareConfig::default()
    };
    let dataset = recalign_data::load(&spec, &prepare, &LoadOptions::default())
        .unwrap()
        .dataset;
    let generator = Generator::new(&dataset, SamplesConfig::default()).unwrap();
    let mut texts: Vec<String> = dataset
        .users()
        .take(60)
        .map(|u| generator.prompt(Some(u), dataset.sequence(u), Query::Retrieval))
        .collect();
    texts.extend((0..dataset.num_items()).map(|i| generator.item_answer(ItemIdx(i as u32))));
    let tokenizer = T5Tokenizer::train(
        texts.iter(),
        TrainOptions {
            vocab_size: 400,
            ..Default::default()
        },
    )
    .unwrap();
    let config = Preset::Tiny.config(tokenizer.vocab_size().max(200));
    let model = T5::<Flex>::random(&config, 3, &Default::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model");
    std::fs::create_dir_all(&path).unwrap();
    model.save(&path).unwrap();
    tokenizer.save(&path.join("tokenizer.json")).unwrap();
    Fixture {
        _dir: dir,
        model: path,
        dataset,
    }
}

pub fn start(config: ServeConfig) -> Service {
    start_on(fixture(), settings(), config)
}

/// How the tests ask the model: the defaults, with a short input budget.
pub fn settings() -> Settings {
    Settings {
        max_input_tokens: 128,
        ..Settings::default()
    }
}

/// A service over `fixture`'s model and dataset.
pub fn start_on(fixture: &Fixture, settings: Settings, config: ServeConfig) -> Service {
    serve_dataset(fixture, fixture.dataset.clone(), settings, config)
}

/// A service over `fixture`'s model and `dataset` (the fixture's, changed).
pub fn serve_dataset(
    fixture: &Fixture,
    dataset: Dataset,
    settings: Settings,
    config: ServeConfig,
) -> Service {
    Service::start(
        ModelSource {
            dataset,
            samples: SamplesConfig::default(),
            model: fixture.model.clone(),
            settings,
            device: DeviceChoice::Cpu,
        },
        config,
    )
    .unwrap()
}

/// The raw ids of user `u`'s training history.
pub fn history(u: usize) -> Vec<String> {
    let data = &fixture().dataset;
    data.train_sequence(UserIdx(u as u32))
        .iter()
        .map(|e| data.item(e.item).raw_id.clone())
        .collect()
}

/// The raw id of item `i` (modulo the catalogue's size).
pub fn item_id(i: usize) -> String {
    let data = &fixture().dataset;
    data.item(ItemIdx((i % data.num_items()) as u32))
        .raw_id
        .clone()
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub json: Value,
    pub text: String,
}

pub async fn call(router: &Router, method: &str, uri: &str, body: Option<&str>) -> Answer {
    call_with(router, method, uri, body, None).await
}

pub async fn call_with(
    router: &Router,
    method: &str,
    uri: &str,
    body: Option<&str>,
    bearer: Option<&str>,
) -> Answer {
    let mut request = Request::builder().method(method).uri(uri);
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    if let Some(key) = bearer {
        request = request.header("authorization", format!("Bearer {key}"));
    }
    let request = request
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_owned())))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        json,
        text,
    }
}

/// The ids of an items answer, in order.
pub fn ids(answer: &Answer) -> Vec<String> {
    answer.json["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {}", answer.text))
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The scores of an items answer, in order.
pub fn scores(answer: &Answer) -> Vec<f64> {
    answer.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["score"].as_f64().unwrap())
        .collect()
}

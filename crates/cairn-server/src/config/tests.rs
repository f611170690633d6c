use super::*;

fn load_str(text: &str) -> anyhow::Result<Config> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cairn.toml");
    std::fs::write(&path, text).unwrap();
    Config::load(Some(&path))
}

#[test]
fn defaults_are_valid() {
    let config = Config::load(None).unwrap();
    assert_eq!(config.default_tier, "free");
    assert_eq!(config.tiers["free"].default_model, "small");
    assert!(matches!(
        config.providers["local"],
        ProviderConfig::Local(_)
    ));
}

#[test]
fn a_file_replaces_models_and_tiers_whole() {
    let config = load_str(
        r#"
        default_tier = "basic"
        [providers.up]
        kind = "openai"
        base_url = "http://127.0.0.1:9/v1/"
        [models.gpt]
        provider = "up"
        target = "gpt-4o-mini"
        input_price_per_million = 0.15
        [tiers.basic]
        models = ["gpt"]
        default_model = "gpt"
        requests_per_minute = 5
        tokens_per_minute = 100
        "#,
    )
    .unwrap();
    assert_eq!(config.models.keys().collect::<Vec<_>>(), ["gpt"]);
    assert_eq!(config.tiers.keys().collect::<Vec<_>>(), ["basic"]);
    let ProviderConfig::OpenAi(up) = &config.providers["up"] else {
        panic!()
    };
    assert_eq!(up.base_url, "http://127.0.0.1:9/v1");
    assert_eq!(
        config.models["gpt"].price.cost_nanos(1_000_000, 0),
        150_000_000
    );
    assert_eq!(config.tiers["basic"].monthly_tokens, None);
}

#[test]
fn every_problem_is_reported_at_once() {
    let err = load_str(
        r#"
        [models.x]
        provider = "nowhere"
        target = "x"
        [tiers.free]
        models = ["y"]
        default_model = "z"
        requests_per_minute = 0
        tokens_per_minute = 1
        "#,
    )
    .unwrap_err()
    .to_string();
    for needle in [
        "\"nowhere\" is not a defined provider",
        "\"y\", which is not a defined model",
        "default_model \"z\"",
        "at least 1",
    ] {
        assert!(err.contains(needle), "{needle:?} missing from {err}");
    }
}

#[test]
fn unknown_keys_and_literal_secrets_are_refused() {
    let err = load_str("[server]\nlisten_addr = \"x\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("listen_addr"), "{err}");
    let err = load_str(
        "[providers.up]\nkind = \"openai\"\nbase_url = \"http://x/v1\"\napi_key = \"sk-secret\"\n",
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("not the secret itself"), "{err}");
}

#[test]
fn knowledge_embeds_with_a_local_model_by_default_or_as_told() {
    let config = load_str("").unwrap();
    assert_eq!(config.knowledge.embedding_model.as_deref(), Some("minilm"));
    let off = load_str("[knowledge]\nembedding_model = \"\"\n").unwrap();
    assert_eq!(off.knowledge.embedding_model, None);
    let err = load_str("[knowledge]\nembedding_model = \"small\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("\"small\" is not an embedding model"), "{err}");
    let err = load_str("[knowledge]\nembedding_model = \"nope\"\nchunk_overlap_tokens = 300\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("\"nope\" is not a defined model"), "{err}");
    assert!(err.contains("chunk_overlap_tokens must be below"), "{err}");
}

#[test]
fn memory_settings_are_checked() {
    let config = Config::load(None).unwrap();
    assert!(config.memory.enabled);
    assert_eq!(config.memory.embedding_model, None);
    let err = load_str(
        "[memory]\nembedding_model = \"small\"\nmodel = \"nope\"\nduplicate_similarity = 0.5\nupdate_similarity = 0.9\n",
    )
    .unwrap_err()
    .to_string();
    for needle in [
        "memory.embedding_model \"small\" is not a defined embedding model",
        "memory.model \"nope\" is not a defined chat model",
        "update_similarity must not exceed",
    ] {
        assert!(err.contains(needle), "{needle:?} missing from {err}");
    }
    let config = load_str("[memory]\nembedding_model = \"minilm\"\nmodel = \"medium\"\n").unwrap();
    assert_eq!(config.memory.embedding_model.as_deref(), Some("minilm"));
    assert_eq!(config.memory.model.as_deref(), Some("medium"));
}

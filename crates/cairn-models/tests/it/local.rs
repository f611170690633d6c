use std::sync::Arc;

use cairn_models::{ModelsError, NoProgress, hashing};

use crate::support::{TestEnv, recorder, sha256_hex, test_bytes};

fn file_entry(path: &std::path::Path, copy: bool, sha: Option<&str>) -> String {
    let sha = sha
        .map(|s| format!("sha256 = \"{s}\"\n"))
        .unwrap_or_default();
    format!(
        "[[model]]\nname = \"loc\"\nkind = \"chat\"\nformat = \"gguf\"\nfile = \"loc.gguf\"\n{sha}\
         source = {{ type = \"local\", path = \"{}\", copy = {copy} }}\n",
        path.display()
    )
}

#[tokio::test]
async fn a_local_file_is_used_in_place_and_never_deleted() {
    let src_dir = tempfile::tempdir().unwrap();
    let src = src_dir.path().join("weights.gguf");
    let data = test_bytes(50_000, 10);
    std::fs::write(&src, &data).unwrap();
    let env = TestEnv::new(&file_entry(&src, false, Some(&sha256_hex(&data))));
    let m = env.models.ensure("loc", recorder()).await.unwrap();
    assert!(m.in_place);
    assert_eq!(m.path, src);
    assert_eq!(env.cache_files(), ["loc.json"]);
    assert_eq!(env.models.status("loc").unwrap().path, src);
    assert!(env.models.remove("loc").await.unwrap());
    assert!(src.exists(), "rm keeps a file used in place");
}

#[tokio::test]
async fn a_local_file_can_be_copied_into_the_cache() {
    let src_dir = tempfile::tempdir().unwrap();
    let src = src_dir.path().join("weights.gguf");
    let data = test_bytes(70_000, 11);
    std::fs::write(&src, &data).unwrap();
    let env = TestEnv::new(&file_entry(&src, true, None));
    let m = env
        .models
        .pull("loc", Arc::new(NoProgress), false)
        .await
        .unwrap();
    assert!(!m.in_place);
    assert_eq!(m.path, env.root().join("loc/loc.gguf"));
    assert_eq!(
        m.sha256,
        sha256_hex(&data),
        "recorded even when the catalog gives none"
    );
    assert_eq!(std::fs::read(&m.path).unwrap(), data);
}

#[tokio::test]
async fn a_local_folder_is_hashed_through_its_manifest() {
    let src_dir = tempfile::tempdir().unwrap();
    let root = src_dir.path().join("emb");
    std::fs::create_dir_all(root.join("1_Pooling")).unwrap();
    std::fs::write(root.join("model.safetensors"), test_bytes(4000, 12)).unwrap();
    std::fs::write(root.join("tokenizer.json"), b"{}").unwrap();
    std::fs::write(root.join("1_Pooling/config.json"), b"{\"x\":1}").unwrap();
    let expected = hashing::directory_manifest(&root, |_| {}).unwrap();
    assert_eq!(
        expected
            .files
            .iter()
            .map(|f| f.path.as_str())
            .collect::<Vec<_>>(),
        [
            "1_Pooling/config.json",
            "model.safetensors",
            "tokenizer.json"
        ]
    );
    let toml = format!(
        "[[model]]\nname = \"emb\"\nkind = \"embedding\"\nformat = \"sentence-transformers\"\ndirectory = true\n\
         sha256 = \"{}\"\nsource = {{ type = \"local\", path = \"{}\", copy = true }}\n",
        expected.sha256,
        root.display()
    );
    let env = TestEnv::new(&toml);
    let m = env.models.pull("emb", recorder(), false).await.unwrap();
    assert_eq!(m.path, env.root().join("emb"));
    assert_eq!(m.files, expected.files);
    assert_eq!(
        std::fs::read(m.path.join("1_Pooling/config.json")).unwrap(),
        b"{\"x\":1}"
    );
}

#[tokio::test]
async fn a_missing_or_wrong_local_file_is_a_clear_error() {
    let src_dir = tempfile::tempdir().unwrap();
    let missing = src_dir.path().join("nope.gguf");
    let env = TestEnv::new(&file_entry(&missing, false, None));
    let err = env.models.pull("loc", recorder(), false).await.unwrap_err();
    assert!(
        matches!(err, ModelsError::LocalPathMissing { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("nope.gguf"));

    let src = src_dir.path().join("weights.gguf");
    std::fs::write(&src, b"abc").unwrap();
    let env = TestEnv::new(&file_entry(&src, false, Some(&sha256_hex(b"abd"))));
    let err = env.models.pull("loc", recorder(), false).await.unwrap_err();
    assert!(
        matches!(err, ModelsError::ChecksumMismatch { .. }),
        "{err:?}"
    );
    assert!(err.is_user_error());
    assert!(env.cache_files().is_empty());
    assert!(src.exists());
}

#[tokio::test]
async fn a_new_checksum_in_the_catalog_replaces_the_installed_copy() {
    let src_dir = tempfile::tempdir().unwrap();
    let src = src_dir.path().join("weights.gguf");
    let (v1, v2) = (test_bytes(3000, 13), test_bytes(4000, 14));
    std::fs::write(&src, &v1).unwrap();
    let env = TestEnv::new(&file_entry(&src, true, Some(&sha256_hex(&v1))));
    let first = env.models.ensure("loc", recorder()).await.unwrap();

    // A later release of the catalog pins new bytes for the same name.
    std::fs::write(&src, &v2).unwrap();
    let catalog =
        cairn_models::Catalog::from_toml(&file_entry(&src, true, Some(&sha256_hex(&v2)))).unwrap();
    let models = cairn_models::Models::new(
        catalog,
        env.models.cache().clone(),
        env.models.options().clone(),
    );
    assert!(
        models.installed("loc").unwrap().is_none(),
        "an install with another checksum is stale"
    );
    let second = models.ensure("loc", recorder()).await.unwrap();
    assert_eq!(second.path, first.path);
    assert_eq!(std::fs::read(&second.path).unwrap(), v2);
    assert_eq!(second.sha256, sha256_hex(&v2));
}

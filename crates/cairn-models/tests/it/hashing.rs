use cairn_models::hashing::{directory_manifest, manifest_text};

use crate::support::{sha256_hex, test_bytes};

/// The folder checksum is documented as reproducible with coreutils.
#[test]
fn folder_manifest_matches_sha256sum_of_sorted_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("1_Pooling")).unwrap();
    std::fs::write(root.join("model.safetensors"), test_bytes(5000, 70)).unwrap();
    std::fs::write(root.join("README.md"), b"# readme\n").unwrap();
    std::fs::write(root.join("1_Pooling/config.json"), b"{}").unwrap();
    std::fs::write(root.join(".gitattributes"), b"*.bin filter=lfs\n").unwrap();

    let m = directory_manifest(root, |_| {}).unwrap();
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg("find . -type f | LC_ALL=C sort | sed 's|^\\./||' | xargs sha256sum")
        .current_dir(root)
        .output()
        .unwrap();
    assert!(out.status.success());
    let coreutils = String::from_utf8(out.stdout).unwrap();
    assert_eq!(manifest_text(&m.files), coreutils);
    assert_eq!(m.sha256, sha256_hex(coreutils.as_bytes()));
    assert_eq!(m.total_bytes, 5000 + 9 + 2 + 17);
}

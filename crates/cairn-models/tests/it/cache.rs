use std::collections::HashMap;
use std::ffi::OsString;
use std::path::PathBuf;

use cairn_models::CacheDir;

fn resolve(vars: &[(&str, &str)]) -> Option<PathBuf> {
    let map: HashMap<String, OsString> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), OsString::from(v)))
        .collect();
    CacheDir::resolve(|k| map.get(k).cloned())
        .ok()
        .map(|c| c.root().to_path_buf())
}

#[test]
fn cache_root_follows_override_then_xdg_then_home() {
    let all = [
        ("CAIRN_MODELS_DIR", "/srv/models"),
        ("XDG_CACHE_HOME", "/xdg"),
        ("HOME", "/home/u"),
    ];
    assert_eq!(resolve(&all), Some("/srv/models".into()));
    assert_eq!(resolve(&all[1..]), Some("/xdg/cairn/models".into()));
    assert_eq!(
        resolve(&all[2..]),
        Some("/home/u/.cache/cairn/models".into())
    );
    // Empty or relative XDG values are ignored, as the XDG spec says.
    assert_eq!(
        resolve(&[("XDG_CACHE_HOME", "rel"), ("HOME", "/h")]),
        Some("/h/.cache/cairn/models".into())
    );
    assert_eq!(
        resolve(&[("CAIRN_MODELS_DIR", ""), ("HOME", "/h")]),
        Some("/h/.cache/cairn/models".into())
    );
    assert_eq!(resolve(&[]), None);
}

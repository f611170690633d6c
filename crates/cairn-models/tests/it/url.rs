use std::sync::Arc;

use cairn_models::{LogProgress, ModelsError, NoProgress, ProgressEvent, Stage};

use crate::support::{FileServer, ServerState, TestEnv, recorder, sha256_hex, test_bytes};

const LEN: usize = 300_000;

fn catalog(url: &str, sha: &str, size: usize) -> String {
    format!(
        r#"[[model]]
name = "tiny"
kind = "chat"
format = "gguf"
file = "tiny.gguf"
size_bytes = {size}
sha256 = "{sha}"
source = {{ type = "url", url = "{url}" }}
"#
    )
}

async fn server(data: &[u8], support_ranges: bool, cut: Option<usize>) -> FileServer {
    FileServer::start(ServerState {
        files: [("/tiny.gguf".to_string(), data.to_vec())].into(),
        support_ranges,
        cut_next_after: cut.into(),
        ..Default::default()
    })
    .await
}

#[tokio::test]
async fn downloads_verifies_and_installs_then_ensure_is_free() {
    let data = test_bytes(LEN, 1);
    let srv = server(&data, true, None).await;
    let env = TestEnv::new(&catalog(&srv.url("/tiny.gguf"), &sha256_hex(&data), LEN));
    let m = env.models.ensure("tiny", recorder()).await.unwrap();
    assert_eq!(m.path, env.root().join("tiny/tiny.gguf"));
    assert_eq!(std::fs::read(&m.path).unwrap(), data);
    assert_eq!(m.sha256, sha256_hex(&data));
    assert_eq!(env.cache_files(), ["tiny.json", "tiny/tiny.gguf"]);

    let again = env
        .models
        .ensure("tiny", Arc::new(NoProgress))
        .await
        .unwrap();
    assert_eq!(again, m);
    assert_eq!(
        srv.ranges_seen().len(),
        1,
        "an installed model is not fetched again"
    );
    let status = env.models.status("tiny").unwrap();
    assert_eq!(status.state(), "installed");
    env.models
        .verify("tiny", Arc::new(NoProgress))
        .await
        .unwrap();
}

#[tokio::test]
async fn an_interrupted_download_resumes_with_a_range_request() {
    let data = test_bytes(LEN, 2);
    let srv = server(&data, true, Some(100_000)).await;
    let env = TestEnv::new(&catalog(&srv.url("/tiny.gguf"), &sha256_hex(&data), LEN));

    let err = env
        .models
        .pull("tiny", recorder(), false)
        .await
        .unwrap_err();
    assert!(matches!(err, ModelsError::Interrupted { .. }), "{err:?}");
    assert!(
        err.to_string().contains("run the pull again to resume"),
        "{err}"
    );
    let partial = env.models.status("tiny").unwrap();
    assert!(partial.installed.is_none());
    assert!(
        partial.staging_bytes >= 100_000,
        "{}",
        partial.staging_bytes
    );
    assert!(partial.state().starts_with("partial"));

    let m = env.models.pull("tiny", recorder(), false).await.unwrap();
    assert_eq!(std::fs::read(&m.path).unwrap(), data);
    let ranges = srv.ranges_seen();
    assert_eq!(ranges.len(), 2);
    assert_eq!(ranges[0], None);
    let resumed_from: u64 = ranges[1]
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes=")?.strip_suffix('-')?.parse().ok())
        .expect("second request asks for a range");
    assert!(
        resumed_from >= 100_000 && resumed_from < LEN as u64,
        "{resumed_from}"
    );
    assert_eq!(
        env.cache_files(),
        ["tiny.json", "tiny/tiny.gguf"],
        "staging is cleaned up"
    );
}

#[tokio::test]
async fn a_server_ignoring_ranges_makes_the_download_start_over() {
    let data = test_bytes(LEN, 3);
    let srv = server(&data, false, Some(50_000)).await;
    let env = TestEnv::new(&catalog(&srv.url("/tiny.gguf"), &sha256_hex(&data), LEN));
    env.models
        .pull("tiny", recorder(), false)
        .await
        .unwrap_err();
    let m = env.models.pull("tiny", recorder(), false).await.unwrap();
    assert_eq!(std::fs::read(&m.path).unwrap(), data);
    assert!(
        srv.ranges_seen()[1].is_some(),
        "a range was asked for, and the 200 answer was taken whole"
    );
}

#[tokio::test]
async fn a_checksum_mismatch_is_an_error_and_leaves_nothing_in_the_cache() {
    let data = test_bytes(LEN, 4);
    let srv = server(&data, true, None).await;
    let wrong = sha256_hex(b"something else");
    let env = TestEnv::new(&catalog(&srv.url("/tiny.gguf"), &wrong, LEN));
    let err = env
        .models
        .pull("tiny", recorder(), false)
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, ModelsError::ChecksumMismatch { .. }),
        "{err:?}"
    );
    assert!(
        msg.contains(&wrong) && msg.contains(&sha256_hex(&data)),
        "expected and actual in {msg}"
    );
    assert!(env.cache_files().is_empty(), "{:?}", env.cache_files());
    assert!(env.models.installed("tiny").unwrap().is_none());
}

#[tokio::test]
async fn a_size_mismatch_names_both_sizes() {
    let data = test_bytes(LEN, 5);
    let srv = server(&data, true, None).await;
    let env = TestEnv::new(&catalog(
        &srv.url("/tiny.gguf"),
        &sha256_hex(&data),
        LEN + 10,
    ));
    let msg = env
        .models
        .pull("tiny", recorder(), false)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains(&format!("expected {} bytes, got {LEN} bytes", LEN + 10)),
        "{msg}"
    );
    assert!(env.cache_files().is_empty(), "{:?}", env.cache_files());
}

#[tokio::test]
async fn http_errors_name_the_url_and_status() {
    let data = test_bytes(10, 6);
    let srv = server(&data, true, None).await;
    let env = TestEnv::new(&catalog(&srv.url("/missing.gguf"), &sha256_hex(&data), 10));
    let err = env
        .models
        .pull("tiny", recorder(), false)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ModelsError::HttpStatus { status: 404, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("/missing.gguf"));
}

#[tokio::test]
async fn rm_deletes_the_model_and_leftovers_of_an_interrupted_pull() {
    let data = test_bytes(LEN, 7);
    let srv = server(&data, true, Some(1000)).await;
    let env = TestEnv::new(&catalog(&srv.url("/tiny.gguf"), &sha256_hex(&data), LEN));
    env.models
        .pull("tiny", recorder(), false)
        .await
        .unwrap_err();
    assert!(!env.cache_files().is_empty());
    assert!(env.models.remove("tiny").await.unwrap());
    assert!(env.cache_files().is_empty(), "{:?}", env.cache_files());

    env.models.pull("tiny", recorder(), false).await.unwrap();
    assert!(env.models.remove("tiny").await.unwrap());
    assert!(env.cache_files().is_empty(), "{:?}", env.cache_files());
    assert!(
        !env.models.remove("tiny").await.unwrap(),
        "nothing left to remove"
    );
    assert!(matches!(
        env.models.remove("unknown").await,
        Err(ModelsError::UnknownModel { .. })
    ));
}

#[tokio::test]
async fn concurrent_pulls_of_one_model_download_it_once() {
    let data = test_bytes(LEN, 8);
    let srv = server(&data, true, None).await;
    let env = TestEnv::new(&catalog(&srv.url("/tiny.gguf"), &sha256_hex(&data), LEN));
    let (a, b) = tokio::join!(
        env.models.ensure("tiny", recorder()),
        env.models.ensure("tiny", Arc::new(LogProgress::new()))
    );
    assert_eq!(a.unwrap().sha256, b.unwrap().sha256);
    assert_eq!(
        srv.ranges_seen().len(),
        1,
        "the second waits for the lock, then finds it installed"
    );
}

#[tokio::test]
async fn progress_reports_start_stage_bytes_and_finish() {
    let data = test_bytes(LEN, 9);
    let srv = server(&data, true, None).await;
    let env = TestEnv::new(&catalog(&srv.url("/tiny.gguf"), &sha256_hex(&data), LEN));
    let progress = recorder();
    let m = env
        .models
        .ensure_all(&["tiny".to_string()], progress.clone())
        .await
        .unwrap();
    let events = progress.events();
    assert!(matches!(&events[0], ProgressEvent::Started { model, .. } if model == "tiny"));
    assert!(events.iter().any(|e| matches!(
        e,
        ProgressEvent::Stage { stage: Stage::Download, total_bytes: Some(n), .. } if *n == LEN as u64
    )));
    let last_bytes = events.iter().rev().find_map(|e| match e {
        ProgressEvent::Bytes { done, total, .. } => Some((*done, *total)),
        _ => None,
    });
    assert_eq!(last_bytes, Some((LEN as u64, Some(LEN as u64))));
    assert!(
        matches!(events.last(), Some(ProgressEvent::Finished { path, size_bytes, .. }) if *path == m[0].path && *size_bytes == LEN as u64)
    );
}

#[tokio::test]
async fn a_pull_that_cannot_fit_on_disk_fails_before_downloading() {
    let data = test_bytes(10, 10);
    let srv = server(&data, true, None).await;
    let huge = u64::MAX / 4;
    let env = TestEnv::new(&catalog(
        &srv.url("/tiny.gguf"),
        &sha256_hex(&data),
        huge as usize,
    ));
    let err = env
        .models
        .pull("tiny", recorder(), false)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ModelsError::InsufficientDisk { needed, .. } if needed == huge),
        "{err:?}"
    );
    assert!(err.to_string().contains("not enough disk space"), "{err}");
    assert!(srv.ranges_seen().is_empty());
}

#[test]
fn space_needed_counts_wheels_twice_and_subtracts_what_is_staged() {
    let c = cairn_models::Catalog::builtin();
    let smol = c.get("smollm2-135m").unwrap();
    assert_eq!(cairn_models::space_needed(smol, 0), Some(2 * 98_362_432));
    assert_eq!(
        cairn_models::space_needed(smol, 98_000_000),
        Some(2 * 98_362_432 - 98_000_000)
    );
    assert_eq!(cairn_models::space_needed(smol, u64::MAX), Some(0));
    let url =
        cairn_models::Catalog::from_toml(&catalog("http://127.0.0.1:9/x", &sha256_hex(b""), 1000))
            .unwrap();
    assert_eq!(
        cairn_models::space_needed(url.get("tiny").unwrap(), 400),
        Some(600)
    );
}

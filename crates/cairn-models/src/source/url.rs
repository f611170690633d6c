//! A single file over HTTP(S), resumable.

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use super::http::{Describe, RemoteFile, download_all};
use super::{Fetched, PullCtx};
use crate::catalog::Layout;
use crate::error::{IoContext, ModelsError, Result};

pub(crate) async fn fetch(ctx: &PullCtx<'_>, url: &str) -> Result<Fetched> {
    let Layout::File { file_name } = &ctx.entry.layout else {
        return Err(ModelsError::InvalidCatalog(format!(
            "model `{}`: a url source fetches one file",
            ctx.entry.name
        )));
    };
    let remote = [RemoteFile {
        url: url.to_string(),
        target: file_name.clone(),
        expected_size: ctx.entry.size_bytes,
    }];
    let describe = Describe {
        source_desc: "the model server".into(),
        unreachable_hint: String::new(),
        status_hint: |_: StatusCode| String::new(),
    };
    let (dir, digests) = download_all(ctx, "url", &remote, &HeaderMap::new(), &describe).await?;
    std::fs::rename(&dir, &ctx.out).context(|| format!("moving {}", dir.display()))?;
    let d = &digests[0];
    Ok(Fetched {
        sha256: d.sha256.clone(),
        size_bytes: d.size_bytes,
        files: Vec::new(),
        in_place: None,
    })
}

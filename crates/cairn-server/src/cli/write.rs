//! `cairn write "topic"`: has a running server write an article, shows each stage as it
//! finishes, and prints the Markdown (or writes it to a file). With `--review`, the outline is
//! shown first and the user may edit it in `$EDITOR` before the sections are written.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};

use super::client::ApiClient;
use crate::config::Config;

pub struct WriteArgs {
    pub topic: String,
    pub mode: String,
    pub collections: Vec<String>,
    pub model: Option<String>,
    pub sections: Option<u32>,
    pub words_per_section: Option<u32>,
    pub review: bool,
    pub team: bool,
    pub output: Option<PathBuf>,
    pub server: Option<String>,
    pub key: Option<String>,
}

pub async fn run(args: WriteArgs, config: &Config) -> anyhow::Result<()> {
    let client = ApiClient::connect(args.server, args.key, config)?;
    let created = client
        .post(
            "/api/articles",
            &json!({
                "topic": args.topic,
                "mode": args.mode,
                "collections": args.collections,
                "model": args.model,
                "sections": args.sections,
                "words_per_section": args.words_per_section,
                "review_outline": args.review,
                "team": args.team,
            }),
        )
        .await?;
    let id = created["id"]
        .as_str()
        .context("the server's answer names no article")?;
    let bar = ProgressBar::new_spinner().with_style(
        ProgressStyle::with_template("{spinner} {elapsed} {msg}").expect("a valid template"),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    let mut reported = 0usize;
    let article = loop {
        let article = client.get(&format!("/api/articles/{id}")).await?;
        let stages = article["stages"].as_array().cloned().unwrap_or_default();
        for stage in stages.iter().skip(reported) {
            if stage["status"] == "running" {
                break;
            }
            let line = format!(
                "{:>8} {:<17} {:>6} tokens {:>7.1} s",
                stage["status"].as_str().unwrap_or_default(),
                stage["stage"].as_str().unwrap_or_default(),
                stage["tokens"],
                stage["elapsed_ms"].as_f64().unwrap_or(0.0) / 1000.0
            );
            // A hidden bar (no terminal) would swallow the line.
            if bar.is_hidden() {
                eprintln!("{line}");
            } else {
                bar.println(line);
            }
            reported += 1;
        }
        let running = stages.iter().find(|s| s["status"] == "running");
        bar.set_message(match running {
            Some(stage) => format!("{}…", stage["stage"].as_str().unwrap_or_default()),
            None => "…".to_string(),
        });
        match article["status"].as_str().unwrap_or_default() {
            "running" => tokio::time::sleep(Duration::from_millis(400)).await,
            "waiting" => {
                bar.suspend(|| print_outline(&article["outline"]));
                let edited = bar.suspend(|| edit_outline(&article["outline"]))?;
                client
                    .post(
                        &format!("/api/articles/{id}/continue"),
                        &json!({ "outline": edited }),
                    )
                    .await?;
            }
            _ => break article,
        }
    };
    bar.finish_and_clear();
    if article["status"] != "succeeded" {
        bail!(
            "the article {}: {}",
            article["status"].as_str().unwrap_or_default(),
            article["error"].as_str().unwrap_or("no detail")
        );
    }
    report_originality(&article["originality"]);
    let markdown = article["article"]["markdown"].as_str().unwrap_or_default();
    eprintln!(
        "{} words, {} min read, {} tokens; article {id}",
        article["article"]["words"], article["article"]["reading_minutes"], article["tokens"]
    );
    match args.output {
        Some(path) => std::fs::write(&path, format!("{markdown}\n"))
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => println!("{markdown}"),
    }
    Ok(())
}

fn print_outline(outline: &Value) {
    eprintln!("\nOutline for review:");
    eprintln!("# {}", outline["title"].as_str().unwrap_or_default());
    for section in outline["sections"].as_array().into_iter().flatten() {
        eprintln!("## {}", section["heading"].as_str().unwrap_or_default());
        for point in section["points"].as_array().into_iter().flatten() {
            eprintln!("   - {}", point.as_str().unwrap_or_default());
        }
    }
}

/// Opens the outline (as JSON) in `$EDITOR` when one is set and stdin is a terminal;
/// otherwise approves it as it is.
fn edit_outline(outline: &Value) -> anyhow::Result<Value> {
    use std::io::IsTerminal;
    let Some(editor) = std::env::var_os("EDITOR").filter(|_| std::io::stdin().is_terminal()) else {
        eprintln!("(no $EDITOR or no terminal: continuing with this outline)");
        return Ok(outline.clone());
    };
    let file = std::env::temp_dir().join(format!("cairn-outline-{}.json", std::process::id()));
    {
        let mut f = std::fs::File::create(&file)?;
        f.write_all(serde_json::to_string_pretty(outline)?.as_bytes())?;
    }
    let status = std::process::Command::new(&editor).arg(&file).status()?;
    if !status.success() {
        bail!("the editor exited with {status}");
    }
    let text = std::fs::read_to_string(&file)?;
    let _ = std::fs::remove_file(&file);
    serde_json::from_str(&text).context("the edited outline is not valid JSON")
}

fn report_originality(report: &Value) {
    if report.is_null() {
        return;
    }
    for section in report["sections"].as_array().into_iter().flatten() {
        if section["flagged"] != true {
            continue;
        }
        for paragraph in section["paragraphs"].as_array().into_iter().flatten() {
            if paragraph["flagged"] != true {
                continue;
            }
            let mut sources: Vec<String> = paragraph["matches"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|m| m["source"]["name"].as_str().map(str::to_string))
                .collect();
            // A source can match by wording and by meaning: name it once.
            sources.sort();
            sources.dedup();
            eprintln!(
                "originality: \"{}…\" in '{}' resembles {}",
                paragraph["preview"].as_str().unwrap_or_default(),
                section["heading"].as_str().unwrap_or_default(),
                sources.join(", ")
            );
        }
    }
}

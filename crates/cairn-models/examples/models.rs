//! A stand-in for `cairn models list | pull NAME | rm NAME | verify NAME`
//! until the server's CLI wires this crate in:
//!
//! `cargo run -p cairn-models --example models -- pull smollm2-135m`
//!
//! Progress is drawn as bars; with `CAIRN_PROGRESS=log` it is logged the way
//! `cairn serve` logs its first-start pulls.

use std::sync::Arc;

use cairn_models::{BarProgress, LogProgress, Models, Progress, render_list};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let log = std::env::var("CAIRN_PROGRESS").is_ok_and(|v| v == "log");
    if log {
        tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .init();
    }
    let progress = || -> Arc<dyn Progress> {
        if log {
            Arc::new(LogProgress::new())
        } else {
            Arc::new(BarProgress::new())
        }
    };
    let models = match Models::from_env() {
        Ok(m) => m,
        Err(e) => fail(&e),
    };
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["list"] | [] => models.list().map(|l| print!("{}", render_list(&l))),
        ["pull", names @ ..] if !names.is_empty() => {
            let mut r = Ok(());
            for name in names {
                if let Err(e) = models.pull(name, progress(), false).await {
                    r = Err(e);
                    break;
                }
            }
            r
        }
        ["verify", name] => models
            .verify(name, progress())
            .await
            .map(|m| println!("{name}: ok, sha256 {}", m.sha256)),
        ["rm", name] => models.remove(name).await.map(|removed| {
            println!(
                "{name}: {}",
                if removed { "removed" } else { "not installed" }
            )
        }),
        _ => {
            eprintln!("usage: models [list | pull NAME... | verify NAME | rm NAME]");
            std::process::exit(2)
        }
    };
    if let Err(e) = result {
        fail(&e)
    }
}

fn fail(e: &cairn_models::ModelsError) -> ! {
    eprintln!("error: {e}");
    std::process::exit(1)
}

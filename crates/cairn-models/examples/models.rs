//! A stand-in for `cairn models list | pull NAME | rm NAME | verify NAME`
//! until the server's CLI wires this crate in:
//!
//! `cargo run -p cairn-models --example models -- pull smollm2-135m`

use std::sync::Arc;

use cairn_models::{BarProgress, Models, render_list};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
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
                if let Err(e) = models.pull(name, Arc::new(BarProgress::new()), false).await {
                    r = Err(e);
                    break;
                }
            }
            r
        }
        ["verify", name] => models
            .verify(name, Arc::new(BarProgress::new()))
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

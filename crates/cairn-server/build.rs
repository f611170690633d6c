//! Builds the web app (`web/`, TypeScript + Vite) into `$OUT_DIR/web`, which
//! `src/web/assets.rs` embeds into the binary.
//!
//! Runs `npm ci` when `web/node_modules` is missing or older than the lockfile, then
//! `npm run build`; cargo reruns this only when a file under `web/` changes. npm installs
//! from the npm registry with the committed lockfile, nothing else is fetched. Set
//! `CAIRN_WEB_DIST` to a folder built beforehand to skip npm entirely (its files are
//! copied as they are).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let web = manifest.join("../../web");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo")).join("web");
    println!("cargo:rerun-if-env-changed=CAIRN_WEB_DIST");
    for watched in [
        "src",
        "public",
        "index.html",
        "package.json",
        "package-lock.json",
        "vite.config.ts",
        "tsconfig.json",
    ] {
        println!("cargo:rerun-if-changed={}", web.join(watched).display());
    }
    if let Some(dist) = std::env::var_os("CAIRN_WEB_DIST") {
        let dist = PathBuf::from(dist);
        if !dist.join("index.html").is_file() {
            fail(&format!(
                "CAIRN_WEB_DIST={} has no index.html: build the web app there first (cd web && npm ci && npm run build)",
                dist.display()
            ));
        }
        let _ = std::fs::remove_dir_all(&out);
        copy_dir(&dist, &out).unwrap_or_else(|e| fail(&format!("cannot copy CAIRN_WEB_DIST: {e}")));
        return;
    }
    let lockfile = web.join("package-lock.json");
    let installed = web.join("node_modules/.package-lock.json");
    if modified(&installed).is_none_or(|at| modified(&lockfile).is_some_and(|lock| lock > at)) {
        npm(&web, &["ci", "--no-audit", "--no-fund", "--loglevel=error"]);
    }
    let out_arg = out.to_str().expect("OUT_DIR is valid UTF-8");
    npm(
        &web,
        &[
            "run",
            "build",
            "--",
            "--outDir",
            out_arg,
            "--emptyOutDir",
            "--logLevel",
            "warn",
        ],
    );
}

fn npm(dir: &Path, args: &[&str]) {
    let status = Command::new("npm")
        .args(args)
        .current_dir(dir)
        .status()
        .unwrap_or_else(|e| {
            fail(&format!(
                "cannot run npm ({e}). The web app is built with Node.js 20+ and npm: install \
                 them (Debian: apt-get install nodejs npm; scripts/setup-deps does), or set \
                 CAIRN_WEB_DIST to an already built web/dist"
            ))
        });
    if !status.success() {
        fail(&format!(
            "`npm {}` in {} failed ({status})",
            args.join(" "),
            dir.display()
        ));
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1);
}

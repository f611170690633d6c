//! `cairn serve`: open the store, replay the metering journal, build the app, listen.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use cairn_store::{SqliteStore, Store};
use tokio::net::TcpListener;

use crate::config::Config;
use crate::metering::Meter;
use crate::state::{App, AppParts, AppState};
use crate::{api, bootstrap, telemetry};

pub struct ServeOptions {
    /// Write the bound address here once listening (useful with port 0).
    pub addr_file: Option<PathBuf>,
}

pub async fn run(config: Config, options: ServeOptions) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(&config.store.database_path())
            .await
            .with_context(|| {
                format!(
                    "cannot open the database in {}",
                    config.store.data_dir.display()
                )
            })?,
    );
    bootstrap::ensure_admin(store.as_ref(), &config).await?;
    let (meter, _writer) = Meter::start(
        store.clone(),
        &config.store.data_dir.join("metering"),
        config.metering.flush_interval,
        config.metering.batch_max_records,
    )
    .await?;
    let listen = config.server.listen;
    let app = App::new(
        config,
        AppParts {
            store,
            meter,
            metrics: telemetry::metrics_handle(),
            hooks: Vec::new(),
        },
    )?;
    let state = AppState(Arc::new(app));
    state.start_background();
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr: SocketAddr = listener.local_addr()?;
    if let Some(path) = &options.addr_file {
        std::fs::write(path, addr.to_string())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    tracing::info!(
        address = %format!("http://{addr}"),
        startup_ms = started.elapsed().as_millis() as u64,
        "cairn is listening"
    );
    // The peer address reaches handlers (sign-in throttling keys on it).
    let service = api::router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    tracing::info!("shutting down: storing pending usage records");
    state.meter.flush().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}

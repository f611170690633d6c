//! Schema migrations, embedded in the binary.
//!
//! sqlx's `migrate!` macro would pull the whole proc-macro toolchain (and a second build of
//! the SQLite driver for the host) into the build; a tiny [`MigrationSource`] over
//! `include_str!` gives the same versioned, checksummed migrations at no build cost.

use std::borrow::Cow;

use futures_core::future::BoxFuture;
use sqlx::SqlitePool;
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};

const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../../migrations/0001_init.sql")),
    (
        2,
        "knowledge",
        include_str!("../../migrations/0002_knowledge.sql"),
    ),
    (
        3,
        "memory",
        include_str!("../../migrations/0003_memory.sql"),
    ),
    (
        4,
        "orchestration",
        include_str!("../../migrations/0004_orchestration.sql"),
    ),
    (5, "web", include_str!("../../migrations/0005_web.sql")),
    (
        6,
        "feedback",
        include_str!("../../migrations/0006_feedback.sql"),
    ),
    (
        7,
        "usage_at",
        include_str!("../../migrations/0007_usage_at.sql"),
    ),
];

#[derive(Debug)]
struct Embedded;

impl MigrationSource<'static> for Embedded {
    fn resolve(self) -> BoxFuture<'static, Result<Vec<Migration>, BoxDynError>> {
        Box::pin(async {
            Ok(MIGRATIONS
                .iter()
                .map(|&(version, description, sql)| {
                    Migration::new(
                        version,
                        Cow::Borrowed(description),
                        MigrationType::Simple,
                        Cow::Borrowed(sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

pub(super) async fn run(pool: &SqlitePool) -> Result<(), sqlx::migrate::MigrateError> {
    Migrator::new(Embedded).await?.run(pool).await
}

//! An ordered migration runner: applies `migrations/NNNN_name.sql` files in version order, each in
//! its own transaction, records them in `public.schema_migrations` with a checksum, and refuses to
//! run when an applied file was edited afterwards. Safe to run twice, and concurrently (an
//! advisory lock serialises runners).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use sha2::{Digest, Sha256};

/// A migration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    pub version: i64,
    pub name: String,
    pub path: PathBuf,
    pub sql: String,
    pub checksum: String,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationReport {
    pub applied: Vec<String>,
    pub already_applied: usize,
}

/// Reads the migration files of `dir`, in version order.
pub fn read_migrations(dir: &Path) -> anyhow::Result<Vec<Migration>> {
    let mut migrations = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {dir:?}"))? {
        let path = entry?.path();
        let Some(file_name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(stem) = file_name.strip_suffix(".sql") else {
            continue;
        };
        let Some((version, name)) = stem.split_once('_') else {
            bail!("migration {file_name:?} must be named NNNN_description.sql");
        };
        let version: i64 = version
            .parse()
            .with_context(|| format!("migration {file_name:?} must start with a number"))?;
        let sql = std::fs::read_to_string(&path)?;
        let checksum = hex(&Sha256::digest(sql.as_bytes()));
        migrations.push(Migration {
            version,
            name: name.to_owned(),
            path,
            sql,
            checksum,
        });
    }
    migrations.sort_by_key(|m| m.version);
    for pair in migrations.windows(2) {
        if pair[0].version == pair[1].version {
            bail!(
                "two migrations have version {}: {:?} and {:?}",
                pair[0].version,
                pair[0].path,
                pair[1].path
            );
        }
    }
    Ok(migrations)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Applies the pending migrations of `dir` to the database at `db_url`.
pub async fn migrate(db_url: &str, dir: &Path) -> anyhow::Result<MigrationReport> {
    let migrations = read_migrations(dir)?;
    let (mut client, connection) = tokio_postgres::connect(db_url, tokio_postgres::NoTls)
        .await
        .with_context(|| format!("connecting to {}", redact(db_url)))?;
    let connection = tokio::spawn(connection);

    // One runner at a time: the lock key is arbitrary but fixed.
    client
        .batch_execute(
            "SET client_min_messages = warning;
             SELECT pg_advisory_lock(727466347);
             CREATE TABLE IF NOT EXISTS public.schema_migrations (
                 version    bigint PRIMARY KEY,
                 name       text NOT NULL,
                 checksum   text NOT NULL,
                 applied_at timestamptz NOT NULL DEFAULT now()
             );",
        )
        .await
        .context("preparing schema_migrations")?;

    let result = apply(&mut client, &migrations).await;
    let _ = client
        .batch_execute("SELECT pg_advisory_unlock(727466347)")
        .await;
    drop(client);
    let _ = connection.await;
    result
}

async fn apply(
    client: &mut tokio_postgres::Client,
    migrations: &[Migration],
) -> anyhow::Result<MigrationReport> {
    let applied: Vec<(i64, String, String)> = client
        .query(
            "SELECT version, name, checksum FROM public.schema_migrations",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let mut report = MigrationReport::default();
    for migration in migrations {
        if let Some((_, name, checksum)) = applied.iter().find(|(v, _, _)| *v == migration.version)
        {
            if *checksum != migration.checksum {
                bail!(
                    "migration {:04}_{} was changed after it was applied (as {name}); add a new migration instead of editing a landed one",
                    migration.version,
                    migration.name
                );
            }
            report.already_applied += 1;
            continue;
        }
        let transaction = client.transaction().await?;
        transaction
            .batch_execute(&migration.sql)
            .await
            .with_context(|| format!("applying {:?}", migration.path))?;
        transaction
            .execute(
                "INSERT INTO public.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                &[&migration.version, &migration.name, &migration.checksum],
            )
            .await?;
        transaction.commit().await?;
        report
            .applied
            .push(format!("{:04}_{}", migration.version, migration.name));
    }
    Ok(report)
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_migrations_in_version_order_and_refuses_duplicates() {
        let dir = std::env::temp_dir().join(format!("spincart-migrations-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("0002_second.sql"), "SELECT 2;").unwrap();
        std::fs::write(dir.join("0001_first.sql"), "SELECT 1;").unwrap();
        std::fs::write(dir.join("README.md"), "not a migration").unwrap();
        let migrations = read_migrations(&dir).unwrap();
        assert_eq!(
            migrations
                .iter()
                .map(|m| m.name.as_str())
                .collect::<Vec<_>>(),
            ["first", "second"]
        );
        std::fs::write(dir.join("0002_again.sql"), "SELECT 3;").unwrap();
        assert!(read_migrations(&dir).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
    }
}

//! `spincart-admin`: accounts with power, managed by the operator against the database.
//!
//! ```text
//! spincart-admin create --email ops@example.com                 # prints a generated password
//! spincart-admin create --email ops@example.com --password-file secret.txt
//! spincart-admin grant  --email ann@example.com                 # an existing account
//! spincart-admin revoke --email ann@example.com                 # effective on her next request
//! spincart-admin list
//! ```
//!
//! The database is `--db-url`, else `SPIN_VARIABLE_DB_URL` (what the app itself reads).

use std::io::Read as _;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "spincart-admin",
    about = "Create admins, grant and revoke the admin role"
)]
struct Cli {
    /// The app's database.
    #[arg(
        long,
        env = "SPIN_VARIABLE_DB_URL",
        global = true,
        hide_env_values = true
    )]
    db_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Makes an e-mail an admin, creating its account when there is none (an existing account
    /// keeps its password). Safe to run again.
    Create {
        #[arg(long)]
        email: String,
        /// Read the password from this file (`-`: standard input); without it, a password is
        /// generated and printed once.
        #[arg(long)]
        password_file: Option<PathBuf>,
        #[arg(long, default_value = "Administrator")]
        full_name: String,
    },
    /// Gives an existing account the admin role.
    Grant {
        #[arg(long)]
        email: String,
    },
    /// Takes the admin role away; the account's tokens lose it at once.
    Revoke {
        #[arg(long)]
        email: String,
    },
    /// Lists the admins.
    List,
}

fn read_password(path: &PathBuf) -> anyhow::Result<String> {
    let mut text = String::new();
    if path.as_os_str() == "-" {
        std::io::stdin().read_to_string(&mut text)?;
    } else {
        text = std::fs::read_to_string(path).with_context(|| format!("reading {path:?}"))?;
    }
    Ok(text.trim_end_matches(['\n', '\r']).to_owned())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let db_url = cli
        .db_url
        .context("no database: pass --db-url or set SPIN_VARIABLE_DB_URL")?;
    match cli.command {
        Command::Create {
            email,
            password_file,
            full_name,
        } => {
            let (password, generated) = match &password_file {
                Some(path) => (read_password(path)?, false),
                None => (spincart_admin::generate_password(), true),
            };
            let outcome =
                spincart_admin::ensure_admin(&db_url, &email, &password, &full_name).await?;
            println!("{outcome}");
            if generated && matches!(outcome, spincart_admin::Outcome::Created { .. }) {
                println!("password: {password}");
            }
        }
        Command::Grant { email } => println!("{}", spincart_admin::grant(&db_url, &email).await?),
        Command::Revoke { email } => {
            println!("{}", spincart_admin::revoke(&db_url, &email).await?)
        }
        Command::List => {
            for email in spincart_admin::admins(&db_url).await? {
                println!("{email}");
            }
        }
    }
    Ok(())
}

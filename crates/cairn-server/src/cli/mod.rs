//! The `cairn` command line.

mod client;
mod ingest;
mod write;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use cairn_store::{SqliteStore, Store, UserRole};
use clap::{Args, Parser, Subcommand};

use crate::accounts::{self, NewKey, NewUser};
use crate::config::Config;
use crate::serve::{self, ServeOptions};
use crate::util::now_ms;

#[derive(Debug, Parser)]
#[command(
    name = "cairn",
    version,
    about = "A self-hosted AI platform in one binary"
)]
pub struct Cli {
    /// Configuration file (TOML). Built-in defaults apply without one.
    #[arg(long, global = true, env = "CAIRN_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory (database, journal); overrides `store.data_dir`.
    #[arg(long, global = true, env = "CAIRN_DATA_DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Manage users.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Manage organisations.
    #[command(subcommand)]
    Orgs(OrgsCommand),
    /// Manage API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage local models: the catalog and the download cache.
    #[command(subcommand)]
    Models(ModelsCommand),
    /// Add documents (files, or folders recursively) to a knowledge collection of a running
    /// server, showing their ingestion until each is indexed or failed.
    Ingest {
        /// Files and folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The collection's name or id; created (owned by the key's user) when missing.
        #[arg(long, short)]
        collection: String,
        /// The server's base URL; default: `server.listen` of the configuration.
        #[arg(long)]
        server: Option<String>,
        /// An API key; default: the admin key file in the data directory.
        #[arg(long, env = "CAIRN_API_KEY", hide_env_values = true)]
        key: Option<String>,
    },
    /// Write an article on a topic with a running server, showing each stage as it
    /// finishes; prints the Markdown.
    Write {
        topic: String,
        /// Writing mode: blog, technical, academic or social.
        #[arg(long, default_value = "blog")]
        mode: String,
        /// Knowledge collections (ids) to ground the sections in.
        #[arg(long = "collection")]
        collections: Vec<String>,
        #[arg(long)]
        model: Option<String>,
        #[arg(long)]
        sections: Option<u32>,
        #[arg(long)]
        words_per_section: Option<u32>,
        /// Stop at the outline to review (and edit in $EDITOR) before writing.
        #[arg(long)]
        review: bool,
        /// The multi-agent mode: a researcher agent, the writer and an editor.
        #[arg(long)]
        team: bool,
        /// Write the Markdown to this file instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
        #[arg(long)]
        server: Option<String>,
        #[arg(long, env = "CAIRN_API_KEY", hide_env_values = true)]
        key: Option<String>,
    },
    /// Check the configuration and print what it defines.
    Config,
}

#[derive(Debug, Subcommand)]
enum ModelsCommand {
    /// List the catalog: every known model, whether it is installed, where, and its source.
    List,
    /// Download, verify and install models (resuming an interrupted download).
    Pull {
        /// Catalog names; with none, the models pulled by default.
        names: Vec<String>,
        /// Fetch again even when a verified copy is installed.
        #[arg(long)]
        force: bool,
    },
    /// Delete installed models and leftovers of interrupted downloads.
    Rm {
        #[arg(required = true)]
        names: Vec<String>,
    },
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on; overrides `server.listen` (port 0 picks a free port).
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
    /// Write the bound address to this file once listening.
    #[arg(long)]
    addr_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum UsersCommand {
    /// Create a user.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: Option<String>,
        /// Tier name from the config (default: `default_tier`).
        #[arg(long)]
        tier: Option<String>,
        /// Organisation id or name.
        #[arg(long)]
        org: Option<String>,
        /// Make the user an admin.
        #[arg(long)]
        admin: bool,
    },
    /// List users.
    List,
    /// Set a user's web sign-in password, read from `CAIRN_PASSWORD` or else the first line
    /// of standard input (never from the command line, where other users could see it).
    SetPassword {
        /// The user's e-mail or id.
        user: String,
    },
    /// Make a sign-up invitation and print its link path (shown only now).
    Invite {
        /// Only this address may use it.
        #[arg(long)]
        email: Option<String>,
        /// The new user's tier (default: `default_tier`).
        #[arg(long)]
        tier: Option<String>,
        /// Lifetime; default `web.invitation_ttl_hours`.
        #[arg(long)]
        expires_in_hours: Option<u32>,
    },
}

#[derive(Debug, Subcommand)]
enum OrgsCommand {
    /// Create an organisation.
    Create { name: String },
    /// List organisations.
    List,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Create an API key and print it (only the key, on stdout).
    Create {
        /// The user's id or e-mail.
        #[arg(long)]
        user: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        expires_in_days: Option<u32>,
        /// Requests per minute for this key, tighter than the tier's.
        #[arg(long)]
        rpm: Option<u32>,
        /// Tokens per minute for this key, tighter than the tier's.
        #[arg(long)]
        tpm: Option<u32>,
    },
    /// List API keys (never their secrets).
    List {
        #[arg(long)]
        user: Option<String>,
    },
    /// Revoke an API key by id or visible prefix.
    Revoke { key: String },
}

pub fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut config = Config::load(cli.config.as_deref())?;
    if let Some(dir) = cli.data_dir {
        config.store.data_dir = dir;
    }
    crate::telemetry::init_logging(config.server.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(cli.command, config))
}

async fn run(command: Command, mut config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve(args) => {
            if let Some(listen) = args.listen {
                config.server.listen = listen;
            }
            serve::run(
                config,
                ServeOptions {
                    addr_file: args.addr_file,
                },
            )
            .await
        }
        Command::Users(cmd) => users(cmd, &config).await,
        Command::Orgs(cmd) => orgs(cmd, &config).await,
        Command::Keys(cmd) => keys(cmd, &config).await,
        Command::Models(cmd) => models(cmd).await,
        Command::Ingest {
            paths,
            collection,
            server,
            key,
        } => {
            ingest::run(
                ingest::IngestArgs {
                    paths,
                    collection,
                    server,
                    key,
                },
                &config,
            )
            .await
        }
        Command::Write {
            topic,
            mode,
            collections,
            model,
            sections,
            words_per_section,
            review,
            team,
            output,
            server,
            key,
        } => {
            write::run(
                write::WriteArgs {
                    topic,
                    mode,
                    collections,
                    model,
                    sections,
                    words_per_section,
                    review,
                    team,
                    output,
                    server,
                    key,
                },
                &config,
            )
            .await
        }
        Command::Config => {
            println!("data_dir  {}", config.store.data_dir.display());
            println!("listen    {}", config.server.listen);
            for (name, model) in &config.models {
                println!(
                    "model     {name} -> {}:{} ({:?})",
                    model.provider, model.target, model.kind
                );
            }
            for (name, tier) in &config.tiers {
                println!(
                    "tier      {name}: {} (default {}), {} rpm, {} tpm",
                    tier.models.join(", "),
                    tier.default_model,
                    tier.requests_per_minute,
                    tier.tokens_per_minute
                );
            }
            Ok(())
        }
    }
}

async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let store = SqliteStore::open(&config.store.database_path())
        .await
        .with_context(|| {
            format!(
                "cannot open the database in {}",
                config.store.data_dir.display()
            )
        })?;
    Ok(Arc::new(store))
}

async fn users(cmd: UsersCommand, config: &Config) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    match cmd {
        UsersCommand::Create {
            email,
            name,
            tier,
            org,
            admin,
        } => {
            let role = if admin {
                UserRole::Admin
            } else {
                UserRole::Member
            };
            let user = accounts::create_user(
                store.as_ref(),
                config,
                NewUser {
                    email,
                    name,
                    role,
                    tier,
                    org,
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", user.id);
        }
        UsersCommand::SetPassword { user } => {
            let Some(found) = store.find_user(&user).await? else {
                bail!("no user '{user}'");
            };
            let password = read_password()?;
            crate::web::password::check_rules(&password, "password")
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let hash = crate::web::password::hash(&password)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            store.set_password_hash(&found.id, Some(&hash)).await?;
            // A new password ends the sessions signed in with the old one.
            store.delete_user_sessions(&found.id, None).await?;
            eprintln!("password set for {}", found.email);
        }
        UsersCommand::Invite {
            email,
            tier,
            expires_in_hours,
        } => {
            let (invitation, token) = crate::web::invitations::create(
                store.as_ref(),
                config,
                crate::web::invitations::NewInvitation {
                    email,
                    tier,
                    expires_in_hours,
                    created_by: None,
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            eprintln!(
                "invitation {} made; append this path to the server's address (shown only now):",
                invitation.id
            );
            println!("{}", crate::web::invitations::signup_path(&token));
        }
        UsersCommand::List => {
            for u in store.list_users().await? {
                let state = if u.disabled { "disabled" } else { "active" };
                println!(
                    "{}\t{}\t{}\t{}\t{state}",
                    u.id,
                    u.email,
                    u.role.as_str(),
                    u.tier
                );
            }
        }
    }
    Ok(())
}

fn read_password() -> anyhow::Result<String> {
    if let Ok(password) = std::env::var("CAIRN_PASSWORD") {
        return Ok(password);
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']).to_string();
    if password.is_empty() {
        bail!("no password: set CAIRN_PASSWORD or write it on standard input");
    }
    Ok(password)
}

async fn orgs(cmd: OrgsCommand, config: &Config) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    match cmd {
        OrgsCommand::Create { name } => {
            let org = accounts::create_org(store.as_ref(), &name)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", org.id);
        }
        OrgsCommand::List => {
            for o in store.list_orgs().await? {
                println!("{}\t{}", o.id, o.name);
            }
        }
    }
    Ok(())
}

async fn keys(cmd: KeysCommand, config: &Config) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    match cmd {
        KeysCommand::Create {
            user,
            name,
            expires_in_days,
            rpm,
            tpm,
        } => {
            let Some(user) = store.find_user(&user).await? else {
                bail!("no user '{user}'; create one with `cairn users create --email ...`");
            };
            let (key, secret) = accounts::create_key(
                store.as_ref(),
                &user,
                NewKey {
                    name,
                    expires_in_days,
                    requests_per_minute: rpm,
                    tokens_per_minute: tpm,
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            eprintln!(
                "created key {} ({}) for {}; it is shown only now",
                key.id, key.prefix, user.email
            );
            println!("{secret}");
        }
        KeysCommand::List { user } => {
            let user_id = match user {
                Some(u) => Some(
                    store
                        .find_user(&u)
                        .await?
                        .with_context(|| format!("no user '{u}'"))?
                        .id,
                ),
                None => None,
            };
            let now = now_ms();
            for k in store.list_api_keys(user_id.as_deref()).await? {
                let state = if k.revoked_at.is_some() {
                    "revoked"
                } else if k.is_active(now) {
                    "active"
                } else {
                    "expired"
                };
                println!(
                    "{}\t{}…\t{}\t{}\t{state}",
                    k.id, k.prefix, k.user_id, k.name
                );
            }
        }
        KeysCommand::Revoke { key } => {
            let Some(found) = store.find_api_key(&key).await? else {
                bail!(
                    "no API key with id or prefix '{key}' (a prefix shared by two keys is ambiguous: use the id)"
                );
            };
            store.revoke_api_key(&found.id, now_ms()).await?;
            eprintln!("revoked {} ({})", found.id, found.prefix);
        }
    }
    Ok(())
}

async fn models(cmd: ModelsCommand) -> anyhow::Result<()> {
    use cairn_models::{BarProgress, Models, render_list};
    let models = Models::from_env()?;
    match cmd {
        ModelsCommand::List => print!("{}", render_list(&models.list()?)),
        ModelsCommand::Pull { names, force } => {
            let names = if names.is_empty() {
                models.catalog().default_names()
            } else {
                names
            };
            for name in names {
                let installed = models
                    .pull(&name, Arc::new(BarProgress::new()), force)
                    .await?;
                eprintln!("{name}: installed at {}", installed.path.display());
            }
        }
        ModelsCommand::Rm { names } => {
            for name in names {
                if models.remove(&name).await? {
                    eprintln!("{name}: removed");
                } else {
                    eprintln!("{name}: was not installed");
                }
            }
        }
    }
    Ok(())
}

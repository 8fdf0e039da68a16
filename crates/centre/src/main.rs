//! `jx-centre`: runs the centre's API on 127.0.0.1.
//!
//! `jx-centre --demo` starts with the demo town in `./data/centre` and prints the URL and the demo logins.

use clap::Parser;
use jx_centre::{Settings, start, town};
use jx_core::model::Role;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(name = "jx-centre", about = "泾小二 centre: the API every phone and coordinator works against")]
struct Cli {
    /// Address to listen on.
    #[arg(long, env = "JX_LISTEN", default_value = "127.0.0.1:7878")]
    listen: SocketAddr,
    /// Where the database and the photos live.
    #[arg(long, env = "JX_DATA_DIR", default_value = "data/centre")]
    data_dir: PathBuf,
    /// A PostgreSQL URL (`postgres://user@host/db`) to run on instead of the embedded SQLite file.
    #[arg(long, env = "JX_DATABASE")]
    database: Option<String>,
    /// Seed the demo town (Huajing, Xuhui) into an empty database and print the demo logins.
    #[arg(long, env = "JX_DEMO")]
    demo: bool,
    /// Serve the built web app from this folder at `/`.
    #[arg(long, env = "JX_APP_DIR")]
    app_dir: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("JX_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    let cli = Cli::parse();
    let mut settings = Settings::new(&cli.data_dir);
    settings.listen = cli.listen;
    settings.demo = cli.demo;
    settings.database = cli.database.clone();
    settings.app_dir = cli.app_dir.clone();
    let running = start(settings, true).await?;
    println!("泾小二 centre listening on {}/api/v1 (data in {})", running.url(), cli.data_dir.display());
    if cli.app_dir.is_some() {
        println!("the app: {}/", running.url());
    }
    if cli.demo {
        println!(
            "demo logins (password {}): coordinators {}…{}, team members {}…{}",
            town::DEMO_PASSWORD,
            town::demo_login(Role::Coordinator, 1),
            town::demo_login(Role::Coordinator, 3),
            town::demo_login(Role::Staff, 1),
            town::demo_login(Role::Staff, 25),
        );
    }
    running.wait().await
}

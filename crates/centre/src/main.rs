//! `jx-centre`: runs the centre's API on 127.0.0.1.
//!
//! `jx-centre --demo` starts with the demo town in `./data/centre` and prints the URL and the demo logins.
//! `jx-centre scan PHOTO…` reads the QR codes in photos and checks them against this centre's keys.
//! `jx-centre route FILE.tsp…` orders a TSPLIB instance with the project's route method and prints its length.

use clap::{Parser, Subcommand};
use jx_centre::{Settings, start, town};
use jx_core::model::Role;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(name = "jx-centre", about = "泾小二 centre: the API every phone and coordinator works against")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Address to listen on.
    #[arg(long, env = "JX_LISTEN", default_value = "127.0.0.1:7878")]
    listen: SocketAddr,
    /// Where the database and the photos live.
    #[arg(long, env = "JX_DATA_DIR", default_value = "data/centre", global = true)]
    data_dir: PathBuf,
    /// A PostgreSQL URL (`postgres://user@host/db`) to run on instead of the embedded SQLite file.
    #[arg(long, env = "JX_DATABASE", global = true)]
    database: Option<String>,
    /// Seed the demo town (Huajing, Xuhui) into an empty database and print the demo logins.
    #[arg(long, env = "JX_DEMO")]
    demo: bool,
    /// With --demo, when seeding: assign tonight's tasks by the automatic proposal, so team members see a route.
    #[arg(long, env = "JX_DEMO_ASSIGNED", requires = "demo")]
    demo_assigned: bool,
    /// Serve the built web app from this folder at `/`.
    #[arg(long, env = "JX_APP_DIR")]
    app_dir: Option<PathBuf>,
    /// Metres outside its task's compound at which a handoff's position is flagged on the board.
    #[arg(long, env = "JX_FAR_HANDOFF_M", default_value_t = 150.0)]
    far_handoff_m: f64,
    /// Serve HTTPS: the certificate chain (PEM). Needs --tls-key.
    #[arg(long, env = "JX_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM, PKCS#8 or RSA or SEC1). Needs --tls-cert.
    #[arg(long, env = "JX_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Where residents reach the centre from outside (`https://jx.example.gov.cn`): the origin of the URLs printed on
    /// door cards. Unset: the address the coordinator printing them used.
    #[arg(long, env = "JX_PUBLIC_URL")]
    public_url: Option<String>,
    /// The centre's telephone number, printed on door cards and on the residents' booking pages.
    #[arg(long, env = "JX_CENTRE_PHONE", default_value = "12345")]
    centre_phone: String,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Read the QR codes in photos (JPEG or PNG) and check each against the centre's keys. Prints one line per file:
    /// file, code kind, task, valid or why not, time taken. Exits 1 if any file holds no valid code.
    Scan {
        #[arg(required = true)]
        photos: Vec<PathBuf>,
    },
    /// Order the cities of TSPLIB files (EUC_2D or GEO) with the method that orders staff routes, and print per file
    /// the tour length in TSPLIB's own distance, the optimum the file states (if any), the gap and the time taken.
    Route {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Stop improving after this many milliseconds.
        #[arg(long, default_value_t = 20)]
        ms: u64,
        /// Or after this many perturbation rounds.
        #[arg(long, default_value_t = jx_core::route::Budget::DEFAULT_KICKS)]
        kicks: u32,
        /// Print the tour too (TSPLIB's 1-based node numbers).
        #[arg(long)]
        tour: bool,
    },
}

/// `route`: one line per file; exit status 1 if a file cannot be read or parsed.
fn route(files: &[PathBuf], ms: u64, kicks: u32, print_tour: bool) -> std::process::ExitCode {
    let mut ok = true;
    for f in files {
        let text = match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) => {
                println!("{}	error: {e}", f.display());
                ok = false;
                continue;
            }
        };
        let started = std::time::Instant::now();
        let deadline = started + std::time::Duration::from_millis(ms);
        let stop = || std::time::Instant::now() >= deadline;
        let budget = jx_core::route::Budget::kicks(kicks).until(&stop);
        match jx_core::tsplib::solve_tsplib(&text, jx_core::route::Method::Iterated, budget) {
            Ok(s) => {
                let elapsed = started.elapsed().as_secs_f64() * 1000.0;
                let optimum = match s.optimum {
                    Some(o) if o > 0 => format!("optimum {o}	gap {:.2}%", (s.length - o) as f64 * 100.0 / o as f64),
                    _ => "optimum unknown".into(),
                };
                println!(
                    "{}	{}	{} cities	length {}	{optimum}	{elapsed:.1} ms",
                    f.display(),
                    s.name,
                    s.tour.len(),
                    s.length
                );
                if print_tour {
                    let nodes: Vec<String> = s.tour.iter().map(|n| (n + 1).to_string()).collect();
                    println!("{}", nodes.join(" "));
                }
            }
            Err(e) => {
                println!("{}	error: {e}", f.display());
                ok = false;
            }
        }
    }
    if ok { std::process::ExitCode::SUCCESS } else { std::process::ExitCode::from(1) }
}

/// `scan`: the keys come from the centre's database (opened read-mostly; nothing is written but migrations).
async fn scan(cli: &Cli, photos: &[PathBuf]) -> anyhow::Result<std::process::ExitCode> {
    let database = match &cli.database {
        Some(url) => url.clone(),
        None => cli.data_dir.join("centre.sqlite").to_string_lossy().into_owned(),
    };
    let db = jx_centre::db::Db::open(database).await?;
    let ring = db.call(|tx| jx_centre::proof::keyring(tx)).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    if ring.0.is_empty() {
        anyhow::bail!("this centre has no signing keys yet (start it once)");
    }
    let now = jx_centre::db::now();
    let mut all_valid = true;
    for p in photos {
        let line = jx_centre::scan::scan_file(p, &ring, now);
        all_valid &= line.findings.iter().any(|f| matches!(f, jx_centre::scan::Finding::Valid { .. }));
        println!("{line}");
    }
    Ok(if all_valid { std::process::ExitCode::SUCCESS } else { std::process::ExitCode::from(1) })
}

#[tokio::main]
async fn main() -> anyhow::Result<std::process::ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("JX_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    match &cli.command {
        Some(Command::Scan { photos }) => return scan(&cli, photos).await,
        Some(Command::Route { files, ms, kicks, tour }) => return Ok(route(files, *ms, *kicks, *tour)),
        None => {}
    }
    let mut settings = Settings::new(&cli.data_dir);
    settings.listen = cli.listen;
    settings.demo = cli.demo;
    settings.demo_assigned = cli.demo_assigned;
    settings.database = cli.database.clone();
    settings.app_dir = cli.app_dir.clone();
    settings.far_handoff_m = cli.far_handoff_m;
    if let Some(url) = &cli.public_url
        && !jx_centre::doorcard::is_origin(url)
    {
        anyhow::bail!("--public-url must be an http:// or https:// address without a query, not {url:?}");
    }
    settings.public_url = cli.public_url.clone();
    settings.centre_phone = cli.centre_phone.clone();
    settings.tls = match (&cli.tls_cert, &cli.tls_key) {
        (Some(cert), Some(key)) => Some(jx_centre::tls::TlsFiles { cert: cert.clone(), key: key.clone() }),
        _ => None,
    };
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
    running.wait().await?;
    Ok(std::process::ExitCode::SUCCESS)
}

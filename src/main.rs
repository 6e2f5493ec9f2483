//! `customer-portal` — no argument: serve; `hash-password`: read a password on stdin and
//! print a Werkzeug hash for `ADMIN_PASSWORD_HASH`; `print-schema`: print the GraphQL SDL.

use std::io::Read;
use std::process::ExitCode;

use customer_portal::startup::Application;

const USAGE: &str = "usage: customer-portal [serve | hash-password | print-schema | preflight]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None | Some("serve") => serve(),
        Some("hash-password") => hash_password(),
        Some("preflight") => preflight(),
        Some("print-schema") => {
            print!("{}", customer_portal::graphql::sdl());
            ExitCode::SUCCESS
        }
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("unknown command {other:?}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn hash_password() -> ExitCode {
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        eprintln!("could not read the password from stdin: {e}");
        return ExitCode::FAILURE;
    }
    // Only the line ending a shell or `echo` adds is removed: other spaces are part of it.
    let password = input
        .strip_suffix('\n')
        .map(|s| s.strip_suffix('\r').unwrap_or(s))
        .unwrap_or(&input);
    if password.is_empty() {
        eprintln!(
            "empty password: pipe the password in, e.g.  read -rs PW; printf '%s' \"$PW\" | customer-portal hash-password"
        );
        return ExitCode::FAILURE;
    }
    println!("{}", werkzeug_hash::generate(password));
    ExitCode::SUCCESS
}

/// The switch-day rehearsal: prints go or no-go for each part, writes nothing. Exit code
/// 0 for go, 1 for no-go.
fn preflight() -> ExitCode {
    let sources = match customer_portal::config::Sources::load() {
        Ok(v) => v,
        Err(e) => {
            eprintln!("could not read .env: {e:#}");
            return ExitCode::from(78);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("could not start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let report = runtime.block_on(customer_portal::preflight::run(&sources));
    print!("{}", report.render());
    if report.go() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn serve() -> ExitCode {
    let sources = match customer_portal::config::Sources::load() {
        Ok(v) => v,
        Err(e) => {
            eprintln!("could not read .env: {e:#}");
            return ExitCode::from(78); // EX_CONFIG
        }
    };
    let vars = sources.merged();
    customer_portal::telemetry::init(
        vars.get("RUST_LOG").map(String::as_str),
        vars.get("LOG_FORMAT").map(String::as_str),
    );
    tracing::info!("{}", sources.describe());
    customer_portal::telemetry::metrics::install_process_recorder();
    let config = match customer_portal::config::check(&sources) {
        Ok(checked) => {
            for w in &checked.warnings {
                tracing::warn!("{w}");
            }
            checked.config
        }
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(78);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("could not start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let app = match Application::build(config).await {
            Ok(app) => app,
            Err(e) => {
                eprintln!("start-up failed: {e:#}");
                return ExitCode::FAILURE;
            }
        };
        println!("{}", app.banner());
        match app.run_until_stopped().await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{e:#}");
                ExitCode::FAILURE
            }
        }
    })
}

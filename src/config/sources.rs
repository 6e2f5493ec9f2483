//! Where configuration comes from (`.env` and the environment, kept apart) and the
//! start-up checks that need to know which of the two set a key.

use std::collections::HashMap;
use std::path::Path;

use super::{Config, ConfigError, dotenv, keys};

/// Where the configuration came from: `.env` and the process environment, kept apart so
/// that start-up can tell which of them set a key.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    /// Values of `.env`, read as python-dotenv reads them.
    pub dotenv: HashMap<String, String>,
    pub env: HashMap<String, String>,
    /// Statements of `.env` that could not be parsed (skipped, as python-dotenv does).
    pub dotenv_warnings: Vec<String>,
}

impl Sources {
    /// `.env` (if present in the working directory) and the process environment.
    pub fn load() -> anyhow::Result<Sources> {
        Sources::load_from(Path::new(".env"), std::env::vars().collect())
    }

    pub fn load_from(dotenv_path: &Path, env: HashMap<String, String>) -> anyhow::Result<Sources> {
        let mut sources = Sources {
            env,
            ..Sources::default()
        };
        if dotenv_path.exists() {
            let text = std::fs::read_to_string(dotenv_path)
                .map_err(|e| anyhow::anyhow!("{}: {e}", dotenv_path.display()))?;
            let parsed = dotenv::parse(&text);
            sources.dotenv = dotenv::values(&parsed, &sources.env);
            sources.dotenv_warnings = parsed.warnings;
        }
        Ok(sources)
    }

    /// Every value; the process environment wins over `.env`, as with python-dotenv.
    pub fn merged(&self) -> HashMap<String, String> {
        let mut vars = self.dotenv.clone();
        vars.extend(self.env.iter().map(|(k, v)| (k.clone(), v.clone())));
        vars
    }
}

/// A configuration and what the operator should read about it at start-up.
#[derive(Debug)]
pub struct Checked {
    pub config: Config,
    pub warnings: Vec<String>,
}

fn set(vars: &HashMap<String, String>, key: &str) -> bool {
    vars.get(key).is_some_and(|v| !v.trim().is_empty())
}

/// Reads the configuration from both sources, with the checks that only make sense
/// knowing where a key came from: unknown keys (with the nearest known one), and a `.env`
/// written for production that would otherwise start the demo.
pub fn check(sources: &Sources) -> Result<Checked, ConfigError> {
    let mut warnings = sources.dotenv_warnings.clone();
    let mut problems = Vec::new();
    let unknown = |name: &str, origin: &str| {
        let hint = match keys::nearest(name) {
            Some(k) => format!("; did you mean {k}?"),
            None => String::new(),
        };
        format!("unknown setting {name} in {origin}{hint}")
    };
    let mut dotenv_keys: Vec<&String> = sources.dotenv.keys().collect();
    dotenv_keys.sort();
    let mut typo_of_a_server = Vec::new();
    for name in dotenv_keys {
        if keys::find(name).is_none() {
            warnings.push(unknown(name, ".env"));
            if matches!(keys::nearest(name), Some("DB_SERVER" | "ERP_DB_SERVER")) {
                typo_of_a_server.push(name.clone());
            }
        }
    }
    let mut env_keys: Vec<&String> = sources
        .env
        .keys()
        .filter(|k| keys::PREFIXES.iter().any(|p| k.starts_with(p)))
        .filter(|k| keys::find(k).is_none() && !sources.dotenv.contains_key(*k))
        .collect();
    env_keys.sort();
    for name in env_keys {
        warnings.push(unknown(name, "the environment"));
    }

    let vars = sources.merged();
    let production = set(&vars, "DB_SERVER") || set(&vars, "ERP_DB_SERVER");
    let insist_demo = vars.get("DEMO").is_some_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "1" | "true" | "yes" | "on"
        )
    });
    if !production && !insist_demo {
        let mut meant_for_production: Vec<&str> = keys::KEYS
            .iter()
            .filter(|k| k.production_only && set(&sources.dotenv, k.name))
            .map(|k| k.name)
            .collect();
        meant_for_production.extend(typo_of_a_server.iter().map(String::as_str));
        if !meant_for_production.is_empty() {
            problems.push(format!(
                "refusing to start the demo: .env sets {} but neither DB_SERVER nor ERP_DB_SERVER, \
                 so the portal would run on the generated demo ERP with a fresh admin password. \
                 Set DB_SERVER and/or ERP_DB_SERVER for production, or DEMO=1 to run the demo anyway",
                meant_for_production.join(", ")
            ));
        }
    }
    match Config::from_vars(&vars) {
        Ok(config) if problems.is_empty() => Ok(Checked { config, warnings }),
        Ok(_) => Err(ConfigError { problems }),
        Err(e) => {
            problems.extend(e.problems);
            Err(ConfigError { problems })
        }
    }
}

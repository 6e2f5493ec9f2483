//! Where configuration comes from (`.env` and the environment, kept apart) and the
//! start-up checks that need to know which of the two set a key.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

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
    /// The `.env` file read, if one was found.
    pub dotenv_path: Option<PathBuf>,
}

/// Where the old portal found its `.env` (python-dotenv's `load_dotenv()`), and the
/// working directory first, as this portal always read it: the first `.env` in the working
/// directory, then in the program's own folder and each of its parents.
pub fn find_dotenv(working_dir: &Path, program: Option<&Path>) -> Option<PathBuf> {
    let here = working_dir.join(".env");
    if here.is_file() {
        return Some(here);
    }
    let folder = program?.parent()?;
    folder
        .ancestors()
        .map(|dir| dir.join(".env"))
        .find(|candidate| candidate.is_file())
}

impl Sources {
    /// The `.env` found by [`find_dotenv`] (if any) and the process environment.
    pub fn load() -> anyhow::Result<Sources> {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let program = std::env::current_exe().ok();
        let found = find_dotenv(&cwd, program.as_deref());
        Sources::load_from(found.as_deref(), std::env::vars().collect())
    }

    pub fn load_from(
        dotenv_path: Option<&Path>,
        env: HashMap<String, String>,
    ) -> anyhow::Result<Sources> {
        let mut sources = Sources {
            env,
            ..Sources::default()
        };
        if let Some(dotenv_path) = dotenv_path {
            sources.dotenv_path = Some(dotenv_path.to_owned());
            let text = std::fs::read_to_string(dotenv_path)
                .map_err(|e| anyhow::anyhow!("{}: {e}", dotenv_path.display()))?;
            let parsed = dotenv::parse(&text);
            sources.dotenv = dotenv::values(&parsed, &sources.env);
            sources.dotenv_warnings = parsed.warnings;
        }
        Ok(sources)
    }

    /// One line for the start-up log: which file was read, or that none was.
    pub fn describe(&self) -> String {
        match &self.dotenv_path {
            Some(p) => format!("configuration: {} and the environment", p.display()),
            None => "configuration: the environment only (no .env in the working directory, the program's folder or its parents)".to_owned(),
        }
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
        Ok(config) if problems.is_empty() => {
            warnings.extend(config.warnings.iter().cloned());
            Ok(Checked { config, warnings })
        }
        Ok(_) => Err(ConfigError { problems }),
        Err(e) => {
            problems.extend(e.problems);
            Err(ConfigError { problems })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_env_file_is_found_where_the_old_portal_found_it() {
        let root = tempfile::tempdir().unwrap();
        let app = root.path().join("portal");
        let bin = app.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let program = bin.join("customer-portal");
        assert_eq!(find_dotenv(elsewhere.path(), Some(&program)), None);
        // Beside the application's folder, above the binary: found by walking up.
        std::fs::write(app.join(".env"), "PORT=5002\n").unwrap();
        assert_eq!(
            find_dotenv(elsewhere.path(), Some(&program)),
            Some(app.join(".env"))
        );
        // The nearest one wins.
        std::fs::write(bin.join(".env"), "PORT=5003\n").unwrap();
        assert_eq!(
            find_dotenv(elsewhere.path(), Some(&program)),
            Some(bin.join(".env"))
        );
        // The working directory's comes first.
        std::fs::write(elsewhere.path().join(".env"), "PORT=5004\n").unwrap();
        assert_eq!(
            find_dotenv(elsewhere.path(), Some(&program)),
            Some(elsewhere.path().join(".env"))
        );
        let sources = Sources::load_from(Some(&app.join(".env")), HashMap::new()).unwrap();
        assert_eq!(sources.dotenv["PORT"], "5002");
        assert!(
            sources
                .describe()
                .contains(&app.join(".env").display().to_string())
        );
    }
}

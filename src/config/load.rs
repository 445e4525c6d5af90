//! Layering and validation: compiled-in defaults → `config/default.toml` → `config/<env>.toml`
//! → environment variables. Every failure is one line naming the setting.

use super::settings::{CrisisJudgeConfig, Settings};
use super::{ConfigError, Environment};
use cbln_actors::crisis_judge::CrisisJudgeSettings;
use figment::Figment;
use figment::providers::{Format, Toml};
use secrecy::ExposeSecret;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The defaults, compiled in so the binary runs from any directory.
pub const DEFAULT_TOML: &str = include_str!("../../config/default.toml");

/// The shipped hotline list, compiled in for the same reason: a binary deployed without a config
/// directory shows the same crisis card as one run from the repository.
pub const DEFAULT_HOTLINES_TOML: &str = include_str!("../../config/hotlines.toml");

/// Each environment's file, compiled in as well, so `CBLN_ENV=production` means JSON logs and
/// no CORS origins even where no config directory was deployed.
fn embedded_environment_toml(environment: Environment) -> &'static str {
    match environment {
        Environment::Development => include_str!("../../config/development.toml"),
        Environment::Production => include_str!("../../config/production.toml"),
        Environment::Test => include_str!("../../config/test.toml"),
    }
}

/// Conventional variables and the setting each one sets.
pub const CONVENTIONAL_VARIABLES: [(&str, &str); 7] = [
    ("DATABASE_URL", "database.url"),
    ("REDIS_URL", "redis.url"),
    ("SECRET_KEY", "security.secret_key"),
    ("ENCRYPTION_KEY", "security.encryption_key"),
    (
        "ENCRYPTION_KEYS_PREVIOUS",
        "security.encryption_keys_previous",
    ),
    ("OPENAI_API_KEY", "responder.api_key"),
    ("PORT", "server.port"),
];

/// Where configuration comes from; tests build one by hand instead of reading the process env.
#[derive(Debug, Clone)]
pub struct Sources {
    /// `CBLN_ENV`.
    pub environment: Option<String>,
    /// `CBLN_CONFIG_DIR`.
    pub config_dir: PathBuf,
    /// Environment variables to apply (all of them, or a test's own list).
    pub variables: Vec<(String, String)>,
}

impl Sources {
    /// The process environment.
    pub fn from_process() -> Self {
        Sources {
            environment: std::env::var("CBLN_ENV").ok(),
            config_dir: std::env::var("CBLN_CONFIG_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|_| PathBuf::from("./config")),
            variables: std::env::vars().collect(),
        }
    }
}

/// Loads and layers the settings, refusing unknown keys and unparseable values.
pub fn load(sources: &Sources) -> Result<(Environment, Settings), ConfigError> {
    let environment = match sources.environment.as_deref() {
        None | Some("") => Environment::Development,
        Some(name) => Environment::parse(name).ok_or_else(|| ConfigError {
            setting: "CBLN_ENV".into(),
            problem: format!("must be development, production or test, not {name:?}"),
        })?,
    };
    let mut figment = Figment::new()
        .merge(Toml::string(DEFAULT_TOML))
        .merge(Toml::string(embedded_environment_toml(environment)));
    for file in [
        PathBuf::from("default.toml"),
        PathBuf::from(format!("{}.toml", environment.as_str())),
    ] {
        let path = sources.config_dir.join(&file);
        if path.is_file() {
            figment = figment.merge(Toml::file_exact(path));
        }
    }
    let variables = sources.variables.clone();
    let prefixed: Vec<(String, String)> = variables
        .iter()
        .filter_map(|(name, value)| {
            name.strip_prefix("CBLN__")
                .map(|rest| (rest.to_ascii_lowercase().replace("__", "."), value.clone()))
        })
        .collect();
    for (key, value) in &prefixed {
        figment = figment.merge(figment::providers::Serialized::default(
            key,
            env_value(value),
        ));
    }
    for (variable, key) in CONVENTIONAL_VARIABLES {
        if let Some((_, value)) = variables.iter().find(|(name, _)| name == variable) {
            figment = figment.merge(figment::providers::Serialized::default(
                key,
                env_value(value),
            ));
        }
    }
    let settings: Settings = figment.extract().map_err(ConfigError::from_figment)?;
    validate(&settings)?;
    Ok((environment, settings))
}

/// Environment values are strings; numbers, booleans and lists are parsed as TOML values so
/// `CBLN__SERVER__PORT=9000` is a number and `CBLN__RATE_LIMIT__ENABLED=false` a boolean.
fn env_value(raw: &str) -> figment::value::Value {
    let parsed: Option<figment::value::Value> =
        toml::from_str::<toml::Table>(&format!("v = {raw}"))
            .ok()
            .and_then(|table| table.get("v").cloned())
            .and_then(|value| figment::value::Value::serialize(value).ok());
    parsed.unwrap_or_else(|| figment::value::Value::from(raw.to_string()))
}

fn invalid(setting: &str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        setting: setting.into(),
        problem: problem.into(),
    }
}

fn validate(settings: &Settings) -> Result<(), ConfigError> {
    let url = settings.database.url.expose_secret();
    if cbln_actors::persistence::BackendKind::from_url(url).is_none() {
        return Err(invalid(
            "database.url (DATABASE_URL)",
            "must start with sqlite:// or postgres://",
        ));
    }
    let redis = settings.redis.url.expose_secret();
    if !redis.is_empty() && !redis.starts_with("redis://") && !redis.starts_with("rediss://") {
        return Err(invalid(
            "redis.url (REDIS_URL)",
            "must start with redis:// or rediss://, or be empty",
        ));
    }
    if settings.server.event_heartbeat_ms < 10 {
        return Err(invalid("server.event_heartbeat_ms", "must be at least 10"));
    }
    if settings.server.max_url_bytes < 256 {
        return Err(invalid("server.max_url_bytes", "must be at least 256"));
    }
    if settings.server.body_limit_bytes < 1024 {
        return Err(invalid("server.body_limit_bytes", "must be at least 1024"));
    }
    for proxy in &settings.server.trusted_proxies {
        if super::parse_network(proxy).is_none() {
            return Err(invalid(
                "server.trusted_proxies",
                format!("{proxy:?} is not an IP address or CIDR range"),
            ));
        }
    }
    if let Some(address) = settings.metrics.listen_address()
        && address.parse::<std::net::SocketAddr>().is_err()
    {
        return Err(invalid(
            "metrics.listen",
            format!("{address:?} is not an IP address and port, e.g. 127.0.0.1:9100"),
        ));
    }
    if let Err(errors) = cbln_actors::staff::OpeningHours::parse(&settings.handoff.hours_spec()) {
        let first = &errors[0];
        return Err(invalid(
            &format!("handoff.{}", first.field),
            first.problem.clone(),
        ));
    }
    for origin in &settings.server.cors_origins {
        if !(origin.starts_with("http://") || origin.starts_with("https://")) {
            return Err(invalid(
                "server.cors_origins",
                format!("{origin:?} is not an http(s) origin"),
            ));
        }
    }
    let positive = [
        (
            "database.max_connections",
            u64::from(settings.database.max_connections),
        ),
        (
            "database.probe_interval_ms",
            settings.database.probe_interval_ms,
        ),
        (
            "database.probe_timeout_ms",
            settings.database.probe_timeout_ms,
        ),
        ("session.ttl_days", settings.session.ttl_days),
        ("staff.shift_hours", settings.staff.shift_hours),
        ("session.idle_timeout_s", settings.session.idle_timeout_s),
        (
            "session.max_live_actors",
            settings.session.max_live_actors as u64,
        ),
        (
            "session.mailbox_capacity",
            settings.session.mailbox_capacity as u64,
        ),
        (
            "pipeline.stage_timeout_ms",
            settings.pipeline.stage_timeout_ms,
        ),
        (
            "pipeline.request_timeout_ms",
            settings.pipeline.request_timeout_ms,
        ),
        (
            "pipeline.mailbox_capacity",
            settings.pipeline.mailbox_capacity as u64,
        ),
        (
            "pipeline.group_commit_max",
            settings.pipeline.group_commit_max as u64,
        ),
        ("supervision.within_s", settings.supervision.within_s),
        (
            "rate_limit.messages_per_minute",
            u64::from(settings.rate_limit.messages_per_minute),
        ),
        (
            "rate_limit.sessions_per_minute",
            u64::from(settings.rate_limit.sessions_per_minute),
        ),
        (
            "rate_limit.staff_logins_per_minute",
            u64::from(settings.rate_limit.staff_logins_per_minute),
        ),
        ("idempotency.ttl_s", settings.idempotency.ttl_s),
        (
            "idempotency.in_flight_lease_s",
            settings.idempotency.in_flight_lease_s,
        ),
        ("responder.timeout_ms", settings.responder.timeout_ms),
        (
            "responder.max_tokens",
            u64::from(settings.responder.max_tokens),
        ),
        (
            "janitor.sweep_interval_minutes",
            settings.janitor.sweep_interval_minutes,
        ),
        (
            "janitor.batch_size",
            settings.janitor.batch_size.max(0) as u64,
        ),
        (
            "janitor.snapshot_interval_minutes",
            settings.janitor.snapshot_interval_minutes,
        ),
        (
            "janitor.rules_poll_interval_s",
            settings.janitor.rules_poll_interval_s,
        ),
        (
            "janitor.orphan_sweep_interval_s",
            settings.janitor.orphan_sweep_interval_s,
        ),
        ("janitor.orphan_grace_s", settings.janitor.orphan_grace_s),
    ];
    if let Some((name, _)) = positive.iter().find(|(_, value)| *value == 0) {
        return Err(invalid(name, "must be greater than 0"));
    }
    for (name, hour) in [
        (
            "session.night_start_hour",
            settings.session.night_start_hour,
        ),
        ("session.night_end_hour", settings.session.night_end_hour),
    ] {
        if hour > 23 {
            return Err(invalid(name, "must be an hour between 0 and 23"));
        }
    }
    if !(0.0..=2.0).contains(&settings.responder.temperature) {
        return Err(invalid("responder.temperature", "must be between 0 and 2"));
    }
    let base_url = &settings.responder.base_url;
    if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
        return Err(invalid("responder.base_url", "must be an http(s) URL"));
    }
    validate_crisis_judge(&settings.crisis.judge)?;
    validate_keys(settings)?;
    if tracing_subscriber::EnvFilter::try_new(&settings.log.level).is_err() {
        return Err(invalid(
            "log.level",
            format!("{:?} is not a valid tracing filter", settings.log.level),
        ));
    }
    Ok(())
}

/// A judge that is switched on must be usable: failing at start beats a safety feature that is
/// silently off. A switched-off judge's settings are not checked, so they can be left half-filled.
fn validate_crisis_judge(judge: &CrisisJudgeConfig) -> Result<(), ConfigError> {
    if !judge.enabled {
        return Ok(());
    }
    let base_url = judge.base_url.trim();
    if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
        return Err(invalid("crisis.judge.base_url", "must be an http(s) URL"));
    }
    if judge.model.trim().is_empty() {
        return Err(invalid("crisis.judge.model", "must not be empty"));
    }
    if judge.timeout_ms == 0 {
        return Err(invalid("crisis.judge.timeout_ms", "must be greater than 0"));
    }
    Ok(())
}

/// The crisis judge's settings, with the responder's API key (`responder.api_key`, also
/// `OPENAI_API_KEY`) unless `crisis.judge.api_key` is set; no key at all means no Authorization
/// header.
pub fn crisis_judge_settings(settings: &Settings) -> CrisisJudgeSettings {
    let judge = &settings.crisis.judge;
    let own = judge.api_key.expose_secret().trim();
    let key = if own.is_empty() {
        &settings.responder.api_key
    } else {
        &judge.api_key
    };
    CrisisJudgeSettings {
        enabled: judge.enabled,
        base_url: judge.base_url.trim().to_owned(),
        model: judge.model.trim().to_owned(),
        api_key: (!key.expose_secret().trim().is_empty()).then(|| key.clone()),
        timeout: Duration::from_millis(judge.timeout_ms),
    }
}

/// Keys that are configured must be well-formed; whether missing ones may be generated depends
/// on the environment and is decided when they are resolved.
fn validate_keys(settings: &Settings) -> Result<(), ConfigError> {
    use cbln_actors::crypto::{MasterKey, TokenHasher};
    let security = &settings.security;
    let encryption = well_formed(
        "security.encryption_key (ENCRYPTION_KEY)",
        security.encryption_key.expose_secret(),
        MasterKey::parse,
    )?;
    well_formed(
        "security.encryption_keys_previous (ENCRYPTION_KEYS_PREVIOUS)",
        security.encryption_keys_previous.expose_secret(),
        MasterKey::parse_list,
    )?;
    let secret = well_formed(
        "security.secret_key (SECRET_KEY)",
        security.secret_key.expose_secret(),
        |secret| TokenHasher::new(secret.as_bytes()),
    )?;
    // One key in both roles would let whoever learns one (say, from a token hash) unlock both.
    if !secret.is_empty() && secret == encryption {
        return Err(invalid(
            "security.secret_key (SECRET_KEY)",
            "must differ from security.encryption_key (ENCRYPTION_KEY): use two independent keys",
        ));
    }
    Ok(())
}

/// `value` trimmed, after `parse` accepted it unless it is empty (not configured); `setting`
/// names it in the error.
fn well_formed<'a, T, E: std::fmt::Display>(
    setting: &str,
    value: &'a str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<&'a str, ConfigError> {
    let value = value.trim();
    if !value.is_empty() {
        parse(value).map_err(|error| invalid(setting, error.to_string()))?;
    }
    Ok(value)
}

/// The hotline file's path: relative paths are inside the config directory.
pub fn hotlines_path(config_dir: &Path, file: &str) -> PathBuf {
    let path = Path::new(file);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        config_dir.join(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LogFormat;

    fn sources(environment: &str, variables: &[(&str, &str)]) -> Sources {
        Sources {
            environment: Some(environment.into()),
            config_dir: PathBuf::from("/nonexistent-config-dir"),
            variables: variables
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn production_defaults_are_compiled_in() {
        let (environment, settings) = load(&sources("production", &[])).unwrap();
        assert_eq!(environment, Environment::Production);
        assert_eq!(settings.log.format, LogFormat::Json);
        assert!(settings.server.cors_origins.is_empty());
        assert_eq!(settings.server.host, "0.0.0.0");
    }

    #[test]
    fn environment_variables_override_with_types() {
        let (_, settings) = load(&sources(
            "development",
            &[
                ("CBLN__SERVER__PORT", "9001"),
                ("CBLN__RATE_LIMIT__ENABLED", "false"),
                ("PORT", "9002"),
            ],
        ))
        .unwrap();
        assert_eq!(
            settings.server.port, 9002,
            "the conventional PORT wins over the generic form"
        );
        assert!(!settings.rate_limit.enabled);
    }

    #[test]
    fn handoff_hours_default_to_all_hours_and_are_checked_at_load() {
        let (_, settings) = load(&sources("production", &[])).unwrap();
        assert!(settings.handoff.opening_hours.is_empty() && settings.handoff.holidays.is_empty());
        assert_eq!(settings.staff.shift_hours, 8);
        let (_, settings) = load(&sources(
            "production",
            &[
                ("CBLN__HANDOFF__OPENING_HOURS", r#"["mon-fri 08:00-22:00"]"#),
                ("CBLN__HANDOFF__HOLIDAYS", r#"["2027-09-02"]"#),
            ],
        ))
        .unwrap();
        assert_eq!(settings.handoff.opening_hours, vec!["mon-fri 08:00-22:00"]);
        let error = load(&sources(
            "production",
            &[(
                "CBLN__HANDOFF__OPENING_HOURS",
                r#"["mon-fri 08:00-22:00", "mon 22:00-02:00"]"#,
            )],
        ))
        .unwrap_err();
        assert_eq!(error.setting, "handoff.opening_hours[1]");
        assert!(error.problem.contains("two spans"), "{}", error.problem);
        let error = load(&sources(
            "production",
            &[("CBLN__HANDOFF__HOLIDAYS", r#"["2027-13-01"]"#)],
        ))
        .unwrap_err();
        assert_eq!(error.setting, "handoff.holidays[0]");
        let error = load(&sources("production", &[("CBLN__STAFF__SHIFT_HOURS", "0")])).unwrap_err();
        assert_eq!(error.setting, "staff.shift_hours");
    }

    #[test]
    fn metrics_listen_is_unset_by_default_and_checked_when_set() {
        let (_, settings) = load(&sources("production", &[])).unwrap();
        assert_eq!(settings.metrics.listen_address(), None);
        let (_, settings) = load(&sources(
            "production",
            &[("CBLN__METRICS__LISTEN", "127.0.0.1:9100")],
        ))
        .unwrap();
        assert_eq!(settings.metrics.listen_address(), Some("127.0.0.1:9100"));
        let (_, settings) = load(&sources("production", &[("CBLN__METRICS__LISTEN", "")])).unwrap();
        assert_eq!(settings.metrics.listen_address(), None, "empty means unset");
        for bad in ["9100", "localhost:9100", "127.0.0.1"] {
            let error =
                load(&sources("production", &[("CBLN__METRICS__LISTEN", bad)])).unwrap_err();
            assert_eq!(error.setting, "metrics.listen", "{bad}: {error}");
        }
    }

    #[test]
    fn crisis_judge_is_off_by_default() {
        let (_, settings) = load(&sources("production", &[])).unwrap();
        let judge = crisis_judge_settings(&settings);
        assert!(!judge.enabled);
        assert_eq!(judge.timeout, Duration::from_millis(1500));
        assert!(judge.api_key.is_none());
        assert!(cbln_actors::crisis_judge::CrisisJudge::from_settings(&judge).is_none());
    }

    #[test]
    fn crisis_judge_borrows_the_responder_key_unless_it_has_its_own() {
        let key_of = |variables: &[(&str, &str)]| {
            let (_, settings) = load(&sources("development", variables)).unwrap();
            crisis_judge_settings(&settings)
                .api_key
                .map(|key| key.expose_secret().to_owned())
        };
        assert_eq!(key_of(&[]), None);
        assert_eq!(
            key_of(&[("OPENAI_API_KEY", "sk-responder")]).as_deref(),
            Some("sk-responder")
        );
        assert_eq!(
            key_of(&[("CBLN__RESPONDER__API_KEY", "sk-responder")]).as_deref(),
            Some("sk-responder")
        );
        assert_eq!(
            key_of(&[
                ("OPENAI_API_KEY", "sk-responder"),
                ("CBLN__CRISIS__JUDGE__API_KEY", "sk-judge"),
            ])
            .as_deref(),
            Some("sk-judge")
        );
        assert_eq!(
            key_of(&[("CBLN__CRISIS__JUDGE__API_KEY", "sk-judge")]).as_deref(),
            Some("sk-judge")
        );
    }

    #[test]
    fn crisis_judge_settings_are_read_and_enabled_ones_checked() {
        let (_, settings) = load(&sources(
            "development",
            &[
                ("CBLN__CRISIS__JUDGE__ENABLED", "true"),
                ("CBLN__CRISIS__JUDGE__BASE_URL", "http://127.0.0.1:11434/v1"),
                ("CBLN__CRISIS__JUDGE__MODEL", "qwen2.5:7b"),
                ("CBLN__CRISIS__JUDGE__TIMEOUT_MS", "900"),
            ],
        ))
        .unwrap();
        let judge = crisis_judge_settings(&settings);
        assert!(judge.enabled);
        assert_eq!(judge.base_url, "http://127.0.0.1:11434/v1");
        assert_eq!(judge.model, "qwen2.5:7b");
        assert_eq!(judge.timeout, Duration::from_millis(900));
        assert!(cbln_actors::crisis_judge::CrisisJudge::from_settings(&judge).is_some());

        for (name, value, setting) in [
            (
                "CBLN__CRISIS__JUDGE__BASE_URL",
                "localhost:11434",
                "crisis.judge.base_url",
            ),
            ("CBLN__CRISIS__JUDGE__MODEL", " ", "crisis.judge.model"),
            (
                "CBLN__CRISIS__JUDGE__TIMEOUT_MS",
                "0",
                "crisis.judge.timeout_ms",
            ),
        ] {
            let error = load(&sources(
                "development",
                &[("CBLN__CRISIS__JUDGE__ENABLED", "true"), (name, value)],
            ))
            .unwrap_err();
            assert_eq!(error.setting, setting, "{error}");
            // Switched off, the same value is left alone.
            assert!(load(&sources("development", &[(name, value)])).is_ok());
        }
        let error = load(&sources(
            "development",
            &[("CBLN__CRISIS__JUDGE__TIMEOUT", "900")],
        ))
        .unwrap_err();
        assert!(
            error.to_string().contains("crisis.judge.timeout"),
            "{error}"
        );
    }

    #[test]
    fn errors_name_the_setting_and_hide_the_value() {
        let error = load(&sources("development", &[("CBLN__SERVER__PORT", "eighty")])).unwrap_err();
        assert!(error.to_string().contains("server.port"), "{error}");
        assert!(!error.to_string().contains("eighty"), "{error}");
        let error = load(&sources(
            "development",
            &[("ENCRYPTION_KEY", "too-short-secret")],
        ))
        .unwrap_err();
        assert!(error.to_string().contains("ENCRYPTION_KEY"), "{error}");
        assert!(!error.to_string().contains("too-short-secret"), "{error}");
    }
}

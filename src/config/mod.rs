//! Configuration: the settings tree, its layering, and the keys and hotlines resolved from it.

mod keys;
mod load;
mod settings;

pub use keys::{ResolvedKeys, resolve_keys};
pub use load::{
    CONVENTIONAL_VARIABLES, DEFAULT_HOTLINES_TOML, DEFAULT_TOML, Sources, crisis_judge_settings,
    hotlines_path, load,
};
pub use settings::*;

use std::net::IpAddr;

/// Which environment file applies and how strict key handling is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// Local work: missing keys are generated into the data directory.
    Development,
    /// Real deployments: keys are required.
    Production,
    /// The test suite.
    Test,
}

impl Environment {
    /// Parses `CBLN_ENV`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "development" => Some(Environment::Development),
            "production" => Some(Environment::Production),
            "test" => Some(Environment::Test),
            _ => None,
        }
    }

    /// The file-name form.
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Development => "development",
            Environment::Production => "production",
            Environment::Test => "test",
        }
    }
}

/// A configuration problem: which setting, and what is wrong with it (never its value).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration error: {setting}: {problem}")]
pub struct ConfigError {
    /// The setting's dotted name, with its variable where it has one.
    pub setting: String,
    /// What is wrong.
    pub problem: String,
}

impl ConfigError {
    fn from_figment(error: figment::Error) -> Self {
        use figment::error::Kind;
        let mut path = error.path.join(".");
        let problem = match &error.kind {
            Kind::UnknownField(field, _) => {
                path = if path.is_empty() {
                    field.clone()
                } else {
                    format!("{path}.{field}")
                };
                "unknown setting (check the spelling)".to_string()
            }
            Kind::MissingField(field) => {
                path = if path.is_empty() {
                    field.to_string()
                } else {
                    format!("{path}.{field}")
                };
                "missing".to_string()
            }
            // The found value is left out: it could be a secret.
            Kind::InvalidType(_, expected) => format!("invalid type, expected {expected}"),
            Kind::InvalidValue(_, expected) => format!("invalid value, expected {expected}"),
            Kind::UnknownVariant(found, expected) => {
                format!(
                    "unknown value {found:?}, expected one of {}",
                    expected.join(", ")
                )
            }
            Kind::InvalidLength(_, expected) => format!("invalid length, expected {expected}"),
            Kind::Message(message) => message.clone(),
            other => other.to_string(),
        };
        let variable = CONVENTIONAL_VARIABLES
            .iter()
            .find(|(_, key)| *key == path)
            .map(|(variable, _)| format!(" ({variable})"))
            .unwrap_or_default();
        ConfigError {
            setting: format!("{path}{variable}"),
            problem,
        }
    }
}

/// An IP address or CIDR range, for trusted proxies.
pub fn parse_network(text: &str) -> Option<ipnet::IpNet> {
    text.parse::<ipnet::IpNet>()
        .ok()
        .or_else(|| text.parse::<IpAddr>().ok().map(ipnet::IpNet::from))
}

/// When replies carry break reminders, from `[session]`.
pub fn notice_settings(session: &SessionSettings) -> cbln_actors::session::NoticeSettings {
    let night = (session.night_start_hour, session.night_end_hour);
    cbln_actors::session::NoticeSettings {
        break_after: std::time::Duration::from_secs(session.break_after_s),
        stretch_gap: std::time::Duration::from_secs(session.stretch_gap_s),
        night_hours: (night.0 != night.1).then_some(night),
    }
}

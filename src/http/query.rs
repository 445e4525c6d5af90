//! Query strings parsed by hand so that each bad parameter gets a 422 naming it.

use super::error::ApiError;
use std::collections::HashMap;

/// The query parameters of a request (last value wins).
pub struct QueryParams(HashMap<String, String>);

impl QueryParams {
    /// Parses the raw query string; a malformed one is a 422.
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw)
            .map_err(|_| ApiError::body("the query string is malformed"))?;
        Ok(QueryParams(pairs.into_iter().collect()))
    }

    /// A text parameter.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// An integer parameter within `range`, or `default` when absent.
    pub fn integer(
        &self,
        name: &str,
        default: i64,
        range: std::ops::RangeInclusive<i64>,
    ) -> Result<i64, ApiError> {
        match self.0.get(name) {
            None => Ok(default),
            Some(text) => {
                let value: i64 = text
                    .trim()
                    .parse()
                    .map_err(|_| ApiError::field(name, format!("{name} must be an integer")))?;
                if range.contains(&value) {
                    Ok(value)
                } else {
                    Err(ApiError::field(
                        name,
                        format!(
                            "{name} must be between {} and {}",
                            range.start(),
                            range.end()
                        ),
                    ))
                }
            }
        }
    }
}

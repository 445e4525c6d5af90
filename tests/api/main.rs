//! HTTP-level tests: a real server on port 0 over real SQLite and PostgreSQL databases.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fault_proxy;
mod helpers;
mod lifecycle;
mod support;

mod chat_page;
mod cli;
mod config_errors;
mod config_hotlines;
mod content_check;
mod conversation_risk;
mod crisis_judge;
mod dashboard;
mod database_outage;
mod errors;
mod feedback;
mod messages;
mod metrics;
mod migrations;
mod notices;
mod openai;
mod operations;
mod privacy;
mod quick_exit;
mod rate_limits;
mod redis_sync;
mod sessions;
mod shutdown;
mod shutdown_faults;
mod simulate;
mod slow_clients;
mod smoke;
mod streaming;

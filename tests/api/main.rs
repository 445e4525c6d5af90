//! HTTP-level tests: a real server on port 0 over real SQLite and PostgreSQL databases.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod browser;
mod fault_proxy;
mod helpers;
mod lifecycle;
#[path = "../../actors/tests/support/log_buffer.rs"]
mod log_buffer;
#[path = "../../actors/tests/support/mock_llm.rs"]
mod mock_llm;
mod processes;
mod staff_support;
mod support;

mod chat_page;
mod cli;
mod config_errors;
mod config_hotlines;
mod content_check;
mod contract;
mod conversation_risk;
mod crisis_judge;
mod dashboard;
mod database_outage;
mod errors;
mod events;
mod feedback;
mod handoff;
mod handoff_races;
mod handoff_staff;
mod haproxy;
mod idempotency;
mod messages;
mod metrics;
mod migrations;
mod notices;
mod openai;
mod operations;
mod privacy;
mod quick_exit;
mod quick_exit_races;
mod rate_limits;
mod redis_sync;
mod sessions;
mod shared_rate_limits;
mod shutdown;
mod shutdown_faults;
mod simulate;
mod slow_clients;
mod smoke;
mod staff;
mod staff_console;
mod staff_prompt;
mod streaming;

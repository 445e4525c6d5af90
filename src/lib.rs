//! Cùng Bạn Lắng Nghe: the HTTP front door, the command line, and their wiring to the actor
//! system in `cbln-actors`.

pub mod cli;
pub mod config;
pub mod http;
pub mod logging;
pub mod monitor;
pub mod open_files;
pub mod redis;
pub mod session_events;
pub mod shutdown;
pub mod simulate;
pub mod startup;

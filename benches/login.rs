//! How long `POST /api/v1/staff/login` takes to refuse an unknown name and a known name with a
//! wrong password: the answer must not tell the two apart, in its body or its time. A real server
//! on a fresh SQLite file, over HTTP on loopback, rate limits off; the two kinds of attempt
//! alternate so that drift in the machine's load falls on both alike.
//!
//! `cargo bench --bench login` (release). Environment: `BENCH_ROUNDS` (default 200) attempts
//! of each kind, after `BENCH_WARMUP` (default 10) of each.
//!
//! This is a benchmark, not a test: it prints figures and asserts nothing about time.

use cbln::config::{Environment, Sources, load};
use cbln::startup::{Application, LoadedConfig};
use cbln_actors::crypto::{MasterKey, generate_secret_key};
use cbln_actors::persistence::{StaffRecord, Store, StoreSettings, Timestamp};
use cbln_actors::staff::{StaffRole, hash_password};
use secrecy::SecretString;
use std::error::Error;
use std::path::PathBuf;
use std::time::{Duration, Instant};

type BoxError = Box<dyn Error>;

const PASSWORD: &str = "the right password, long enough";

fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Mean, median, 95th percentile and spread, in milliseconds.
fn summary(times: &mut [Duration]) -> String {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mean = times.iter().map(|d| ms(*d)).sum::<f64>() / times.len() as f64;
    let at = |q: f64| ms(times[((times.len() - 1) as f64 * q).round() as usize]);
    format!(
        "mean {mean:7.2} ms  median {:7.2} ms  p95 {:7.2} ms  min {:7.2} ms  max {:7.2} ms",
        at(0.5),
        at(0.95),
        at(0.0),
        at(1.0)
    )
}

async fn attempt(
    client: &reqwest::Client,
    url: &str,
    username: &str,
    password: &str,
) -> Result<Duration, BoxError> {
    let started = Instant::now();
    let response = client
        .post(url)
        .json(&serde_json::json!({"username": username, "password": password}))
        .send()
        .await?;
    let status = response.status().as_u16();
    let _ = response.bytes().await;
    let took = started.elapsed();
    if status != 401 {
        return Err(format!("expected 401 for every attempt, got {status}").into());
    }
    Ok(took)
}

#[actix_web::main]
async fn main() -> Result<(), BoxError> {
    // reqwest is built without a default TLS provider: the service's own is installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rounds = env_count("BENCH_ROUNDS", 200);
    let warmup = env_count("BENCH_WARMUP", 10);
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}/login.db", dir.path().display());
    let config_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config");
    let sources = Sources {
        environment: Some("test".into()),
        config_dir: config_dir.clone(),
        variables: vec![],
    };
    let (_, mut settings) = load(&sources)?;
    settings.server.port = 0;
    settings.database.url = SecretString::from(url.clone());
    settings.security.encryption_key = SecretString::from(MasterKey::generate().to_base64());
    settings.security.secret_key = SecretString::from(generate_secret_key());
    settings.security.data_dir = dir.path().display().to_string();
    settings.rate_limit.enabled = false;
    let application = Application::build(LoadedConfig {
        environment: Environment::Test,
        settings,
        config_dir,
    })
    .await?;
    let login = format!("http://127.0.0.1:{}/api/v1/staff/login", application.port());
    let handle = application.handle();
    let server = actix_web::rt::spawn(application.run_until_stopped());

    let store = Store::connect(&StoreSettings {
        url,
        max_connections: 1,
        min_connections: 0,
        acquire_timeout: Duration::from_secs(5),
    })
    .await?;
    store
        .insert_staff(&StaffRecord {
            id: uuid::Uuid::new_v4(),
            username: "lan".into(),
            role: StaffRole::Counsellor,
            password_hash: hash_password(PASSWORD)?,
            disabled: false,
            created_at: Timestamp::now(),
        })
        .await?;
    store.close().await;

    let client = reqwest::Client::new();
    let (mut unknown, mut wrong) = (Vec::new(), Vec::new());
    for round in 0..warmup + rounds {
        let a = attempt(&client, &login, "nobody-by-this-name", "a guess at it").await?;
        let b = attempt(&client, &login, "lan", "a guess at it").await?;
        if round >= warmup {
            unknown.push(a);
            wrong.push(b);
        }
    }
    let mean =
        |times: &[Duration]| times.iter().sum::<Duration>().as_secs_f64() / times.len() as f64;
    let gap = (mean(&wrong) - mean(&unknown)) * 1000.0;
    println!("staff login, {rounds} attempts of each kind (after {warmup}), alternating:");
    println!("  unknown name               {}", summary(&mut unknown));
    println!("  known name, wrong password {}", summary(&mut wrong));
    println!("  difference of the means (known − unknown): {gap:+.2} ms");
    handle.stop(true).await;
    let _ = server.await;
    Ok(())
}
